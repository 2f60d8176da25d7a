"""Today at a merchant: the vouchers its till consumed today (Beijing) and the settlement month's totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.clock import city_day, utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Voucher
from carbon_platform.services import settlements, vouchers
from points_rules import Period, period_bounds
from tests import factories as f
from tests.mobile_api.helpers import assert_error
from tests.mobile_api.test_rewards import resident_token, staff_token


def _consumed(resident, reward, staff, nonce: str, at: datetime | None = None) -> int:
    voucher = vouchers.redeem(resident, reward.id, client_key=f"today-{nonce}").voucher
    assert vouchers.consume(staff, vouchers.code_of(voucher), f"scan-nonce-{nonce}").outcome == "consumed"
    if at is not None:
        db.session.execute(sa.update(Voucher).where(Voucher.id == voucher.id).values(consumed_at=at))
    return voucher.id


@pytest.fixture
def till(app):
    """A merchant with two cashiers; vouchers consumed now (city- and merchant-funded), yesterday, last month,
    one at another merchant, and one issued but unused."""
    with app.app_context():
        seeding.load_reference()
        shop, other = f.merchant(name="泰山低碳咖啡"), f.merchant(name="别家")
        anna, ben = f.staff(shop), f.staff(shop)
        anna.display_name = "安娜"
        coffee = f.reward(shop, points_price=100, face_value_fen=1500, funder="city")
        cake = f.reward(shop, points_price=100, face_value_fen=800, funder="merchant", name_zh="蛋糕",
                        name_en="Cake")
        elsewhere = f.reward(other, points_price=100, face_value_fen=9900)
        resident = f.resident()
        f.fund(resident.account_id, 10_000)
        now = utcnow()
        day_start, _ = period_bounds(now, Period.DAY)
        month_start, _ = period_bounds(now, Period.MONTH)
        ids = {
            "coffee": _consumed(resident, coffee, anna, "a"),
            "cake": _consumed(resident, cake, ben, "b"),
            "yesterday": _consumed(resident, coffee, anna, "c", day_start - timedelta(seconds=1)),
            "last_month": _consumed(resident, coffee, anna, "d", month_start - timedelta(seconds=1)),
            "elsewhere": _consumed(resident, elsewhere, f.staff(other), "e"),
        }
        vouchers.redeem(resident, coffee.id, client_key="today-unused")
        world = {"ids": ids, "anna": staff_token(anna), "yesterday_in_month": day_start > month_start,
                 "resident": resident_token()[0]}
        commit()
        return world


def test_today_lists_this_merchants_consumptions_and_the_months_totals(client, app, till):
    before = city_day(utcnow())
    response = client.get("/api/v1/merchant/today", headers=till["anna"])
    assert response.status_code == 200
    body = response.json
    ids = till["ids"]
    with app.app_context():
        short = vouchers.short_code_of(ids["coffee"], db.session.get(Voucher, ids["coffee"]).nonce)
    assert body["date"] in {before.isoformat(), city_day(utcnow()).isoformat()}  # Beijing's date, not UTC's
    assert (body["count"], body["face_value_total"]) == (2, 2300)
    assert [c["voucher_id"] for c in body["consumptions"]] in ([ids["cake"], ids["coffee"]],
                                                               [ids["coffee"], ids["cake"]])
    coffee = next(c for c in body["consumptions"] if c["voucher_id"] == ids["coffee"])
    assert coffee == {"voucher_id": ids["coffee"], "short_code": short, "reward_name_zh": "低碳咖啡一杯",
                      "reward_name_en": "A low-carbon coffee", "face_value": 1500, "funder": "city",
                      "consumed_at": coffee["consumed_at"], "staff_name": "安娜"}
    settlement = body["settlement"]
    month_start, month_end = period_bounds(utcnow(), Period.MONTH)
    assert datetime.fromisoformat(settlement["period_start"]) == month_start
    assert datetime.fromisoformat(settlement["period_end"]) == month_end
    extra = 1 if till["yesterday_in_month"] else 0  # yesterday's coffee counts unless today is the 1st
    assert (settlement["count"], settlement["face_value_total"]) == (2 + extra, 2300 + 1500 * extra)
    assert settlement["by_funder"] == [{"funder": "city", "count": 1 + extra, "face_value_total": 1500 * (1 + extra)},
                                       {"funder": "merchant", "count": 1, "face_value_total": 800}]


def test_the_month_and_day_follow_beijing_not_utc(app, till):
    with app.app_context():
        merchant_id = db.session.get(Voucher, till["ids"]["coffee"]).merchant_id
        # 2026-12-31 17:30 UTC is already 2027-01-01 in Beijing: a new day and a new settlement month.
        new_year = settlements.merchant_day(merchant_id, datetime(2026, 12, 31, 17, 30, tzinfo=UTC))
        assert str(new_year.day) == "2027-01-01"
        assert new_year.settlement.period_start == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
        assert new_year.settlement.period_end == datetime(2027, 1, 31, 16, 0, tzinfo=UTC)


def test_only_staff_tokens_see_today(client, till):
    assert_error(client.get("/api/v1/merchant/today"), 401, "invalid_token")
    assert_error(client.get("/api/v1/merchant/today", headers=till["resident"]), 403)
