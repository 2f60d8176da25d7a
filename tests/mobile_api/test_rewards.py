"""The reward mall over the API: browsing, redeeming exactly once, vouchers and their QR codes, the till."""

from __future__ import annotations

import io
import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from PIL import Image

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Audience, AuditEvent, CarbonAccount, Merchant, Reward, Voucher, VoucherStatus
from carbon_platform.services import auth
from tests import factories as f
from tests.mobile_api.helpers import assert_error
from tests.serving import race, served

BEIJING = timezone(timedelta(hours=8))
_keys = itertools.count()


def resident_token(points: int = 0, **over) -> tuple[dict, int]:
    """(headers, account id) of a resident with ``points`` available, logged in (inside an app context)."""
    resident = f.resident(**over)
    if points:
        f.fund(resident.account_id, points)
    pair = auth.issue_tokens(Audience.RESIDENT, resident.id)
    return {"Authorization": f"Bearer {pair.access_token}"}, resident.account_id


def staff_token(staff) -> dict:
    return {"Authorization": f"Bearer {auth.issue_tokens(Audience.MERCHANT_STAFF, staff.id).access_token}"}


@pytest.fixture
def mall(app):
    with app.app_context():
        seeding.load_reference()
        merchant = f.merchant(name="泰山低碳咖啡")
        world = {
            "merchant_id": merchant.id,
            "coffee": f.reward(merchant, stock=5, points_price=300).id,
            "tea": f.reward(merchant, name_zh="绿茶", name_en="Green tea", stock=5, points_price=1200).id,
            "local": f.reward(merchant, name_zh="岱岳区专享", name_en="Daiyue only", districts=["370911"]).id,
            "cashier": staff_token(f.staff(merchant)),
            "stranger": staff_token(f.staff(f.merchant(name="别家商户"))),
        }
        world["resident"], world["account_id"] = resident_token(1000, district_code="370902")
        commit()
    return world


def fetch(client, url: str, headers: dict) -> bytes:
    """A file response's bytes (the response is closed: no file handle left open)."""
    with client.get(url, headers=headers) as response:
        assert response.status_code == 200 and response.mimetype == "image/png", response.status_code
        return response.data


def redeem(client, headers, reward_id, key=None):
    key = key or f"key-{next(_keys)}"
    return client.post(f"/api/v1/rewards/{reward_id}/redemptions", headers={**headers, "Idempotency-Key": key},
                       json={})


def test_browse_filters_by_district_merchant_and_what_i_can_afford(client, mall):
    names = lambda response: [r["name_en"] for r in response.json]  # noqa: E731
    everything = client.get("/api/v1/rewards", headers=mall["resident"])
    assert everything.status_code == 200 and names(everything) == ["A low-carbon coffee", "Daiyue only",
                                                                     "Green tea"]
    assert names(client.get("/api/v1/rewards?district=370902", headers=mall["resident"])) == [
        "A low-carbon coffee", "Green tea"]
    assert names(client.get("/api/v1/rewards?affordable=true", headers=mall["resident"])) == [
        "A low-carbon coffee", "Daiyue only"]
    assert client.get(f"/api/v1/rewards?merchant_id={mall['merchant_id'] + 99}", headers=mall["resident"]).json == []
    detail = client.get(f"/api/v1/rewards/{mall['coffee']}", headers=mall["resident"]).json
    assert (detail["points_price"], detail["face_value_fen"], detail["stock"]) == (300, 1500, 5)
    assert_error(client.get(f"/api/v1/rewards/{mall['coffee']}/picture", headers=mall["resident"]), 404)


def test_the_district_filter_is_applied_before_paging_so_the_header_counts_what_it_returns(client, app, mall):
    with app.app_context():
        merchant = db.session.get(Merchant, mall["merchant_id"])
        for i in range(4):  # cheap rewards of another district: they filled the first page before the filter
            f.reward(merchant, name_zh=f"岱岳区{i}", name_en=f"Daiyue {i}", points_price=1 + i, districts=["370911"])
        f.reward(merchant, name_zh="两区通用", name_en="Both districts", points_price=50,
                 districts=["370902", "370911"])
        commit()
    url = "/api/v1/rewards?district=370902&page_size=2"
    first, second = (client.get(f"{url}&page={n}", headers=mall["resident"]) for n in (1, 2))
    assert [r["name_en"] for r in first.json + second.json] == ["Both districts", "A low-carbon coffee",
                                                                 "Green tea"]
    header = json.loads(first.headers["X-Pagination"])
    assert (header["total"], header["total_pages"], len(first.json)) == (3, 2, 2)
    assert json.loads(second.headers["X-Pagination"])["total"] == 3


