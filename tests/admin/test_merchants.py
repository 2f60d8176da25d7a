"""Merchants, staff, rewards, vouchers and settlement in the console."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa
from openpyxl import load_workbook
from PIL import Image

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import (
    AdminRole,
    Audience,
    AuditEvent,
    Merchant,
    Reward,
    StockChange,
    Voucher,
    VoucherStatus,
)
from carbon_platform.services import auth, vouchers
from tests import factories as f
from tests.admin.helpers import console, csrf_token

REWARD = {"name_zh": "低碳咖啡一杯", "name_en": "A low-carbon coffee", "points_price": "300", "stock": "2",
          "voucher_days": "30", "face_value_yuan": "15.00", "funder": "city", "limit_period": "",
          "refund_on_expiry": "y", "active": "y", "starts_at": "", "ends_at": "", "districts": ""}


def post(client, path, data, page=None):
    return client.post(path, data={"csrf_token": csrf_token(client, page or path), **data})


def test_a_merchant_manager_onboards_a_merchant_with_staff_and_a_reward(app):
    client = console(app, AdminRole.MERCHANT_MANAGER)
    created = post(client, "/admin/merchants", {"name": "泰山低碳咖啡", "district": "370902",
                                                "uscc": "92370902MA3D2N8K40", "address": "泰山区东岳大街 1 号"})
    assert created.status_code == 302, created.get_data(as_text=True)
    with app.app_context():
        merchant_id = db.session.execute(sa.select(Merchant.id)).scalar_one()
    page = f"/admin/merchants/{merchant_id}"
    staff = post(client, f"{page}/staff", {"phone": "13800001111", "display_name": "小李", "role": "cashier"}, page)
    assert staff.status_code == 302
    reward = post(client, f"{page}/rewards", REWARD, page)
    assert reward.status_code == 302, reward.get_data(as_text=True)
    reward_page = reward.headers["Location"]
    stock = post(client, f"{reward_page}/stock", {"delta": "5", "reason": "到货"}, reward_page)
    too_many = post(client, f"{reward_page}/stock", {"delta": "-99", "reason": "盘亏"}, reward_page)
    assert stock.status_code == 302 and too_many.status_code == 409  # stock_too_low
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(picture, "PNG")
    uploaded = client.post(f"{reward_page}/picture", data={"csrf_token": csrf_token(client, reward_page),
                                                           "picture": (io.BytesIO(picture.getvalue()), "cup.png")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 302
    with app.app_context():
        item = db.session.execute(sa.select(Reward)).scalar_one()
        assert (item.stock, item.face_value_fen, item.funder.value) == (7, 1500, "city")
        assert item.picture and item.picture.endswith(".jpg")
        changes = db.session.execute(sa.select(StockChange.delta, StockChange.reason)
                                     .order_by(StockChange.id)).all()
        assert changes == [(2, "opening stock"), (5, "到货")]
        actions = set(db.session.execute(sa.select(AuditEvent.action)).scalars())
    assert {"merchant.register", "merchant.staff.add", "reward.create", "reward.stock", "reward.picture"} <= actions
    html = client.get(reward_page).get_data(as_text=True)
    assert "data-stock>7<" in html and "到货" in html


def test_an_auditor_sees_merchants_and_settlement_but_changes_nothing(app):
    with app.app_context():
        merchant_id = f.merchant(name="泰山低碳咖啡").id
        commit()
    client = console(app, AdminRole.AUDITOR)
    assert client.get(f"/admin/merchants/{merchant_id}").status_code == 200
    assert client.get("/admin/settlement").status_code == 200
    refused = post(client, f"/admin/merchants/{merchant_id}/rewards", REWARD, "/admin/merchants")
    assert refused.status_code == 403


def world_with_vouchers(app):
    with app.app_context():
        merchant = f.merchant(name="泰山低碳咖啡")
        cashier = f.staff(merchant)
        reward = f.reward(merchant, stock=5)
        resident = f.resident(phone="13800002222")
        f.fund(resident.account_id, 1000)
        used = vouchers.redeem(resident, reward.id, client_key="a").voucher
        open_one = vouchers.redeem(resident, reward.id, client_key="b").voucher
        vouchers.consume(cashier, vouchers.code_of(used), "scan-0001")
        ids = {"merchant": merchant.id, "used": used.id, "open": open_one.id,
               "short": vouchers.short_code_of(open_one.id, open_one.nonce)}
        commit()
    return ids


def test_vouchers_are_found_by_short_code_or_phone_and_cancelled_with_a_reason(app):
    ids = world_with_vouchers(app)
    client = console(app, AdminRole.OPERATOR)
    by_code = client.get(f"/admin/vouchers?q={ids['short'][:5]}-{ids['short'][5:]}").get_data(as_text=True)
    assert f'data-voucher="{ids["open"]}"' in by_code and f'data-voucher="{ids["used"]}"' not in by_code
    by_phone = client.get("/admin/vouchers?q=13800002222").get_data(as_text=True)
    assert by_phone.count("data-voucher=") == 2
    nothing = client.get("/admin/vouchers?q=not-a-thing").get_data(as_text=True)
    assert "data-voucher=" not in nothing
    no_reason = post(client, f"/admin/vouchers/{ids['open']}/cancel", {"reason": ""}, "/admin/vouchers")
    cancelled = post(client, f"/admin/vouchers/{ids['open']}/cancel", {"reason": "居民来电要求"}, "/admin/vouchers")
    assert no_reason.status_code == 302 and cancelled.status_code == 302
    with app.app_context():
        voucher = db.session.get(Voucher, ids["open"])
        assert (voucher.status, voucher.refunded_points) == (VoucherStatus.CANCELLED, 300)
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "voucher.cancel")).scalar_one()
        assert event.details["reason"] == "居民来电要求" and event.actor_type == "admin"


def test_settlement_lists_used_vouchers_per_merchant_and_downloads_as_csv(app):
    ids = world_with_vouchers(app)
    client = console(app, AdminRole.MERCHANT_MANAGER)
    html = client.get("/admin/settlement").get_data(as_text=True)
    assert "泰山低碳咖啡" in html and "15.00" in html
    assert 'data-figure="outstanding_points">400<' in html
    download = client.get("/admin/settlement.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["商户编号", "商户", "出资方", "核销张数", "面值合计（元）"]
    assert rows[1][:5] == [str(ids["merchant"]), "泰山低碳咖啡", "市碳普惠基金", "1", "15.00"]
    sheet = load_workbook(io.BytesIO(client.get("/admin/settlement.xlsx").data)).active
    assert [c.value for c in sheet[1]][:5] == ["商户编号", "商户", "出资方", "核销张数", "面值合计（元）"]
    assert sheet.freeze_panes == "A2" and sheet[1][0].font.bold
    merchant_id, name, funder, used, face_value, first, last = sheet[2]
    assert (merchant_id.value, name.value, funder.value) == (ids["merchant"], "泰山低碳咖啡", "市碳普惠基金")
    assert used.value == 1
    assert face_value.value == 15 and face_value.number_format == "#,##0.00"
    assert first.value.date().isoformat() == rows[1][5] and first.number_format == "yyyy-mm-dd"  # a real date
    assert [c.value for c in sheet[3]][:5] == ["合计", None, None, 1, 15]
    with app.app_context():
        assert len(db.session.execute(sa.select(AuditEvent.action)
                                      .where(AuditEvent.action == "settlement.export")).all()) == 2


def test_a_throttled_scanner_raises_an_alert_on_the_dashboard(app):
    with app.app_context():
        merchant = f.merchant(name="泰山低碳咖啡")
        staff = f.staff(merchant)
        token = auth.issue_tokens(Audience.MERCHANT_STAFF, staff.id).access_token
        commit()
    app.config["VOUCHER_SCAN_FAILURE_LIMIT"] = "2 per 10 minutes"
    api = app.test_client()
    for n in range(3):
        api.post("/api/v1/merchant/vouchers/verify", headers={"Authorization": f"Bearer {token}"},
                 json={"code": f"ABCDE{n:05d}"})
    html = console(app, AdminRole.OPERATOR).get("/admin/dashboard").get_data(as_text=True)
    assert 'data-alert="voucher.scan_throttled"' in html


def test_a_merchant_manager_ticks_the_check_in_scenes_a_merchant_offers(app):
    client = console(app, AdminRole.MERCHANT_MANAGER)
    with app.app_context():
        shop_id = f.merchant(name="泰山光盘餐厅").id
        commit()
    path = f"/admin/merchants/{shop_id}"
    page = client.get(path).get_data(as_text=True)
    # the in-force rulebook's merchant_checkin scenarios, by name, as checkboxes: nobody types a code
    for value, name in (("clean_plate", "光盘行动"), ("own_bag", "自带购物袋"), ("taishan_zero_waste", "泰山无废景区")):
        assert f'type="checkbox" value="{value}"' in page and name in page
    assert 'value="bus_ride"' not in page
    saved = client.post(f"{path}/checkin-scenes", data={"csrf_token": csrf_token(client, path),
                                                        "scenarios": ["clean_plate", "own_bag"]})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Merchant, shop_id).checkin_scenarios == ["clean_plate", "own_bag"]
        assert db.session.scalar(sa.select(AuditEvent.action).where(
            AuditEvent.action == "merchant.checkin_scenarios")) == "merchant.checkin_scenarios"
    page = client.get(path).get_data(as_text=True)
    ticked = set(re.findall(r'<input checked[^>]*name="scenarios"[^>]*value="([a-z_]+)"', page))
    assert ticked == {"clean_plate", "own_bag"}
    refused = client.post(f"{path}/checkin-scenes", data={"csrf_token": csrf_token(client, path),
                                                          "scenarios": ["clean_plate", "bus_ride"]})
    assert refused.status_code == 400
    assert "现行规则中没有这个商户打卡场景：bus_ride" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Merchant, shop_id).checkin_scenarios == ["clean_plate", "own_bag"]  # unchanged
    cleared = client.post(f"{path}/checkin-scenes", data={"csrf_token": csrf_token(client, path)})
    assert cleared.status_code == 302
    with app.app_context():
        assert db.session.get(Merchant, shop_id).checkin_scenarios == []
    no_csrf = client.post(f"{path}/checkin-scenes", data={"scenarios": ["own_bag"]})
    assert no_csrf.status_code == 400
