"""Partner feeds: signed batches, consent, bindings, exactly-once credit, quarantine."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, Partner, PartnerEvent, PartnerKind
from carbon_platform.services import feeds, organisations
from mobile_api.schemas.consent import PartnerEventSchema
from tests import factories as f
from tests.concurrency import run_concurrently
from tests.mobile_api.helpers import assert_error, bind_proven, resident_headers, signed

BEIJING = timezone(timedelta(hours=8))
EVENTS = "/api/v1/partner/events"
CARD = "8801 2345 6789"


@pytest.fixture
def world(app, client):
    with app.app_context():
        seeding.load_reference()
        register = organisations.register_partner
        bus, bus_secret = register(name="泰安公交集团", kind=PartnerKind.TRANSIT, actor=f.TEST_ACTOR)
        bins, bins_secret = register(name="智能垃圾箱", kind=PartnerKind.WASTE, actor=f.TEST_ACTOR)
        ids = {"bus": (bus.id, bus.key_id, bus_secret), "bins": (bins.id, bins.key_id, bins_secret)}
        commit()
    headers = resident_headers(client, app)
    bind_proven(client, headers, ids["bus"], "transit_card", CARD)
    bind_proven(client, headers, ids["bins"], "waste_card", "BIN-0042")
    return {"headers": headers, **ids}


def authorise(client, world, partner, scenario):
    response = client.post("/api/v1/me/authorisations", headers=world["headers"],
                           json={"partner_id": world[partner][0], "scenario": scenario})
    assert response.status_code == 201, response.json
    return response.json["id"]


def event(event_id, *, scenario="bus_ride", card=CARD, kind="transit_card", fact_id=None, minutes_ago=30, **inputs):
    body = {"event_id": event_id, "scenario": scenario, "binding": {"kind": kind, "id": card},
            "occurred_at": (datetime.now(BEIJING) - timedelta(minutes=minutes_ago)).replace(microsecond=0).isoformat(),
            "inputs": inputs or {"distance_km": 6.2}}
    if fact_id:
        body["fact_id"] = fact_id
    return body


def send(client, world, partner, *events):
    _id, key_id, secret = world[partner]
    raw = json.dumps({"events": list(events)}).encode()
    response = client.post(EVENTS, data=raw, headers=signed(key_id, secret, raw, EVENTS))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [(r["status"], r["points"]) for r in response.json["results"]]


def pending(client, world):
    return client.get("/api/v1/me", headers=world["headers"]).json["balances"]["pending"]


def test_an_authorised_event_is_credited(client, world):
    authorise(client, world, "bus", "bus_ride")
    assert send(client, world, "bus", event("e1")) == [("credited", 33)]
    assert pending(client, world) == 33


def test_without_consent_or_binding_nothing_is_credited_and_revoking_stops_credits(client, world):
    assert send(client, world, "bus", event("e1")) == [("unmatched", 0)]
    assert pending(client, world) == 0
    authorisation = authorise(client, world, "bus", "bus_ride")  # e1 waited for it, within the claim window
    assert pending(client, world) == 33
    assert send(client, world, "bus", event("e2", card="0000 1111 2222")) == [("unmatched", 0)]
    assert send(client, world, "bus", event("e3", minutes_ago=25)) == [("credited", 33)]
    assert client.delete(f"/api/v1/me/authorisations/{authorisation}", headers=world["headers"], json={}
                         ).status_code == 204
    assert send(client, world, "bus", event("e4", minutes_ago=10)) == [("unmatched", 0)]
    assert pending(client, world) == 66


def test_the_same_event_ten_times_is_one_credit(client, world):
    authorise(client, world, "bus", "bus_ride")
    same = event("e1")
    results = [send(client, world, "bus", same)[0] for _ in range(10)]
    assert results == [("credited", 33)] + [("duplicate", 0)] * 9
    assert send(client, world, "bus", same, same) == [("duplicate", 0), ("duplicate", 0)]
    assert pending(client, world) == 33


REPETITIONS = 20


@pytest.mark.concurrency
def test_the_same_event_ten_times_at_once_is_one_credit(app, client, world):
    authorise(client, world, "bus", "bus_ride")
    paid = 0
    for repetition in range(REPETITIONS):
        # A new ride each time, a minute apart; as the endpoint hands it to the service.
        same = PartnerEventSchema().load(event(f"e-race-{repetition}", minutes_ago=30 + repetition))

        def deliver(_i, same=same):
            outcome = feeds.ingest(db.session.get(Partner, world["bus"][0]), [same])[0]
            return outcome.status.value, outcome.points

        outcomes = run_concurrently(app, deliver, 10)
        assert not outcomes.errors, (repetition, outcomes.errors[:2])
        assert sorted(status for status, _points in outcomes.ok) == ["credited"] + ["duplicate"] * 9, repetition
        (points,) = [points for status, points in outcomes.ok if status == "credited"]
        # Four rides a day are paid; the first four always are (no Beijing day can hold more of them).
        assert points == 33 if repetition < 4 else points in (0, 33), repetition
        paid += points
        assert pending(client, world) == paid, repetition
    assert 4 * 33 <= paid <= 8 * 33  # the twenty rides fall on one Beijing day, or two


def test_one_fact_under_two_event_ids_is_one_credit(client, world):
    authorise(client, world, "bus", "bus_ride")
    tap = "card:880123456789@2026-06-03T08:10"
    assert send(client, world, "bus", event("e1", fact_id=tap), event("e2", fact_id=tap)) == [
        ("credited", 33), ("duplicate", 0)]
    assert pending(client, world) == 33


def test_an_implausible_reading_is_quarantined_not_credited(client, world):
    authorise(client, world, "bins", "waste_sorting")
    results = send(client, world, "bins", event("b1", scenario="waste_sorting", card="BIN-0042", kind="waste_card",
                                                weight_kg=20), event("b2", scenario="waste_sorting", card="BIN-0042",
                                                                     kind="waste_card", weight_kg=2.4))
    assert results == [("quarantined", 920), ("credited", 110)]  # 20 kg would be 4,600 g → 920 points
    assert pending(client, world) == 110


def test_a_reused_event_id_with_other_content_is_rejected(client, world):
    authorise(client, world, "bus", "bus_ride")
    send(client, world, "bus", event("e1"))
    assert send(client, world, "bus", event("e1", distance_km=9)) == [("rejected", 0)]


def test_one_bad_event_does_not_spoil_the_batch(client, world):
    authorise(client, world, "bus", "bus_ride")
    results = send(client, world, "bus", event("ok1"), event("bad", distance_km=500), event("ok2", minutes_ago=5))
    assert [status for status, _ in results] == ["credited", "rejected", "credited"]


@pytest.mark.parametrize("tamper", ["body", "key", "old", "ahead", "revoked"])
def test_bad_signatures_are_401_and_write_nothing(app, client, world, tamper):
    authorise(client, world, "bus", "bus_ride")
    _id, key_id, secret = world["bus"]
    raw = json.dumps({"events": [event("e1")]}).encode()
    now = int(datetime.now().timestamp())
    headers = signed(key_id, secret, raw, EVENTS)
    if tamper == "body":
        raw = raw.replace(b"6.2", b"9.9")
    elif tamper == "key":
        headers = signed("pk_unknown", secret, raw, EVENTS)
    elif tamper in ("old", "ahead"):
        headers = signed(key_id, secret, raw, EVENTS, timestamp=now - 301 if tamper == "old" else now + 301)
    else:
        with app.app_context():
            partner = db.session.get(Partner, world["bus"][0])
            organisations.rotate_partner_secret(partner, actor=f.TEST_ACTOR)
            organisations.revoke_partner_secret(partner, partner.live_secrets()[0].id, actor=f.TEST_ACTOR)
            commit()
    assert_error(client.post(EVENTS, data=raw, headers=headers), 401, "invalid_signature")
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(PartnerEvent)).scalar_one() == 0
        assert db.session.execute(sa.select(sa.func.count()).select_from(Action)).scalar_one() == 0


def test_residents_see_partners_their_bindings_and_authorisations(client, app, world):
    partners = client.get("/api/v1/partners", headers=world["headers"]).json
    assert {p["name"]: p["scenarios"] for p in partners}["泰安公交集团"] == ["brt_ride", "bus_ride"]
    bindings = client.get("/api/v1/me/bindings", headers=world["headers"]).json
    assert sorted((b["kind"], b["last4"], b["status"], b["awaiting"]) for b in bindings) == [
        ("transit_card", "6789", "active", None), ("waste_card", "0042", "active", None)]
    assert_error(client.post("/api/v1/me/authorisations", headers=world["headers"],
                             json={"partner_id": world["bus"][0], "scenario": "pv_generation"}), 422)


def test_unmatched_events_lose_their_data_after_the_retention_period_but_stay_recognised(app, client, world):
    old = event("old")  # built once: a resend carries exactly the same content
    assert send(client, world, "bus", old) == [("unmatched", 0)]
    runner = app.test_cli_runner()
    assert "purged 0" in runner.invoke(args=["feeds", "purge-unmatched"]).output  # still within 30 days
    assert "purged 1" in runner.invoke(args=["feeds", "purge-unmatched", "--days", "0"]).output
    with app.app_context():
        record = db.session.execute(sa.select(PartnerEvent)).scalar_one()
        assert record.payload is None and record.event_id == "old"
    assert send(client, world, "bus", old) == [("duplicate", 0)]  # a resend is still only a duplicate


def propose(client, world, partner, **body):
    _id, key_id, secret = world[partner]
    raw = json.dumps(body).encode()
    path = "/api/v1/partner/bindings"
    return client.post(path, data=raw, headers=signed(key_id, secret, raw, path))


def test_a_partner_proposes_a_binding_with_the_persons_code_and_it_counts_once_confirmed(client, world):
    authorise(client, world, "bus", "bus_ride")
    code = client.post("/api/v1/me/binding-codes", headers=world["headers"], json={}).json["code"]
    proposed = propose(client, world, "bus", code=code, kind="transit_card", identifier="7777 0000 1234")
    assert proposed.status_code == 201 and proposed.json["status"] == "pending" and proposed.json["last4"] == "1234"
    assert proposed.json["awaiting"] == "you"
    card_event = event("p1", card="7777 0000 1234")
    assert send(client, world, "bus", card_event) == [("unmatched", 0)]  # pending: nothing is matched yet
    assert pending(client, world) == 0
    confirmed = client.post(f"/api/v1/me/bindings/{proposed.json['id']}/confirm", headers=world["headers"], json={})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "active"
    assert pending(client, world) == 33  # p1, which arrived while the binding was pending
    assert send(client, world, "bus", card_event) == [("duplicate", 0)]
    assert send(client, world, "bus", event("p2", card="7777 0000 1234", minutes_ago=20)) == [("credited", 33)]
    assert pending(client, world) == 66


def test_binding_codes_work_once_and_only_for_their_owner(client, app, world):
    code = client.post("/api/v1/me/binding-codes", headers=world["headers"], json={}).json["code"]
    assert propose(client, world, "bus", code=code, kind="transit_card", identifier="5555 0000 0001").status_code == 201
    assert_error(propose(client, world, "bus", code=code, kind="transit_card", identifier="5555 0000 0002"), 404,
                 "binding_code_invalid")
    assert_error(propose(client, world, "bus", code="WRONGCOD", kind="transit_card", identifier="5555 0000 0003"), 404)
    pending = next(b for b in client.get("/api/v1/me/bindings", headers=world["headers"]).json if b["last4"] == "0001")
    other = resident_headers(client, app)
    assert_error(client.post(f"/api/v1/me/bindings/{pending['id']}/confirm", headers=other, json={}), 404)
