"""Bad input in the console is a 4xx page in the console's language, never a 500, and writes nothing:
NUL bytes in filters and form fields (PostgreSQL text cannot hold one), numbers too large for their
column, digits that are not ASCII, NaN and infinity in decimal fields."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdjustmentRequest, AdminRole, Merchant, Reward, StockChange
from tests import factories as f
from tests.admin.helpers import console, csrf_token
from tests.admin.test_merchants import REWARD

NUL = "泰\x00安"
HUGE = str(10**30)

#: Every console list whose URL filters reach SQL, with the filters it reads.
FILTERS = {
    "/admin/audit": ("action", "actor"),
    "/admin/audit.csv": ("action", "actor"),
    "/admin/actions": ("phone", "scenario", "status", "channel"),
    "/admin/review": ("scenario", "reason"),
    "/admin/vouchers": ("q", "status", "merchant_id"),
    "/admin/merchants": ("q",),
    "/admin/people": ("kind", "q"),
    "/admin/dashboard": ("district",),
    "/admin/dashboard/trend_day.csv": ("district",),
}


@pytest.fixture
def admin(app):
    return console(app, AdminRole.SUPER_ADMIN)


def test_a_nul_byte_in_any_filter_is_a_400_page_not_a_500(app, admin):
    for path, names in FILTERS.items():
        for name in names:
            response = admin.get(path, query_string={name: NUL})
            html = response.get_data(as_text=True)
            assert response.status_code == 400, (path, name, response.status_code)
            assert 'data-bad-request="filter"' in html and f"筛选条件“{name}”" in html, (path, name)


def test_every_console_list_survives_nul_bytes_in_every_filter_name_it_might_read(app, admin):
    """Generated from the URL map: each GET page without path parameters, all filter names at once."""
    names = {name for names in FILTERS.values() for name in names} | {"from", "to", "month", "target", "page"}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin/") or rule.arguments or "GET" not in rule.methods:
            continue
        response = admin.get(rule.rule, query_string={name: NUL for name in names})
        assert response.status_code < 500, (rule.rule, response.status_code)


def test_the_filter_page_speaks_english_in_english(app, admin):
    admin.get("/admin/lang/en")
    html = admin.get("/admin/merchants", query_string={"q": NUL}).get_data(as_text=True)
    assert "cannot be searched for" in html


@pytest.mark.parametrize("value", [HUGE, "99999999999", "²", "١٢٣", "9223372036854775808"])
def test_numbers_in_filters_that_no_row_can_match_find_nothing(app, admin, value):
    """Too large for the column, or digits int() or the database will not take: no rows, not a 500."""
    for path, name in (("/admin/vouchers", "q"), ("/admin/vouchers", "merchant_id"), ("/admin/people", "q"),
                       ("/admin/vouchers", "q_code")):
        query = {"q": f"CV1.{value}.x"} if name == "q_code" else {name: value}
        response = admin.get(path, query_string=query)
        assert response.status_code == 200, (path, name, value, response.status_code)


def test_a_nul_byte_in_a_form_field_re_renders_the_form(app, admin):
    with app.app_context():
        f.districts()
        commit()
    response = admin.post("/admin/merchants", data={"csrf_token": csrf_token(admin, "/admin/merchants"),
                                                    "name": NUL, "district": "370902",
                                                    "uscc": "92370902MA3D2N8K40", "address": ""})
    assert response.status_code == 400 and "请填写商户名称" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Merchant)).scalar_one() == 0


@pytest.fixture
def shop(app):
    with app.app_context():
        merchant = f.merchant()
        reward = f.reward(merchant, stock=5)
        commit()
        return merchant.id, reward.id


@pytest.mark.parametrize("field,value", [
    ("points_price", HUGE), ("points_price", str(10**12 + 1)), ("stock", HUGE), ("limit_count", str(2**31)),
    ("face_value_yuan", "1e30"), ("face_value_yuan", "NaN"), ("face_value_yuan", "sNaN"),
    ("face_value_yuan", "Infinity"),
])
def test_oversized_or_non_finite_reward_numbers_re_render_the_form_and_write_nothing(app, admin, shop, field, value):
    merchant_id, reward_id = shop
    data = {**REWARD, "limit_count": "1", "limit_period": "day", field: value}
    for path, page in ((f"/admin/merchants/{merchant_id}/rewards", f"/admin/merchants/{merchant_id}"),
                       (f"/admin/rewards/{reward_id}", f"/admin/rewards/{reward_id}")):
        response = admin.post(path, data={"csrf_token": csrf_token(admin, page), **data})
        assert response.status_code == 400, (path, field, value, response.status_code)
        assert "请检查奖品信息" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Reward)).scalar_one() == 1
        reward = db.session.get(Reward, reward_id)
        assert (reward.points_price, reward.stock, reward.face_value_fen, reward.limit_count) == (300, 5, 1500, None)


def test_a_nul_byte_in_a_reward_name_is_named_in_the_forms_message(app, admin, shop):
    _merchant_id, reward_id = shop
    page = f"/admin/rewards/{reward_id}"
    response = admin.post(page, data={"csrf_token": csrf_token(admin, page), **REWARD, "name_zh": NUL})
    assert response.status_code == 400 and "不能包含空字符" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Reward, reward_id).name_zh == "低碳咖啡一杯"


@pytest.mark.parametrize("delta", [HUGE, str(-10**30), str(10**12 + 1)])
def test_an_oversized_stock_change_re_renders_the_page_and_changes_nothing(app, admin, shop, delta):
    _merchant_id, reward_id = shop
    page = f"/admin/rewards/{reward_id}"
    response = admin.post(f"{page}/stock", data={"csrf_token": csrf_token(admin, page), "delta": delta,
                                                 "reason": "盘点"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Reward, reward_id).stock == 5
        assert db.session.execute(sa.select(sa.func.count()).select_from(StockChange)).scalar_one() == 1  # opening


def test_stock_cannot_be_raised_past_the_ledgers_limit(app, shop):
    from carbon_platform.services import rewards
    from carbon_platform.services.journal import MAX_AMOUNT

    _merchant_id, reward_id = shop
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        rewards.change_stock(reward, MAX_AMOUNT - 5, reason="大批到货", actor=f.TEST_ACTOR)
        with pytest.raises(rewards.Conflict) as refused:
            rewards.change_stock(reward, 1, reason="再来一个", actor=f.TEST_ACTOR)
        assert refused.value.code == "stock_too_high"
        db.session.rollback()


def test_oversized_numbers_in_the_adjustment_and_campaign_forms_are_4xx(app, admin):
    with app.app_context():
        account_id = f.resident().account_id
        commit()
    # Points beyond the form's range are the form's 400; an account number no account has is a 404.
    for target, points, status in ((str(account_id), HUGE, 400), ("99999999999999999999", "5", 404), ("²", "5", 404)):
        response = admin.post("/admin/adjustments", data={"csrf_token": csrf_token(admin, "/admin/adjustments"),
                                                          "target": target, "points": points, "reason": "补录积分"})
        assert response.status_code == status, (target, points, response.status_code)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AdjustmentRequest)).scalar_one() == 0
    from tests.admin.test_campaigns import BEIJING
    from tests.admin.test_campaigns import form as campaign_form

    starts = (datetime.now(BEIJING) + timedelta(days=1)).replace(second=0, microsecond=0)
    for field in ("budget_points", "fixed_bonus", "per_participant_points", "streak_actions"):
        response = admin.post("/admin/campaigns/new", data={
            "csrf_token": csrf_token(admin, "/admin/campaigns/new"), **campaign_form(starts=starts, **{field: HUGE})})
        assert response.status_code == 400 and "须在" in response.get_data(as_text=True), field


def test_bulk_approval_with_ids_no_action_can_have_is_a_400_page(app, admin):
    response = admin.post("/admin/review/bulk-approve", data={
        "csrf_token": csrf_token(admin, "/admin/review"), "action_ids": [HUGE, "²", "9223372036854775808"]})
    assert response.status_code == 400 and "请选择 1 到 50 条行为" in response.get_data(as_text=True)


def test_times_in_year_1_or_9999_re_render_the_form_instead_of_overflowing(app, admin, shop):
    """Converting 0001-01-01 00:00 Beijing time to UTC falls before year 1: an OverflowError, a 500."""
    merchant_id, _reward_id = shop
    for when in ("0001-01-01T00:00", "9999-12-31T23:59"):
        page = f"/admin/merchants/{merchant_id}"
        response = admin.post(f"{page}/rewards", data={"csrf_token": csrf_token(admin, page), **REWARD,
                                                       "starts_at": when})
        assert response.status_code == 400 and "2000 到 2100" in response.get_data(as_text=True), when
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Reward)).scalar_one() == 1
