"""A resident reports a bus ride in the app, then the card operator's feed sends the same ride (rulebook 2026.4's
``same_fact``): through the real endpoints, one credit remains, the operator's, and the resident's history says
why the report was reversed and links to the record that replaced it. The other order: the report is a duplicate."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from importlib import resources

import pytest

from carbon_platform import seeding
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.models import PartnerKind
from carbon_platform.services import organisations, rulebooks
from points_rules import parse_yaml
from tests import factories as f
from tests.mobile_api.helpers import bind_proven, resident_headers, signed

BEIJING = timezone(timedelta(hours=8))
EVENTS = "/api/v1/partner/events"
CARD = "8801 2345 6789"
RIDE = (datetime.now(BEIJING) - timedelta(hours=2)).replace(second=0, microsecond=0)


def world_for(app, client, headers: dict) -> dict:
    """Rulebook 2026.4 in force, the bus operator, and the resident of ``headers`` with a bound, consented card."""
    with app.app_context():
        seeding.load_reference()
        source = resources.files("seeds").joinpath("rulebook-2026.4.yaml").read_text("utf-8")
        rulebooks.publish(parse_yaml(source)[0], effective_from=utcnow() - timedelta(days=1), actor=f.TEST_ACTOR)
        bus, secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT, actor=f.TEST_ACTOR)
        partner = (bus.id, bus.key_id, secret)
        commit()
    bind_proven(client, headers, partner, "transit_card", CARD)
    authorised = client.post("/api/v1/me/authorisations", headers=headers,
                             json={"partner_id": partner[0], "scenario": "bus_ride"})
    assert authorised.status_code == 201, authorised.json
    return {"headers": headers, "partner": partner}


@pytest.fixture
def world(app, client):
    return world_for(app, client, resident_headers(client, app))


def report(client, world, at, km):
    return client.post("/api/v1/actions", headers={**world["headers"], "Idempotency-Key": f.key("ride")}, json={
        "scenario": "bus_ride", "occurred_at": at.isoformat(), "inputs": {"distance_km": km}})


def card_says(client, world, event_id, at, km):
    _id, key_id, secret = world["partner"]
    raw = json.dumps({"events": [{"event_id": event_id, "scenario": "bus_ride", "occurred_at": at.isoformat(),
                                  "binding": {"kind": "transit_card", "id": CARD},
                                  "inputs": {"distance_km": km}}]}).encode()
    response = client.post(EVENTS, data=raw, headers=signed(key_id, secret, raw, EVENTS))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["results"][0]


def me(client, world):
    return client.get("/api/v1/me", headers=world["headers"]).json["balances"]["pending"]


def test_the_operators_record_replaces_the_report_and_the_history_says_so(client, world):
    reported = report(client, world, RIDE, 5)
    assert reported.status_code == 201 and reported.json["status"] == "credited", reported.json
    assert me(client, world) == reported.json["points"]
    result = card_says(client, world, "ride-1", RIDE + timedelta(minutes=12), 6.2)
    assert result["status"] == "credited" and f"action {reported.json['id']}" in result["reason"]
    assert me(client, world) == result["points"]

    before = client.get(f"/api/v1/me/actions/{reported.json['id']}", headers=world["headers"]).json
    assert (before["status"], before["reason"], before["superseded_by"]) == ("reversed", "superseded",
                                                                           result["action_id"])
    assert "同一件事只计一次" in before["reason_zh"] and "counts once" in before["reason_en"]
    standing = client.get(f"/api/v1/me/actions/{result['action_id']}", headers=world["headers"]).json
    assert (standing["status"], standing["channel"], standing["superseded_by"]) == ("credited", "partner:transit",
                                                                                   None)


def test_a_report_after_the_operators_record_is_answered_as_a_duplicate(client, world):
    result = card_says(client, world, "ride-2", RIDE, 6.2)
    reported = report(client, world, RIDE - timedelta(minutes=30), 7)
    assert reported.status_code == 201 and reported.json["duplicate"] is True, reported.json  # as for any duplicate
    assert reported.json["id"] == result["action_id"]
    assert me(client, world) == result["points"]
    history = client.get("/api/v1/me/actions", headers=world["headers"]).json
    assert [a["id"] for a in history] == [result["action_id"]]
