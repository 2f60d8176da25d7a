"""Self-reporting through the API, my actions and receipts, my reduction totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from tests.mobile_api.helpers import assert_error, resident_headers

BEIJING = timezone(timedelta(hours=8))



AN_HOUR_AGO = (datetime.now(BEIJING) - timedelta(hours=1)).replace(microsecond=0)


def report(client, headers, key, **body):
    payload = {"scenario": "walking", "occurred_at": AN_HOUR_AGO.isoformat(), "inputs": {"steps": 12345}, **body}
    return client.post("/api/v1/actions", json=payload, headers={**headers, "Idempotency-Key": key})


def test_a_self_report_is_credited_and_its_receipt_readable_in_both_languages(client, headers):
    response = report(client, headers, "walk-1")
    assert response.status_code == 201, response.json
    # 12,345 steps: 202 g → 40 points (see the golden tests)
    assert (response.json["status"], response.json["grams"], response.json["points"]) == ("credited", 202, 40)
    detail = client.get(f"/api/v1/me/actions/{response.json['id']}", headers=headers).json
    assert "步行" in detail["receipt_text"] and detail["receipt"]["rulebook_version"] == "2026.1"
    # Numbers are numbers (the stored receipt keeps exact decimal text; the API answers JSON numbers).
    assert detail["inputs"] == detail["receipt"]["inputs"] == {"steps": 12345}
    assert [(f["value"], f["year"]) for f in detail["receipt"]["factors"]] == [(16.4, 2022)]
    assert detail["receipt"]["steps"] == [["formula_value", 202.458], ["grams_floor", 202], ["grams_per_point", 5],
                                          ["base_points", 40]]
    english = client.get(f"/api/v1/me/actions/{response.json['id']}?lang=en", headers=headers).json
    assert "Walking" in english["receipt_text"]
    me = client.get("/api/v1/me", headers=headers).json
    assert me["balances"]["pending"] == 40 and me["reduction"]["lifetime_grams"] == 202
    # The points are held: the action, my balance and my history all say until when (UTC).
    release_at = datetime.fromisoformat(response.json["release_at"])
    assert release_at.utcoffset() == timedelta(0) and release_at > datetime.now(UTC)
    assert me["balances"]["next_release_at"] == response.json["release_at"] == detail["release_at"]
    listed = client.get("/api/v1/me/actions", headers=headers).json
    assert [a["release_at"] for a in listed] == [response.json["release_at"]]
    history = client.get("/api/v1/me/points/history", headers=headers).json
    assert [(m["kind"], m["release_at"]) for m in history] == [("earn", response.json["release_at"])]


def test_retries_are_safe_and_a_changed_body_is_refused(client, headers):
    first = report(client, headers, "walk-2")
    assert report(client, headers, "walk-2").json == first.json
    assert_error(report(client, headers, "walk-2", inputs={"steps": 99}), 409, "idempotency_key_reused")
    no_key = client.post("/api/v1/actions", json={"scenario": "walking", "occurred_at": AN_HOUR_AGO.isoformat()},
                         headers=headers)
    assert_error(no_key, 422, "idempotency_key_required")


def test_the_rules_say_no_with_a_reason(client, headers):
    partner_only = report(client, headers, "nev-1", scenario="nev_driving", inputs={"km": 120})
    assert (partner_only.status_code, partner_only.json["status"]) == (201, "rejected")
    assert partner_only.json["reason"] == "channel_not_accepted"
    too_old = report(client, headers, "old-1", occurred_at=(datetime.now(BEIJING) - timedelta(days=9)).isoformat())
    assert too_old.json["reason"] == "outside_claim_window"


def test_my_actions_filter_paginate_and_stay_mine(client, app, headers):
    for n in range(3):
        report(client, headers, f"w{n}", inputs={"steps": 1000 * (n + 1)},
               occurred_at=(datetime.now(BEIJING) - timedelta(days=n, hours=1)).isoformat())
    report(client, headers, "bad", scenario="nev_driving", inputs={"km": 1})
    listed = client.get("/api/v1/me/actions?status=credited&page_size=2", headers=headers)
    assert [a["status"] for a in listed.json] == ["credited", "credited"]
    assert '"total": 3' in listed.headers["X-Pagination"]
    other = resident_headers(client, app)
    some_id = listed.json[0]["id"]
    theirs, missing = client.get(f"/api/v1/me/actions/{some_id}", headers=other), client.get(
        "/api/v1/me/actions/999999", headers=other)
    assert theirs.status_code == missing.status_code == 404 and theirs.json == missing.json


def test_reduction_totals_by_month_and_scenario(client, headers):
    report(client, headers, "a", inputs={"steps": 12345})
    report(client, headers, "b", scenario="bus_ride", inputs={"distance_km": 6.2})
    rows = client.get("/api/v1/me/reduction", headers=headers).json
    month = AN_HOUR_AGO.strftime("%Y-%m")  # Beijing time
    assert {(r["month"], r["scenario"], r["actions"], r["grams"], r["points"]) for r in rows} == {
        (month, "walking", 1, 202, 40), (month, "bus_ride", 1, 166, 33)}
