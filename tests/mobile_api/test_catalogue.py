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
from carbon_platform.models import AuditEvent, Merchant, Partner, PartnerKind, RulebookVersion
from carbon_platform.services import checkins, organisations, rewards, rulebooks
from points_rules import load_rulebook_file
from tests import factories as f
from tests.mobile_api.helpers import assert_error
from tests.points_rules.test_rulebook_validation import SEED


@pytest.fixture
def seeded(app):
    with app.app_context():
        seeding.load_reference()
        commit()


#: A channel of a rulebook from before per-channel trust (2026.1): its scenario-wide keys, nothing bounded.
LEGACY_APP = {"channel": "app", "declared": False, "evidence": "none", "photos": 0, "review": "never",
              "count_per_day": None, "bounds": []}


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
        "reach": [{"channel": "app", "creditable": True, "reason": "self_report"},
                  {"channel": "partner:transit", "creditable": False, "reason": "no_active_partner"}],
        "creditable": True, "app_trust": LEGACY_APP,
        "trust": [LEGACY_APP, {**LEGACY_APP, "channel": "partner:transit"}],
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


def reach(client, scenario_id, headers=None):
    response = client.get("/api/v1/scenarios", headers=headers or {})
    scenario = next(s for s in response.json["scenarios"] if s["id"] == scenario_id) if response.json else None
    return response, scenario


def test_a_partner_channel_is_creditable_only_while_an_active_partner_of_its_kind_may_report_it(app, client, seeded):
    first, cycling = reach(client, "cycling")
    assert cycling["reach"] == [{"channel": "app", "creditable": True, "reason": "self_report"},
                                {"channel": "partner:bike_share", "creditable": False, "reason": "no_active_partner"}]
    nev = next(s for s in first.json["scenarios"] if s["id"] == "nev_driving")
    assert nev["reach"] == [{"channel": "partner:vehicle", "creditable": False, "reason": "no_active_partner"}]
    assert nev["creditable"] is False  # partner data only, and no partner yet
    with app.app_context():
        bikes, _secret = organisations.register_partner(name="泰安共享单车", kind=PartnerKind.BIKE_SHARE,
                                                        actor=f.TEST_ACTOR)
        commit()
        bikes_id = bikes.id
    registered, cycling = reach(client, "cycling", {"If-None-Match": first.headers["ETag"]})
    assert registered.status_code == 200 and registered.headers["ETag"] != first.headers["ETag"]  # new content
    assert cycling["reach"][1] == {"channel": "partner:bike_share", "creditable": True, "reason": "active_partner"}

    def update(**changes):
        with app.app_context():
            partner = db.session.get(Partner, bikes_id)
            settings = {"allowed_scenarios": partner.allowed_scenarios, "rate_limit": partner.rate_limit,
                        "active": partner.active, **changes}
            organisations.update_partner(partner, **settings, actor=f.TEST_ACTOR)
            commit()
        return reach(client, "cycling")[1]["reach"][1]

    assert update(allowed_scenarios=["walking"]) == {"channel": "partner:bike_share", "creditable": False,
                                                     "reason": "partners_not_allowed"}
    assert update(allowed_scenarios=["cycling"])["creditable"] is True
    assert update(active=False) == {"channel": "partner:bike_share", "creditable": False,
                                    "reason": "no_active_partner"}


def test_a_check_in_scene_is_creditable_while_an_active_merchant_offers_it(app, client, seeded):
    with app.app_context():
        shop = f.merchant()  # a merchant offering nothing changes nothing
        commit()
    scenarios = {s["id"]: s for s in client.get("/api/v1/scenarios").json["scenarios"]}
    assert scenarios["clean_plate"]["reach"] == [
        {"channel": "merchant_checkin", "creditable": False, "reason": "no_merchant_offers"}]
    assert scenarios["clean_plate"]["creditable"] is False
    assert [r["creditable"] for r in scenarios["taishan_zero_waste"]["reach"]] == [True, False]  # app, check-in
    with app.app_context():
        checkins.set_scenarios(db.session.get(Merchant, shop.id), ["clean_plate"], actor=f.TEST_ACTOR)
        commit()
    scenarios = {s["id"]: s for s in client.get("/api/v1/scenarios").json["scenarios"]}
    assert scenarios["clean_plate"]["reach"] == [
        {"channel": "merchant_checkin", "creditable": True, "reason": "active_merchant"}]
    assert scenarios["own_bag"]["creditable"] is False
    with app.app_context():
        db.session.get(Merchant, shop.id).active = False
        commit()
    assert next(s for s in client.get("/api/v1/scenarios").json["scenarios"] if s["id"] == "clean_plate")[
        "reach"][0]["reason"] == "no_merchant_offers"


def test_household_only_self_reports_and_unknown_partner_kinds_cannot_be_credited(app, client, seeded):
    with app.app_context():
        document = copy.deepcopy(db.session.execute(sa.select(RulebookVersion.document)).scalar_one())
        document["version"] = "2026.8"
        saving = next(s for s in document["scenarios"] if s["id"] == "electricity_saving")
        saving["channels"] = ["app", "partner:utility", "partner:ferry"]  # households only, and a kind nobody is
        rulebooks.publish(document, effective_from=utcnow() - timedelta(seconds=1), actor=f.TEST_ACTOR)
        commit()
    saving = next(s for s in client.get("/api/v1/scenarios").json["scenarios"] if s["id"] == "electricity_saving")
    assert saving["reach"] == [
        {"channel": "app", "creditable": False, "reason": "no_self_reporting_account"},
        {"channel": "partner:ferry", "creditable": False, "reason": "unknown_partner_kind"},
        {"channel": "partner:utility", "creditable": False, "reason": "no_active_partner"}]


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


def test_the_catalogue_says_what_a_report_in_the_app_needs_under_2026_3(app, client, seeded):
    with app.app_context():
        document, _ = rulebooks.parse_source((SEED.parent / "rulebook-2026.3.yaml").read_text(encoding="utf-8"))
        rulebooks.publish(document, effective_from=utcnow() - timedelta(seconds=1), actor=f.TEST_ACTOR)
        commit()
    scenarios = {s["id"]: s for s in client.get("/api/v1/scenarios").json["scenarios"]}
    bus = scenarios["bus_ride"]
    assert bus["app_trust"] == {"channel": "app", "declared": True, "evidence": "none", "photos": 0,
                                "review": "beyond_bounds", "count_per_day": 2,
                                "bounds": [{"input": "distance_km", "max": 15.0}]}
    assert [t["review"] for t in bus["trust"]] == ["beyond_bounds", "never"]  # app, then the card feed
    assert bus["evidence"] == {"kind": "none", "photos": 0, "review": False}
    tree = scenarios["tree_planting"]
    assert tree["app_trust"]["evidence"] == "photo_and_certificate" and tree["app_trust"]["photos"] == 2
    assert tree["app_trust"]["review"] == "always"
    assert tree["evidence"] == {"kind": "photo_and_certificate", "photos": 2, "review": True}
    assert scenarios["recyclables"]["app_trust"]["bounds"] == [{"input": "clothes_kg", "max": 3.0},
                                                              {"input": "glass_kg", "max": 5.0}]
    assert scenarios["nev_driving"]["app_trust"] is None  # not reported in the app
