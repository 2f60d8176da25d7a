"""Input no database or converter can hold is a 4xx in the one error shape, never a 500, and writes nothing:
ids and integers beyond their column, NUL characters, years 1 and 9999, JSON nested too deep, numbers of
thousands of digits, pages past the end, partner timestamps that are not plain digits."""

from __future__ import annotations

import json

import pytest

from carbon_platform.db import commit
from mobile_api.parsing import MAX_DEPTH
from tests import factories as f
from tests.mobile_api.helpers import assert_error, bearer, signed, tokens
from tests.mobile_api.test_robustness import row_counts

HUGE = "9" * 23
ACTION = {"scenario": "bus_ride", "occurred_at": "2026-06-03T08:10:00+08:00", "inputs": {"distance_km": 6}}


@pytest.fixture
def resident(headers):
    """A logged-in resident, with the reference data and the rulebook in force (the API tests' ``headers``)."""
    return headers


def unchanged(app, client, call):
    """The answer of ``call(client)``, asserting it wrote nothing."""
    with app.app_context():
        before = row_counts()
    response = call(client)
    with app.app_context():
        assert row_counts() == before, response.get_data(as_text=True)
    return response


@pytest.mark.parametrize("path", [f"/api/v1/evidence/{HUGE}", f"/api/v1/evidence/{2**63}",
                                  f"/api/v1/evidence/{'1' * 5000}/thumbnail", f"/api/v1/me/actions/{2**63}",
                                  f"/api/v1/rewards/{2**31}", f"/api/v1/households/{2**31}",
                                  f"/api/v1/me/vouchers/{2**63}/qr.png"])
def test_ids_beyond_their_column_match_no_route(client, resident, path):
    assert_error(client.get(path, headers=resident), 404, "not_found")


def test_ids_within_a_64_bit_column_are_looked_up(client, resident):
    """A BigInt id beyond 32 bits is still a valid id (not found here), not refused as out of range."""
    assert_error(client.get(f"/api/v1/evidence/{2**40}", headers=resident), 404, "not_found")
    assert_error(client.get(f"/api/v1/me/actions/{2**62}", headers=resident), 404, "not_found")
    response = client.post("/api/v1/actions", json={**ACTION, "evidence": [2**40]},
                           headers={**resident, "Idempotency-Key": "photo-far-away"})
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("case", ["query", "body", "nested", "list", "list 64-bit"])
def test_integers_beyond_their_column_are_422(app, client, resident, case):
    calls = {
        "query": lambda c: c.get(f"/api/v1/rewards?merchant_id={HUGE}", headers=resident),
        "body": lambda c: c.post("/api/v1/me/authorisations", json={"partner_id": 10**30, "scenario": "bus_ride"},
                                 headers=resident),
        "nested": lambda c: c.post("/api/v1/households/1/head", json={"resident_id": 2**31}, headers=resident),
        "list": lambda c: c.post("/api/v1/actions", json={**ACTION, "evidence": [10**30]},
                                 headers={**resident, "Idempotency-Key": "k-list"}),
        "list 64-bit": lambda c: c.post("/api/v1/actions", json={**ACTION, "evidence": [2**63]},
                                        headers={**resident, "Idempotency-Key": "k-list-64"}),
    }
    assert_error(unchanged(app, client, calls[case]), 422, "validation_error")


@pytest.mark.parametrize("case", ["profile", "dict key", "query", "binding", "idempotency key"])
def test_nul_characters_are_422(app, client, resident, case):
    calls = {
        "profile": lambda c: c.patch("/api/v1/me", json={"display_name": "泰\x00山"}, headers=resident),
        "dict key": lambda c: c.post("/api/v1/actions", json={**ACTION, "inputs": {"distance\x00km": 6}},
                                     headers={**resident, "Idempotency-Key": "k-nul"}),
        "query": lambda c: c.get("/api/v1/me/actions?scenario=bus%00ride", headers=resident),
        "binding": lambda c: c.post("/api/v1/me/bindings", json={"kind": "transit_card", "identifier": "88\x0001"},
                                    headers=resident),
        "idempotency key": lambda c: c.post("/api/v1/actions", json=ACTION,
                                            headers={**resident, "Idempotency-Key": "k\x00nul"}),
    }
    body = assert_error(unchanged(app, client, calls[case]), 422)
    assert "NUL" in json.dumps(body["details"]) or body["code"] == "idempotency_key_required", body


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-05:00",
                                  "9999-12-31T23:59:59+00:00", "1999-12-31T23:59:59+00:00"])
