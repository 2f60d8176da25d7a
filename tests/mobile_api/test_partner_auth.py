"""Partner credentials: signed requests, the ±300 s window, rotation with two live secrets."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent, Partner, PartnerKind
from carbon_platform.services import organisations
from tests import factories as f
from tests.mobile_api.helpers import assert_error, signed

BODY = json.dumps({"echo": "泰安公交 ping"}).encode()


@pytest.fixture
def partner(app):
    with app.app_context():
        partner, secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT,
                                                         actor=f.TEST_ACTOR)
        commit()
        return {"id": partner.id, "key_id": partner.key_id, "secret": secret}


def ping(client, headers, body=BODY):
    return client.post("/api/v1/partner/ping", data=body, headers=headers)


def test_a_correctly_signed_request_is_answered(client, partner):
    response = ping(client, signed(partner["key_id"], partner["secret"], BODY))
    assert response.status_code == 200
    assert response.json["key_id"] == partner["key_id"] and response.json["echo"] == "泰安公交 ping"


@pytest.mark.parametrize("tamper", ["body", "key", "secret", "old", "ahead", "missing", "garbage"])
def test_every_bad_signature_is_401(client, partner, tamper):
    key_id, secret, body, stamp = partner["key_id"], partner["secret"], BODY, int(time.time())
    headers = signed(key_id, secret, body, timestamp=stamp)
    if tamper == "body":
        body = json.dumps({"echo": "泰安公交 pong"}).encode()
    elif tamper == "key":
        headers["X-Carbon-Key-Id"] = "pk_someone_else"
    elif tamper == "secret":
        headers = signed(key_id, "ps_wrong", body, timestamp=stamp)
    elif tamper == "old":
        headers = signed(key_id, secret, body, timestamp=stamp - 301)
    elif tamper == "ahead":
        headers = signed(key_id, secret, body, timestamp=stamp + 301)
    elif tamper == "missing":
        del headers["X-Carbon-Signature"]
    elif tamper == "garbage":
        headers["X-Carbon-Timestamp"] = "yesterday"
    assert_error(ping(client, headers, body), 401, "invalid_signature")


def test_the_window_is_three_hundred_seconds_each_way(client, partner):
    now = int(time.time())
    for stamp in (now - 299, now + 299):
        assert ping(client, signed(partner["key_id"], partner["secret"], BODY, timestamp=stamp)).status_code == 200


def test_rotation_keeps_two_live_secrets_and_revokes_the_oldest(app, client, partner):
    with app.app_context():
        record = db.session.get(Partner, partner["id"])
        second = organisations.rotate_partner_secret(record, actor=f.TEST_ACTOR)
        commit()
    for secret in (partner["secret"], second):  # both work during the changeover
        assert ping(client, signed(partner["key_id"], secret, BODY)).status_code == 200
    with app.app_context():
        record = db.session.get(Partner, partner["id"])
        third = organisations.rotate_partner_secret(record, actor=f.TEST_ACTOR)
        assert len(record.live_secrets()) == 2
        commit()
    assert_error(ping(client, signed(partner["key_id"], partner["secret"], BODY)), 401)
    for secret in (second, third):
        assert ping(client, signed(partner["key_id"], secret, BODY)).status_code == 200
    with app.app_context():
        actions = db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.target_type == "partners")
                                     ).scalars().all()
        assert actions == ["partner.register", "partner.secret.rotate", "partner.secret.rotate"]


def test_a_revoked_secret_stops_working(app, client, partner):
    with app.app_context():
        record = db.session.get(Partner, partner["id"])
        organisations.rotate_partner_secret(record, actor=f.TEST_ACTOR)
        organisations.revoke_partner_secret(record, record.live_secrets()[0].id, actor=f.TEST_ACTOR)
        commit()
    assert_error(ping(client, signed(partner["key_id"], partner["secret"], BODY)), 401)


def test_an_inactive_partner_is_refused(app, client, partner):
    with app.app_context():
        db.session.get(Partner, partner["id"]).active = False
        commit()
    assert_error(ping(client, signed(partner["key_id"], partner["secret"], BODY)), 401)
