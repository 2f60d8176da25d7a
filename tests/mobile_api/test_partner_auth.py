"""Partner credentials: signed requests (method and path included), the ±300 s window, rotation with two live
secrets, and the old form only while a partner's deprecation window is open."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from carbon_platform.db import commit
from carbon_platform.errors import AuthenticationFailed
from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent, Partner, PartnerKind
from carbon_platform.services import organisations, partner_auth
from tests import factories as f
from tests.conftest import dispose, make_app
from tests.mobile_api.helpers import assert_error, signed

BODY = json.dumps({"echo": "泰安公交 ping"}).encode()
PING = "/api/v1/partner/ping"
API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def ping(client, headers, body=BODY):
    return client.post(PING, data=body, headers=headers)


def test_a_correctly_signed_request_is_answered(client, partner):
    response = ping(client, signed(partner["key_id"], partner["secret"], BODY, PING))
    assert response.status_code == 200
    assert response.json["key_id"] == partner["key_id"] and response.json["echo"] == "泰安公交 ping"


@pytest.mark.parametrize("tamper", ["body", "key", "secret", "old", "ahead", "missing", "garbage"])
def test_every_bad_signature_is_401(client, partner, tamper):
    key_id, secret, body, stamp = partner["key_id"], partner["secret"], BODY, int(time.time())
    headers = signed(key_id, secret, body, PING, timestamp=stamp)
    if tamper == "body":
        body = json.dumps({"echo": "泰安公交 pong"}).encode()
    elif tamper == "key":
        headers["X-Carbon-Key-Id"] = "pk_someone_else"
    elif tamper == "secret":
        headers = signed(key_id, "ps_wrong", body, PING, timestamp=stamp)
    elif tamper == "old":
        headers = signed(key_id, secret, body, PING, timestamp=stamp - 301)
    elif tamper == "ahead":
        headers = signed(key_id, secret, body, PING, timestamp=stamp + 301)
    elif tamper == "missing":
        del headers["X-Carbon-Signature"]
    elif tamper == "garbage":
        headers["X-Carbon-Timestamp"] = "yesterday"
    assert_error(ping(client, headers, body), 401, "invalid_signature")


def test_the_window_is_three_hundred_seconds_each_way(client, partner):
    now = int(time.time())
    for stamp in (now - 299, now + 299):
        headers = signed(partner["key_id"], partner["secret"], BODY, PING, timestamp=stamp)
        assert ping(client, headers).status_code == 200


def test_rotation_keeps_two_live_secrets_and_revokes_the_oldest(app, client, partner):
    with app.app_context():
        record = db.session.get(Partner, partner["id"])
        second = organisations.rotate_partner_secret(record, actor=f.TEST_ACTOR)
        commit()
    for secret in (partner["secret"], second):  # both work during the changeover
        assert ping(client, signed(partner["key_id"], secret, BODY, PING)).status_code == 200
    with app.app_context():
        record = db.session.get(Partner, partner["id"])
        third = organisations.rotate_partner_secret(record, actor=f.TEST_ACTOR)
        assert len(record.live_secrets()) == 2
        commit()
    assert_error(ping(client, signed(partner["key_id"], partner["secret"], BODY, PING)), 401)
    for secret in (second, third):
        assert ping(client, signed(partner["key_id"], secret, BODY, PING)).status_code == 200
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
    assert_error(ping(client, signed(partner["key_id"], partner["secret"], BODY, PING)), 401)


def test_an_inactive_partner_is_refused(app, client, partner):
    with app.app_context():
        db.session.get(Partner, partner["id"]).active = False
        commit()
    assert_error(ping(client, signed(partner["key_id"], partner["secret"], BODY, PING)), 401)


def legacy_headers(key_id: str, secret: str, body: bytes) -> dict:
    """The first signature form, over key_id.timestamp.raw_body only (computed here, not by the code under test)."""
    stamp = str(int(time.time()))
    mac = hmac.new(secret.encode(), f"{key_id}.{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Carbon-Key-Id": key_id, "X-Carbon-Timestamp": stamp, "X-Carbon-Signature": mac,
            "Content-Type": "application/json"}


def set_legacy_window(app, partner_id: int, until: datetime | None) -> None:
    with app.app_context():
        db.session.get(Partner, partner_id).legacy_signature_until = until
        commit()


def test_a_request_signed_for_one_endpoint_is_refused_at_another(client, partner):
    key_id, secret = partner["key_id"], partner["secret"]
    # Headers captured from a request to /bindings (or sent with the wrong method) do not open /ping.
    for method, path in (("POST", "/api/v1/partner/bindings"), ("POST", "/api/v1/partner/events"),
                         ("PUT", PING), ("POST", PING + "/")):
        assert_error(ping(client, signed(key_id, secret, BODY, path, method=method)), 401, "invalid_signature")
    assert ping(client, signed(key_id, secret, BODY, PING)).status_code == 200


def test_the_legacy_form_works_only_while_the_partners_own_window_is_open(app, client, partner):
    key_id, secret = partner["key_id"], partner["secret"]
    with app.app_context():  # registered now: the old form was never this partner's
        assert db.session.get(Partner, partner["id"]).legacy_signature_until is None
    assert_error(ping(client, legacy_headers(key_id, secret, BODY)), 401, "invalid_signature")
    now = datetime.now(UTC)
    set_legacy_window(app, partner["id"], now + timedelta(days=30))
    assert ping(client, legacy_headers(key_id, secret, BODY)).status_code == 200
    assert ping(client, signed(key_id, secret, BODY, PING)).status_code == 200  # the new form works meanwhile
    assert_error(ping(client, legacy_headers(key_id, "ps_wrong", BODY)), 401)  # and only with a live secret
    set_legacy_window(app, partner["id"], now - timedelta(seconds=1))
    assert_error(ping(client, legacy_headers(key_id, secret, BODY)), 401, "invalid_signature")
    assert ping(client, signed(key_id, secret, BODY, PING)).status_code == 200


def test_the_window_closes_exactly_at_its_date(ctx, backend):
    record, secret = organisations.register_partner(name="泰安光伏", kind=PartnerKind.PV, actor=f.TEST_ACTOR)
    until = datetime(2027, 4, 1, tzinfo=UTC)
    record.legacy_signature_until = until
    commit()
    stamp = str(int(until.timestamp()) - 1)
    mac = hmac.new(secret.encode(), f"{record.key_id}.{stamp}.".encode() + BODY, hashlib.sha256).hexdigest()

    def check(now):
        return partner_auth.verify(record.key_id, stamp, mac, BODY, method="POST", path=PING, now=now)

    assert check(until - timedelta(seconds=1)).id == record.id
    with pytest.raises(AuthenticationFailed):
        check(until)


def test_partners_registered_before_the_change_keep_the_old_form_until_the_documented_date(database, tmp_path):
    app = make_app(database.fresh_url(tmp_path))
    with app.app_context():
        downgrade(revision="0013")
        db.session.execute(sa.text("INSERT INTO partners (name, kind, key_id, active, allowed_scenarios, rate_limit, "
                                   "created_at) VALUES ('老合作方', 'transit', 'pk_old', :t, '[]', '600 per minute', "
                                   ":now)"), {"t": True, "now": datetime.now(UTC).replace(tzinfo=None)})
        db.session.commit()
        upgrade()
        old = db.session.execute(sa.select(Partner).where(Partner.key_id == "pk_old")).scalar_one()
        assert old.legacy_signature_until == partner_auth.LEGACY_SIGNATURE_DEADLINE
        assert "2027-04-01T00:00:00Z" in API_DOC.read_text(encoding="utf-8")  # the date partners were told
        db.session.delete(old)
        db.session.commit()
    dispose(app)


def test_operators_move_one_partners_window_from_the_cli(app, client, partner):
    runner = app.test_cli_runner()
    key_id, secret = partner["key_id"], partner["secret"]
    result = runner.invoke(args=["feeds", "legacy-signatures", key_id, "--until", "2099-06-30T00:00:00Z"])
    assert result.exit_code == 0 and "until 2099-06-30T00:00:00+00:00" in result.output
    assert ping(client, legacy_headers(key_id, secret, BODY)).status_code == 200
    assert runner.invoke(args=["feeds", "legacy-signatures", key_id, "--never"]).exit_code == 0
    assert_error(ping(client, legacy_headers(key_id, secret, BODY)), 401)
    for args in (["--until", "2099-06-30T00:00:00"], ["--until", "soon"], [], ["--never", "--until", "2099-01-01Z"]):
        assert runner.invoke(args=["feeds", "legacy-signatures", key_id, *args]).exit_code != 0, args
    assert runner.invoke(args=["feeds", "legacy-signatures", "pk_nobody", "--never"]).exit_code != 0
    with app.app_context():
        assert db.session.get(Partner, partner["id"]).legacy_signature_until is None
        changes = db.session.execute(sa.select(AuditEvent.details).where(
            AuditEvent.action == "partner.legacy_signature")).scalars().all()
        assert [c.get("until") for c in changes] == ["2099-06-30T00:00:00+00:00", None]  # None: "never"
