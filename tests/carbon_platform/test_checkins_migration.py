"""Migration 0020 (merchant check-ins) up and down on both databases, and the demo merchant's scenes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Merchant
from carbon_platform.services import checkins, reach, rulebooks
from tests import factories as f
from tests.conftest import dispose, make_app


@pytest.fixture
def scratch(database, tmp_path):
    app = make_app(database.fresh_url(tmp_path))
    yield app
    dispose(app)


def columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


def test_0020_adds_the_scenes_and_the_check_ins_and_goes_down_and_up_again(scratch):
    with scratch.app_context():
        downgrade(revision="0019")
        assert "checkin_scenarios" not in columns("merchants")
        assert not sa.inspect(db.engine).has_table("merchant_checkins")
        upgrade()
        assert "checkin_scenarios" in columns("merchants")
        assert {"merchant_id", "account_id", "scenario", "day", "action_id"} <= columns("merchant_checkins")
        shop = f.merchant()
        assert shop.checkin_scenarios == []
        commit()
        downgrade(revision="0019")
        assert "checkin_scenarios" not in columns("merchants")
        upgrade()  # the merchant made before is given the server default: offers nothing
        assert db.session.execute(sa.text("SELECT checkin_scenarios FROM merchants")).scalar() in ("[]", [])


def test_the_demo_merchant_offers_clean_plate_and_own_bag(app, runner):
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    with app.app_context():
        shop = db.session.execute(sa.select(Merchant).where(Merchant.name == "岱宗坊低碳咖啡")).scalar_one()
        assert shop.checkin_scenarios == ["clean_plate", "own_bag"]
        rulebook = rulebooks.rules_in_force(datetime.now(UTC)).rulebook
        ways = reach.Reach(rulebook)
        assert ways.channel(rulebook.scenarios["clean_plate"], checkins.CHANNEL).creditable
        assert ways.channel(rulebook.scenarios["own_bag"], checkins.CHANNEL).reason == reach.ACTIVE_MERCHANT
        assert ways.channel(rulebook.scenarios["taishan_zero_waste"], checkins.CHANNEL).reason == \
            reach.NO_MERCHANT_OFFERS