def test_years_outside_2000_to_2100_are_422(app, client, resident, partner, when):
    response = unchanged(app, client, lambda c: c.post("/api/v1/actions", json={**ACTION, "occurred_at": when},
                                                       headers={**resident, "Idempotency-Key": f"k-{when}"}))
    assert assert_error(response, 422, "validation_error")["details"]["json"]["occurred_at"]
    event = {"event_id": "e-1", "scenario": "bus_ride", "occurred_at": when,
             "binding": {"kind": "transit_card", "id": "8801"}}
    body = json.dumps({"events": [event]}).encode()
    response = unchanged(app, client, lambda c: c.post("/api/v1/partner/events", data=body,
                                                       headers=signed(partner["key_id"], partner["secret"], body,
                                                                      "/api/v1/partner/events")))
    assert_error(response, 422, "validation_error")
    with app.app_context():
        cashier = f.staff(f.merchant()).phone.removeprefix("+86")
        commit()
    staff = bearer(tokens(client, app, cashier, prefix="/api/v1/merchant/auth"))
    query = {"start": when, "end": "2026-01-01T00:00:00+00:00"}
    assert_error(client.get("/api/v1/merchant/consumptions", query_string=query, headers=staff), 422)


DEEP = "[" * 5000 + "]" * 5000
JUST_TOO_DEEP = '{"a": ' * MAX_DEPTH + "1" + "}" * MAX_DEPTH  # MAX_DEPTH objects, one more with the body
BAD_JSON = {"5,000 levels": DEEP, "just too deep": '{"phone": ' + JUST_TOO_DEEP + "}",
            "5,000 digits": '{"phone": ' + "1" * 5000 + "}", "long fraction": '{"phone": 0.' + "1" * 200 + "}",
            "NaN": '{"phone": NaN}', "Infinity": '{"phone": -Infinity}'}


@pytest.mark.parametrize("case", sorted(BAD_JSON))
def test_json_beyond_the_parsers_limits_is_400(app, client, resident, case):
    for path, headers in (("/api/v1/auth/codes", {}), ("/api/v1/actions", {**resident, "Idempotency-Key": "k"})):
        response = unchanged(app, client, lambda c, p=path, h=headers: c.post(
            p, data=BAD_JSON[case], content_type="application/json", headers=h))
        assert_error(response, 400, "malformed_json")


def test_json_within_the_limits_reaches_the_schema(client, resident):
    deep_enough = '{"a": ' * (MAX_DEPTH - 2) + "1" + "}" * (MAX_DEPTH - 2)
    response = client.post("/api/v1/auth/codes", data='{"phone": ' + deep_enough + "}",
                           content_type="application/json")
    assert_error(response, 422, "validation_error")  # parsed; the schema says a phone is not an object


@pytest.mark.parametrize("path", ["/api/v1/me/actions", "/api/v1/me/points/history", "/api/v1/me/vouchers"])
def test_a_page_past_the_end_is_empty(client, resident, path):
    response = client.get(f"{path}?page={HUGE}&page_size=100", headers=resident)
    assert response.status_code == 200 and response.json == []


@pytest.mark.parametrize("stamp", ["1" * 5000, "\u00b2", "17\u00b2"])  # "²".isdigit(), but int("²") fails
def test_a_partner_timestamp_that_is_not_ascii_digits_is_401(app, client, partner, stamp):
    body = b'{"echo": "hi"}'
    headers = {**signed(partner["key_id"], partner["secret"], body, "/api/v1/partner/ping"),
               "X-Carbon-Timestamp": stamp}
    assert_error(client.post("/api/v1/partner/ping", data=body, headers=headers), 401, "invalid_signature")



def test_a_partner_signature_that_is_not_ascii_is_401(app, client, partner):
    body = b'{"echo": "hi"}'
    headers = {**signed(partner["key_id"], partner["secret"], body, "/api/v1/partner/ping"),
               "X-Carbon-Signature": "\u00e9" * 64}  # latin-1 bytes in a header arrive as such a str
    assert_error(client.post("/api/v1/partner/ping", data=body, headers=headers), 401, "invalid_signature")
