"""Every partner:<kind> channel of the rulebook can credit its scenario: a partner of each kind added for #17
(bike-share, vehicle, recycling, forestry) registers, a resident binds the identifier it knows them by and
authorises it, and its signed event is credited on that channel."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, PartnerKind
from carbon_platform.services import organisations
from tests import factories as f
from tests.mobile_api.helpers import bind_proven, resident_headers, signed

BEIJING = timezone(timedelta(hours=8))
EVENTS = "/api/v1/partner/events"

#: kind → (the scenario it reports, the binding kind it knows a person by, an identifier, the event's inputs)
CASES = {
    PartnerKind.BIKE_SHARE: ("cycling", "bike_share_account", "BIKE-0042-7781", {"distance_km": 5, "minutes": 20}),
    PartnerKind.VEHICLE: ("nev_driving", "vehicle", "LVSHCAMB1CE012345", {"km": 800}),  # a VIN
    PartnerKind.RECYCLING: ("recyclables", "recycling_card", "RC 3709 0001", {"clothes_kg": 2, "glass_kg": 1}),
    PartnerKind.FORESTRY: ("tree_planting", "forestry_account", "TREE-2026-0815", {"trees": 3}),
}


@pytest.mark.parametrize("kind", list(CASES), ids=[k.value for k in CASES])
def test_a_partner_of_each_new_kind_credits_its_scenario(app, client, kind):
    scenario, binding_kind, identifier, inputs = CASES[kind]
    with app.app_context():
        seeding.load_reference()
        record, secret = organisations.register_partner(name=f"泰安{kind.value}", kind=kind, actor=f.TEST_ACTOR)
        partner = (record.id, record.key_id, secret)
        commit()
    headers = resident_headers(client, app)
    bind_proven(client, headers, partner, binding_kind, identifier)
    authorised = client.post("/api/v1/me/authorisations", headers=headers,
                             json={"partner_id": partner[0], "scenario": scenario})
    assert authorised.status_code == 201, authorised.json

    occurred = (datetime.now(BEIJING) - timedelta(minutes=30)).replace(microsecond=0).isoformat()
    raw = json.dumps({"events": [{"event_id": "e1", "scenario": scenario, "occurred_at": occurred, "inputs": inputs,
                                  "binding": {"kind": binding_kind, "id": identifier}}]}).encode()
    response = client.post(EVENTS, data=raw, headers=signed(partner[1], secret, raw, EVENTS))
    assert response.status_code == 200, response.get_data(as_text=True)
    (result,) = response.json["results"]
    assert result["status"] == "credited" and result["points"] > 0, result
    if kind is PartnerKind.FORESTRY:
        assert result["points"] == 300  # an incentive: min(trees, 5) × 100 points, no grams
    with app.app_context():
        action = db.session.execute(sa.select(Action)).scalar_one()
        assert (action.scenario, action.channel) == (scenario, f"partner:{kind.value}")
        assert (action.grams > 0) is (kind is not PartnerKind.FORESTRY)