def test_redeem_once_per_key_and_each_refusal_has_its_code(client, mall):
    first = redeem(client, mall["resident"], mall["coffee"], "k-1")
    assert first.status_code == 201 and first.json["status"] == "issued" and not first.json["replayed"]
    again = redeem(client, mall["resident"], mall["coffee"], "k-1")
    assert again.status_code == 201 and again.json["id"] == first.json["id"] and again.json["replayed"]
    assert_error(redeem(client, mall["resident"], mall["tea"], "k-1"), 409, "idempotency_key_reused")
    assert_error(redeem(client, mall["resident"], mall["tea"]), 409, "insufficient_points")
    assert_error(redeem(client, mall["resident"], mall["local"]), 403, "not_eligible")
    assert_error(client.post(f"/api/v1/rewards/{mall['coffee']}/redemptions", headers=mall["resident"], json={}),
                 422, "idempotency_key_required")
    me = client.get("/api/v1/me", headers=mall["resident"]).json
    assert me["balances"]["available"] == 700


def test_my_vouchers_their_qr_code_and_cancelling(client, app, mall):
    voucher = redeem(client, mall["resident"], mall["coffee"]).json
    listed = client.get("/api/v1/me/vouchers?status=issued", headers=mall["resident"]).json
    assert [v["id"] for v in listed] == [voucher["id"]]
    detail = client.get(f"/api/v1/me/vouchers/{voucher['id']}", headers=mall["resident"]).json
    assert detail["code"].startswith("CV1.") and len(detail["short_code"]) == 10
    png, again = fetch(client, detail["qr_url"], mall["resident"]), fetch(client, detail["qr_url"], mall["resident"])
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.height > image.width  # the QR symbol with its caption below
    assert again == png  # rendered once, then served from the cache
    with app.app_context():
        other, _ = resident_token()
        commit()
    assert_error(client.get(detail["qr_url"], headers=other), 404)
    assert_error(client.get(f"/api/v1/me/vouchers/{voucher['id']}", headers=other), 404)
    cancelled = client.post(f"/api/v1/me/vouchers/{voucher['id']}/cancel", headers=mall["resident"], json={})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["refunded_points"] == 300
    assert client.get("/api/v1/me", headers=mall["resident"]).json["balances"]["available"] == 1000
    assert_error(client.post(f"/api/v1/me/vouchers/{voucher['id']}/cancel", headers=mall["resident"], json={}),
                 409, "voucher_not_open")


