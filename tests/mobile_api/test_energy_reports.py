"""An enterprise's sites and energy reports through /api/v1/enterprise (issue #18 items 1–3): emissions computed per
GB/T 32150-2015 with a receipt, corrections as new versions that leave the old ones as they were, periods that are
over, and bad figures refused with nothing stored. The figures are worked out by hand in the comments."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import EnergyReport, EnergyReportVersion, Enterprise
from carbon_platform.services import audit, energy_reports
from tests import factories as f
from tests.mobile_api.helpers import assert_error, bearer, resident_headers, tokens

API = "/api/v1/enterprise"
ENTERPRISE_AUTH = "/api/v1/enterprise/auth"


def log_in(client, app, *, code: str | None = "30") -> dict:
    with app.app_context():
        seeding.load_reference()
        enterprise = f.enterprise(name=f"泰安山水水泥有限公司{code}")
        if code:
            energy_reports.classify(enterprise, code=code, key_energy_user=True, actor=audit.SYSTEM)
        phone = enterprise.contact_phone.removeprefix("+86")
        commit()
    return bearer(tokens(client, app, phone, prefix=ENTERPRISE_AUTH))


@pytest.fixture
def cement(app, client):
    headers = log_in(client, app)
    site = client.post(f"{API}/sites", json={"name": "一号熟料线"}, headers=headers)
    assert site.status_code == 201, site.json
    return {"headers": headers, "site": site.json["id"]}


def stored(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(sa.select(sa.func.count()).select_from(EnergyReport)),
                db.session.scalar(sa.select(sa.func.count()).select_from(EnergyReportVersion)))


# 2 t of diesel (registry 2026.1, GB/T 32150 表 B.1: NCV 42.652 GJ/t, 20.2 kgC/GJ, oxidation 0.98):
#   2 × 42.652 = 85.304 GJ; × 20.2 = 1,723.1408 kgC; × 0.98 = 1,688.677984 kgC; × 44/12 = 6,191.8193 kg → 6,192 (up)
# 100,000 kWh of which 20,000 with green certificates, data year 2025: the latest Shandong factor published by
#   now is the 2022 one, 0.6410 kgCO2/kWh (published 2024-12-20): 80,000 × 0.6410 = 51,280 kg exactly
# 10 GJ of purchased heat × 110 kgCO2/GJ = 1,100 kg
# scope 1 = 6,192; scope 2 = 51,280 + 1,100 = 52,380; total = 58,572
MARCH = {"year": 2025, "month": 3, "electricity_kwh": 100_000, "green_kwh": 20_000, "heat_gj": "10",
         "fuels": {"diesel": "2"}}


def test_a_report_is_computed_at_once_with_its_receipt(client, cement):
    response = client.post(f"{API}/reports", json={**MARCH, "site_id": cement["site"]}, headers=cement["headers"])
    assert response.status_code == 201, response.json
    report = response.json
    assert report["period"] == "2025-03" and report["site"]["name"] == "一号熟料线"
    current = report["current"]
    assert (current["scope1_kg"], current["scope2_kg"], current["total_kg"]) == (6192, 52380, 58572)
    assert current["number"] == 1 and current["registry_version"] == "2026.1"
    assert current["inputs"] == {"electricity_kwh": 100000, "green_kwh": 20000, "heat_gj": "10",
                                 "fuels": {"diesel": "2"}}
    lines = {line["source"]: line for line in current["receipt"]["lines"]}
    assert lines["fuel"]["kg"] == 6192 and lines["electricity"]["kg"] == 51280 and lines["heat"]["kg"] == 1100
    grid = lines["electricity"]["factors"]["grid"]
    assert (grid["value"], grid["data_year"], grid["published"]) == ("0.6410", 2022, "2024-12-20")
    assert "2022年电力二氧化碳排放因子" in grid["source"]
    listed = client.get(f"{API}/reports", headers=cement["headers"]).json
    assert [(r["period"], r["version"], r["total_kg"]) for r in listed] == [("2025-03", 1, 58572)]
    # A year in the query string is text, as every query string is ("2025" was once refused as not an integer).
    assert client.get(f"{API}/reports?year=2025", headers=cement["headers"]).json == listed
    assert client.get(f"{API}/reports?year=2024", headers=cement["headers"]).json == []
    assert_error(client.get(f"{API}/reports?year=soon", headers=cement["headers"]), 422)


def test_a_correction_is_a_new_version_and_the_first_stays_as_it_was(client, app, cement):
    report = client.post(f"{API}/reports", json={**MARCH, "site_id": cement["site"]},
                         headers=cement["headers"]).json
    # 120,000 kWh − 20,000 green = 100,000 × 0.6410 = 64,100; total 6,192 + 64,100 + 1,100 = 71,392
    corrected = client.post(f"{API}/reports/{report['id']}/corrections", headers=cement["headers"], json={
        "electricity_kwh": 120_000, "green_kwh": 20_000, "heat_gj": "10", "fuels": {"diesel": "2"},
        "note": "三月电费单漏记了二号变压器"})
    assert corrected.status_code == 201, corrected.json
    assert corrected.json["current"]["total_kg"] == 71392 and corrected.json["current"]["number"] == 2
    assert [(v["number"], v["total_kg"], v["note"]) for v in corrected.json["versions"]] == [
        (1, 58572, ""), (2, 71392, "三月电费单漏记了二号变压器")]
    first = client.get(f"{API}/reports/{report['id']}/versions/1", headers=cement["headers"]).json
    assert first["total_kg"] == 58572 and first["inputs"]["electricity_kwh"] == 100000
    assert first["receipt"] == report["current"]["receipt"]
    assert_error(client.get(f"{API}/reports/{report['id']}/versions/3", headers=cement["headers"]), 404,
                 "version_not_found")
    same = client.post(f"{API}/reports/{report['id']}/corrections", headers=cement["headers"], json={
        "electricity_kwh": 120_000, "green_kwh": 20_000, "heat_gj": "10.0", "fuels": {"diesel": "2"}, "note": "再报"})
    assert_error(same, 409, "correction_unchanged")
    assert_error(client.post(f"{API}/reports/{report['id']}/corrections", headers=cement["headers"],
                             json={"electricity_kwh": 1}), 422)  # no note: say why
    assert stored(app) == (1, 2)


def test_a_period_is_reported_once_by_month_or_by_year_and_only_when_it_is_over(client, app, cement):
    def post(**over):
        return client.post(f"{API}/reports", json={**MARCH, "site_id": cement["site"], **over},
                           headers=cement["headers"])
    assert post().status_code == 201
    assert_error(post(), 409, "report_exists")
    assert_error(post(month=None), 409, "report_period_mixed")  # 2025 is reported by month
    assert post(year=2024, month=None).status_code == 201
    assert_error(post(year=2024, month=5), 409, "report_period_mixed")
    assert_error(post(month=13), 422, "report_period_invalid")
    assert_error(post(year=1999), 422, "report_period_invalid")
    with app.app_context():
        from carbon_platform.clock import city_day, utcnow
        today = city_day(utcnow())
    assert_error(post(year=today.year, month=today.month), 422, "report_period_not_over")
    assert_error(post(year=today.year, month=None), 422, "report_period_not_over")
    assert stored(app) == (2, 2)


@pytest.mark.parametrize("over", [
    {"electricity_kwh": -1},
    {"electricity_kwh": 10**13},
    {"electricity_kwh": 1.5},
    {"electricity_kwh": "100"},
    {"electricity_kwh": True},
    {"green_kwh": 200_000},  # more green electricity than electricity
    {"heat_gj": "-0.1"},
    {"heat_gj": "NaN"},
    {"heat_gj": "Infinity"},
    {"heat_gj": "1e30"},
    {"fuels": {"diesel": "-2"}},
    {"fuels": {"coal_in_kg": "2"}},  # not a fuel of the registry (wrong unit, say)
    {"fuels": {"diesel": None}},
    {"fuels": ["diesel"]},
    {"site_id": 999_999},
    {"year": "2025"},
    {"unit": "MWh"},
])
def test_absurd_figures_are_refused_with_a_clear_message_and_nothing_is_stored(client, app, cement, over):
    response = client.post(f"{API}/reports", json={**MARCH, "site_id": cement["site"], **over},
                           headers=cement["headers"])
    assert response.status_code in (404, 422), response.json
    assert_error(response, response.status_code)
    assert stored(app) == (0, 0)


def test_an_enterprise_without_an_industry_cannot_report_yet(client, app):
    headers = log_in(client, app, code=None)
    site = client.post(f"{API}/sites", json={"name": "厂区"}, headers=headers).json
    assert_error(client.post(f"{API}/reports", json={**MARCH, "site_id": site["id"]}, headers=headers), 409,
                 "industry_required")
    me = client.get(f"{API}/me", headers=headers).json
    assert me["industry_code"] is None and me["key_energy_user"] is False


def test_the_profile_names_the_industry_and_the_registry_lists_the_fuels(client, cement):
    me = client.get(f"{API}/me", headers=cement["headers"]).json
    assert (me["industry_code"], me["industry_name_zh"], me["key_energy_user"]) == ("30", "非金属矿物制品业", True)
    reporting = client.get(f"{API}/reporting", headers=cement["headers"]).json
    fuels = {fuel["kind"]: fuel for fuel in reporting["fuels"]}
    assert fuels["raw_coal"]["unit"] == "t" and fuels["natural_gas"]["name_zh"] == "天然气"
    assert reporting["method"] == "GB/T 32150-2015"


def test_another_enterprises_sites_and_reports_are_not_found(client, app, cement):
    report = client.post(f"{API}/reports", json={**MARCH, "site_id": cement["site"]},
                         headers=cement["headers"]).json
    other = log_in(client, app, code="26")
    assert_error(client.get(f"{API}/reports/{report['id']}", headers=other), 404, "report_not_found")
    assert_error(client.post(f"{API}/reports", json={**MARCH, "site_id": cement["site"]}, headers=other), 404,
                 "site_not_found")
    assert_error(client.post(f"{API}/reports/{report['id']}/corrections", headers=other,
                             json={**{k: MARCH[k] for k in ("electricity_kwh", "fuels")}, "note": "改"}), 404)
    assert client.get(f"{API}/reports", headers=other).json == []
    assert client.get(f"{API}/sites", headers=other).json == []


def test_sites_have_distinct_names(client, cement):
    assert_error(client.post(f"{API}/sites", json={"name": "一号熟料线"}, headers=cement["headers"]), 409,
                 "site_exists")
    assert [s["name"] for s in client.get(f"{API}/sites", headers=cement["headers"]).json] == ["一号熟料线"]


def test_only_an_enterprise_reports_and_authentication_comes_first(client, app, cement):
    assert_error(client.post(f"{API}/reports", json={"nonsense": True}), 401)
    assert_error(client.post(f"{API}/reports", json={"nonsense": True}, headers=resident_headers(client, app)), 403)
    assert_error(client.get(f"{API}/sites", headers=resident_headers(client, app)), 403)


def test_the_demo_enterprise_has_its_plant_and_three_months(app):
    with app.app_context():
        seeding.load_reference()
        seeding.load_demo()
        enterprise = db.session.execute(sa.select(Enterprise)
                                        .where(Enterprise.uscc == "91370900MA3C5X7Q1K")).scalar_one()
        assert enterprise.industry_code == "44"
        periods = [(r.period, r.current.total_kg) for r in energy_reports.reports(enterprise)]
    # December: (190,200 − 50,000) kWh × 0.6410 = 89,868.2 → 89,869; 120 GJ × 110 = 13,200;
    # 1.7 t diesel: 1.7 × 42.652 × 20.2 × 0.98 × 44/12 = 5,263.0464… → 5,264; total 108,333
    assert periods[0] == ("2025-12", 108333) and [p for p, _kg in periods] == ["2025-12", "2025-11", "2025-10"]
