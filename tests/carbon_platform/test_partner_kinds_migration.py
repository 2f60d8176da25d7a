"""Migration 0019: the partner and binding kinds every scenario's channel needs, up and down, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import IntegrityError

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import BindingKind, PartnerKind
from carbon_platform.services import consent, organisations
from tests import factories as f
from tests.conftest import dispose, make_app

NEW_PARTNER_KINDS = ("bike_share", "vehicle", "recycling", "forestry")
NEW_BINDING_KINDS = ("bike_share_account", "recycling_card", "forestry_account")


def add_partner(kind: str, key_id: str) -> None:
    db.session.execute(sa.text("INSERT INTO partners (name, kind, key_id, active, allowed_scenarios, rate_limit, "
                               "created_at) VALUES ('合作方', :kind, :key_id, :t, '[]', '600 per minute', :now)"),
                       {"kind": kind, "key_id": key_id, "t": True, "now": datetime.now(UTC).replace(tzinfo=None)})
    db.session.commit()


def refused(kind: str, key_id: str) -> bool:
    try:
        add_partner(kind, key_id)
    except IntegrityError:
        db.session.rollback()
        return True
    return False


@pytest.fixture
def scratch(database, tmp_path):
    app = make_app(database.fresh_url(tmp_path))
    yield app
    dispose(app)


def test_the_new_kinds_are_refused_before_0019_and_taken_after_it(scratch):
    with scratch.app_context():
        downgrade(revision="0018")
        assert all(refused(kind, f"pk_{kind}") for kind in NEW_PARTNER_KINDS)  # the old CHECK constraint
        add_partner("transit", "pk_bus")
        upgrade()
        for kind in NEW_PARTNER_KINDS:
            add_partner(kind, f"pk_{kind}")
        assert refused("ferry", "pk_ferry")  # the new constraint still holds the list
        kinds = db.session.execute(sa.text("SELECT kind FROM partners ORDER BY id")).scalars().all()
        assert kinds == ["transit", *NEW_PARTNER_KINDS]


def test_a_binding_of_each_new_kind_is_kept_after_0019(scratch):
    with scratch.app_context():
        upgrade()
        partner, _secret = organisations.register_partner(name="泰安再生资源", kind=PartnerKind.RECYCLING,
                                                          actor=f.TEST_ACTOR)
        resident = f.resident()
        for n, kind in enumerate(NEW_BINDING_KINDS):
            f.proven_binding(resident.account_id, partner, BindingKind(kind), f"ID{n}0000")
        commit()
        stored = db.session.execute(sa.text("SELECT kind FROM bindings ORDER BY id")).scalars().all()
        assert stored == list(NEW_BINDING_KINDS)
        assert consent.accounts_bound_to([consent.binding_key(BindingKind.RECYCLING_CARD, "ID10000")]) != {}


def test_0019_goes_down_only_when_nothing_uses_its_kinds_and_up_again(scratch, caplog):
    with scratch.app_context():
        upgrade()
        downgrade(revision="0019")  # 0019 as the head it was written against (later revisions follow it)
        add_partner("bike_share", "pk_bikes")
        with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's RuntimeError and exits
            downgrade(revision="0018")
        assert "0019 cannot be undone" in caplog.text
        db.session.rollback()
        assert db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0019"
        db.session.execute(sa.text("DELETE FROM partners WHERE key_id = 'pk_bikes'"))
        db.session.commit()
        downgrade(revision="0018")
        assert refused("bike_share", "pk_bikes")
        upgrade()
        add_partner("bike_share", "pk_bikes")