def test_the_till_verifies_consumes_once_and_lists_its_consumptions(client, mall):
    voucher = redeem(client, mall["resident"], mall["coffee"]).json
    code, short = voucher["code"], voucher["short_code"]
    verified = client.post("/api/v1/merchant/vouchers/verify", headers=mall["cashier"], json={"code": short})
    assert verified.status_code == 200 and verified.json["outcome"] == "valid"
    body = {"code": code, "scan_nonce": "scan-00000001"}
    first = client.post("/api/v1/merchant/vouchers/consume", headers=mall["cashier"], json=body)
    retry = client.post("/api/v1/merchant/vouchers/consume", headers=mall["cashier"], json=body)
    other = client.post("/api/v1/merchant/vouchers/consume", headers=mall["cashier"],
                        json={"code": code, "scan_nonce": "scan-00000002"})
    assert [r.json["outcome"] for r in (first, retry, other)] == ["consumed", "consumed", "already_used"]
    assert other.json["consumed_at"] == first.json["consumed_at"]
    body = assert_error(client.post("/api/v1/merchant/vouchers/verify", headers=mall["stranger"],
                                    json={"code": code}), 403, "other_merchant")
    assert body["details"] == {}
    assert_error(client.post("/api/v1/merchant/vouchers/verify", headers=mall["resident"], json={"code": code}), 403)
    now = datetime.now(BEIJING)
    window = {"start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=1)).isoformat()}
    rows = client.get("/api/v1/merchant/consumptions", headers=mall["cashier"], query_string=window).json
    assert [(r["voucher_id"], r["face_value_fen"], r["funder"]) for r in rows] == [(voucher["id"], 1500, "city")]
    assert client.get("/api/v1/merchant/consumptions", headers=mall["stranger"], query_string=window).json == []


def test_guessing_codes_is_throttled_per_staff_member_across_verify_and_consume_with_one_alert(client, app, mall):
    app.config["VOUCHER_SCAN_FAILURE_LIMIT"] = "3 per 10 minutes"
    guesses = (f"ABCDE{n:05d}" for n in itertools.count())

    def scan(action: str, headers=mall["cashier"], code=None):
        body = {"code": code or next(guesses)} | ({"scan_nonce": "scan-00000001"} if action == "consume" else {})
        return client.post(f"/api/v1/merchant/vouchers/{action}", headers=headers, json=body)

    # verify and consume draw on one allowance: two wrong verifies and one wrong consume use it up
    assert [scan(a).status_code for a in ("verify", "consume", "verify")] == [404, 404, 404]
    voucher = redeem(client, mall["resident"], mall["coffee"]).json
    refused = [scan(a) for a in ("consume", "verify", "consume", "verify")]
    refused.append(scan("consume", code=voucher["code"]))  # a good code too: it is not looked at
    for response in refused:
        assert_error(response, 429, "rate_limited")
        assert 1 <= int(response.headers["Retry-After"]) <= 600, response.headers
    with app.app_context():
        alerts = db.session.execute(sa.select(AuditEvent.id).where(AuditEvent.action == "voucher.scan_throttled")).all()
        assert db.session.execute(sa.select(Voucher.status).where(Voucher.id == voucher["id"])).scalar_one() \
            == VoucherStatus.ISSUED
    assert len(alerts) == 1, "five refusals, one alert"
    # another staff member is not affected
    assert scan("verify", headers=mall["stranger"]).status_code == 404


# -- races over real HTTP (both databases, each repeated 20 times) --------------------------------------

REPETITIONS = 20
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


def _stock(app, reward_id: int) -> int:
    with app.app_context():
        return db.session.execute(sa.select(Reward.stock).where(Reward.id == reward_id)).scalar_one()


@pytest.mark.concurrency
def test_the_last_unit_goes_to_exactly_one_of_a_hundred_residents(app, mall):
    with served(app) as address:
        for repetition in range(REPETITIONS):
            reward_id = _one_unit(app, mall)
            with app.app_context():
                crowd = [resident_token(500)[0] for _ in range(100)]
                commit()
            results = race(address, [("POST", f"/api/v1/rewards/{reward_id}/redemptions",
                                      {**h, "Idempotency-Key": "last-unit"}, {}) for h in crowd])
            statuses = sorted(status for status, _ in results)
            codes = sorted(body.get("error", {}).get("code", "") for status, body in results if status != 201)
            assert statuses == [201] + [409] * 99, f"repetition {repetition}: {statuses[:5]}…"
            assert codes == ["out_of_stock"] * 99, f"repetition {repetition}"
            assert _stock(app, reward_id) == 0


@pytest.mark.concurrency
def test_one_resident_with_1000_points_gets_exactly_three_300_point_vouchers(app, mall):
    with served(app) as address:
        for repetition in range(REPETITIONS):
            with app.app_context():
                reward_id = f.reward(db.session.get(Merchant, mall["merchant_id"]), stock=100).id
                headers, account_id = resident_token(1000)
                commit()
            results = race(address, [("POST", f"/api/v1/rewards/{reward_id}/redemptions",
                                      {**headers, "Idempotency-Key": f"spend-{i}"}, {}) for i in range(20)])
            statuses = [status for status, _ in results]
            assert statuses.count(201) == 3 and statuses.count(409) == 17, f"repetition {repetition}: {statuses}"
            with app.app_context():
                assert db.session.get(CarbonAccount, account_id).points_available == 100
            assert _stock(app, reward_id) == 97


@pytest.mark.concurrency
def test_one_voucher_scanned_twenty_times_at_once_is_consumed_once(client, app, mall):
    with served(app) as address:
        for repetition in range(REPETITIONS):
            with app.app_context():
                headers, _ = resident_token(300)
                commit()
            issued = redeem(client, headers, _one_unit(app, mall))
            assert issued.status_code == 201, issued.json
            code = issued.json["code"]
            results = race(address, [("POST", "/api/v1/merchant/vouchers/consume", mall["cashier"],
                                      {"code": code, "scan_nonce": f"scan-{repetition}-{i:04d}"}) for i in range(20)])
            outcomes = sorted(body["outcome"] for status, body in results if status == 200)
            assert outcomes == ["already_used"] * 19 + ["consumed"], f"repetition {repetition}: {outcomes}"
            consumed_at = {body["consumed_at"] for _, body in results}
            assert len(consumed_at) == 1, "every answer gives the original consumption time"


def _one_unit(app, mall) -> int:
    """A new reward of the mall's merchant with one unit in stock."""
    with app.app_context():
        reward_id = f.reward(db.session.get(Merchant, mall["merchant_id"]), stock=1).id
        commit()
        return reward_id
