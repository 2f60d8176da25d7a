"""The public catalogue: scenarios of the rulebook in force, districts and the mall's merchants, the first two
revalidated by ETag (304 with an empty body)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent, RulebookVersion
from carbon_platform.services import rewards, rulebooks
from points_rules import load_rulebook_file
from tests import factories as f
from tests.mobile_api.helpers import assert_error
from tests.points_rules.test_rulebook_validation import SEED


@pytest.fixture
def seeded(app):
    with app.app_context():
        seeding.load_reference()
        commit()


def test_the_scenarios_are_the_rulebook_in_force_as_declared(client, seeded):
    response = client.get("/api/v1/scenarios")
    assert response.status_code == 200
    body = response.json
    assert body["rulebook_version"] == "2026.1"
    scenarios = {s["id"]: s for s in body["scenarios"]}
    assert len(scenarios) == 15 and list(scenarios)[0] == "bus_ride"
    assert scenarios["bus_ride"] == {
        "id": "bus_ride", "name_zh": "公交出行", "name_en": "Bus ride", "programme": "五", "kind": "reduction",
        "description_zh": scenarios["bus_ride"]["description_zh"],
        "description_en": scenarios["bus_ride"]["description_en"],
        "account_types": ["resident"], "channels": ["app", "partner:transit"], "self_report": True,
        "inputs": [{"name": "distance_km", "type": "number", "unit": "km", "min": 0, "max": 120, "required": False,
                    "label_zh": "乘车距离", "label_en": "Ride distance"}],
        "evidence": {"kind": "none", "photos": 0, "review": False},
        "limits": [{"per": "day", "scope": "account", "unit": "count", "limit": 4}],
    }
    assert "公交" in scenarios["bus_ride"]["description_zh"] and "bus" in scenarios["bus_ride"]["description_en"]
    pv = scenarios["pv_installation"]
    assert pv["kind"] == "incentive" and pv["evidence"] == {"kind": "photo_and_certificate", "photos": 2,
                                                            "review": True}
    assert scenarios["taishan_zero_waste"]["evidence"] == {"kind": "photo", "photos": 1, "review": False}
    assert scenarios["nev_driving"]["self_report"] is False  # partner data only
    assert scenarios["clean_plate"]["self_report"] is False  # merchant check-in only
    assert {"per": "day", "scope": "household", "unit": "count", "limit": 4} in scenarios["waste_sorting"]["limits"]
    assert scenarios["cycling"]["inputs"][0]["min"] == 0.1


def test_every_seeded_scenario_and_input_has_words_in_both_languages():
    rulebook = load_rulebook_file(SEED)
    for scenario in rulebook.scenarios.values():
        assert scenario.description_zh and scenario.description_en, scenario.id
        assert all(i.label_zh and i.label_en for i in scenario.inputs), scenario.id


def test_a_rulebook_published_before_descriptions_falls_back_to_the_names(app, client, seeded):
    with app.app_context():
        document = copy.deepcopy(db.session.execute(sa.select(RulebookVersion.document)).scalar_one())
        document["version"] = "2026.0-old"
        for scenario in document["scenarios"]:
            scenario.pop("description_zh"), scenario.pop("description_en")
            for item in scenario.get("inputs", []):
                item.pop("label_zh"), item.pop("label_en")
        rulebooks.publish(document, effective_from=utcnow() - timedelta(seconds=1), actor=f.TEST_ACTOR)
        commit()
    body = client.get("/api/v1/scenarios").json
    assert body["rulebook_version"] == "2026.0-old"
    bus = body["scenarios"][0]
    assert (bus["description_zh"], bus["description_en"]) == ("公交出行", "Bus ride")
    assert (bus["inputs"][0]["label_zh"], bus["inputs"][0]["label_en"]) == ("distance_km", "distance_km")


@pytest.mark.parametrize("path", ["/api/v1/scenarios", "/api/v1/districts"])
def test_a_matching_if_none_match_is_an_empty_304_and_a_stale_one_the_body(client, seeded, path):
    first = client.get(path)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "no-cache"
    assert client.get(path).headers["ETag"] == etag  # the same content, the same tag
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "no-cache"
    assert client.get(path, headers={"If-None-Match": f'"stale", {etag}'}).status_code == 304
    stale = client.get(path, headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.json == first.json


def test_a_new_rulebook_in_force_changes_the_etag(app, client, seeded):
    etag = client.get("/api/v1/scenarios").headers["ETag"]
    with app.app_context():
        document = copy.deepcopy(db.session.execute(sa.select(RulebookVersion.document)).scalar_one())
        document["version"] = "2026.9"
        document["scenarios"][0]["caps"][0]["limit"] = 3
        rulebooks.publish(document, effective_from=utcnow() - timedelta(seconds=1), actor=f.TEST_ACTOR)
        commit()
    response = client.get("/api/v1/scenarios", headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert response.json["scenarios"][0]["limits"][0]["limit"] == 3


def test_the_districts_are_the_seed_by_code_and_need_no_token(client, seeded):
    districts = client.get("/api/v1/districts").json["districts"]
    codes = [d["code"] for d in districts]
    assert codes == sorted(codes) and len(codes) >= 6
    assert {"code": "370902", "name_zh": "泰山区", "name_en": "Taishan District"} in districts


def test_public_endpoints_ignore_a_token_and_write_nothing(app, client, headers):
    with app.app_context():
        before = db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one()
    for path in ("/api/v1/scenarios", "/api/v1/districts", "/api/v1/merchants"):
        assert client.get(path, headers=headers).status_code == 200
        assert client.get(path, headers={"Authorization": "Bearer nonsense"}).status_code == 200
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one() == before


def test_no_rulebook_in_force_is_a_clear_409(client):
    assert_error(client.get("/api/v1/scenarios"), 409, "no_rulebook")


def test_the_merchants_are_those_with_rewards_on_sale_by_name(app, client, seeded):
    with app.app_context():
        selling = f.merchant(name="乙店", address="泰山大街 1 号")
        f.reward(selling)
        f.reward(selling)  # two rewards: listed once
        f.reward(f.merchant(name="甲店", district_code="370911"))
        f.merchant(name="丙店")  # nothing for sale
        sold_out = f.merchant(name="丁店")
        f.reward(sold_out, stock=0)
        rewards.update(f.reward(sold_out), active=False, actor=f.TEST_ACTOR)  # withdrawn
        commit()
        selling_id = selling.id
    merchants = client.get("/api/v1/merchants").json["merchants"]
    names = [m["name"] for m in merchants]
    assert "丙店" not in names and "丁店" not in names and names.count("乙店") == 1 and names == sorted(names)
    shop = next(m for m in merchants if m["name"] == "乙店")
    assert shop == {"id": selling_id, "name": "乙店", "address": "泰山大街 1 号",
                    "district": {"code": "370902", "name_zh": "泰山区", "name_en": "Taishan District"}}
