"""Carbon intensity, the industry benchmark, the carbon-efficiency value and the grade (issue #18 item 4), through
/api/v1/enterprise, worked out by hand in the comments: the benchmark stands on at least five comparable accounts
of the industry and says how many; with fewer, or an incomplete year, there is no grade and the receipt says why."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.services import audit, energy_reports
from emissions import grading
from tests import factories as f
from tests.mobile_api.helpers import assert_error, bearer, tokens

API = "/api/v1/enterprise"


def cement_works(app, kwh: int, output_wan: str, *, year: int = 2025, industry: str = "30",
                 months: range | None = None) -> tuple[int, str]:
    """An enterprise of ``industry`` whose one site used ``kwh`` in ``year`` (one yearly report, or ``months`` of
    monthly ones sharing it) and declared ``output_wan`` (¥10,000); its id and contact's phone."""
    with app.app_context():
        seeding.load_reference()
        enterprise = f.enterprise()
        energy_reports.classify(enterprise, code=industry, key_energy_user=True, actor=audit.SYSTEM)
        site = energy_reports.add_site(enterprise, name="厂区", actor=audit.SYSTEM)
        for month in months or [None]:
            share = kwh // len(months) if months else kwh
            energy_reports.submit(enterprise, site, year=year, month=month,
                                  inputs=energy_reports.Inputs(electricity_kwh=share), actor=audit.SYSTEM)
        energy_reports.declare_output(enterprise, year=year, output_wan=Decimal(output_wan), note="",
                                      actor=audit.SYSTEM)
        commit()
        return enterprise.id, enterprise.contact_phone.removeprefix("+86")


def headers(client, app, phone: str) -> dict:
    return bearer(tokens(client, app, phone, prefix=f"{API}/auth"))


# Every site's electricity at the 2022 Shandong factor, 0.6410 kgCO2/kWh (the latest published for 2025):
#   ours  1,000,000 kWh → 641,000 kg; output ¥10,000,000 (1,000 万元) → 641,000 × 10,000 / 10,000,000 = 641 kg/万元
#   B     2,000,000 kWh → 1,282,000 kg; ¥10,000,000 → 1,282
#   C     1,000,000 kWh → 641,000 kg;   ¥5,000,000  → 1,282
#   D       500,000 kWh → 320,500 kg;   ¥10,000,000 → 320.5
#   E     1,000,000 kWh → 641,000 kg;   ¥10,000,000 → 641
# benchmark = (641,000 + 1,282,000 + 641,000 + 320,500 + 641,000) × 10,000 / ¥45,000,000 = 3,525,500 / 4,500
#           = 7,051 / 9 = 783.444… → printed 783.445 (rounded up)
# our value = (7,051 / 9) / 641 = 11 / 9 = 1.222… → printed 1.222 (rounded down) → grade 2 (at least 1.1, below 1.3)
# D's value = (7,051 / 9) / 320.5 = 22 / 9 = 2.444… → grade 1
PEERS = [(2_000_000, "1000"), (1_000_000, "500"), (500_000, "1000"), (1_000_000, "1000")]


@pytest.fixture
def industry(app):
    return [cement_works(app, kwh, output) for kwh, output in PEERS]


def test_the_grade_stands_on_five_accounts_of_the_industry(client, app, industry):
    _id, phone = cement_works(app, 1_000_000, "1000")
    # 2024: 1,000,000 kWh → 641,000 kg over ¥8,000,000 → 801.25 kg/万元; 641 against 801.25 is −20.0 %
    with app.app_context():
        from carbon_platform.extensions import db
        from carbon_platform.models import Enterprise
        enterprise = db.session.get(Enterprise, _id)
        site = energy_reports.sites(enterprise)[0]
        energy_reports.submit(enterprise, site, year=2024, month=None,
                              inputs=energy_reports.Inputs(electricity_kwh=1_000_000), actor=audit.SYSTEM)
        energy_reports.declare_output(enterprise, year=2024, output_wan=Decimal("800"), note="", actor=audit.SYSTEM)
        commit()
    figures = client.get(f"{API}/years/2025", headers=headers(client, app, phone))
    assert figures.status_code == 200, figures.json
    body = figures.json
    assert (body["emissions_kg"], body["output_yuan"], body["complete"]) == (641_000, 10_000_000, True)
    assert (body["intensity"], body["benchmark"], body["peers"], body["value"]) == ("641.000", "783.445", 5, "1.222")
    assert body["grade"]["grade"] == 2 and body["grade"]["name_zh"].startswith("二级")
    assert body["change"] == "-20.0"
    assert body["receipt"]["benchmark_basis"] == "tai'an accounts of the industry"
    assert body["receipt"]["grades_version"] == "2026.1" and body["receipt"]["no_grade_because"] is None
    d_phone = industry[2][1]
    assert client.get(f"{API}/years/2025", headers=headers(client, app, d_phone)).json["grade"]["grade"] == 1


def test_with_four_accounts_there_is_no_benchmark_and_no_grade(client, app):
    for kwh, output in PEERS[:3]:
        cement_works(app, kwh, output)
    _id, phone = cement_works(app, 1_000_000, "1000")
    body = client.get(f"{API}/years/2025", headers=headers(client, app, phone)).json
    assert body["intensity"] == "641.000" and body["benchmark"] is None and body["grade"] is None
    assert body["peers"] == 4 and body["receipt"]["no_grade_because"] == "too_few_peers"


def test_another_industry_is_not_a_peer(client, app, industry):
    _id, phone = cement_works(app, 1_000_000, "1000", industry="26")
    body = client.get(f"{API}/years/2025", headers=headers(client, app, phone)).json
    assert body["peers"] == 1 and body["grade"] is None


def test_an_incomplete_year_has_no_grade_and_says_which_months_are_missing(client, app, industry):
    _id, phone = cement_works(app, 1_100_000, "1000", months=range(1, 12))  # January to November
    body = client.get(f"{API}/years/2025", headers=headers(client, app, phone)).json
    assert body["complete"] is False and body["grade"] is None and body["intensity"] is None
    assert body["receipt"]["missing"] == ["厂区: 12"] and body["receipt"]["no_grade_because"] == "incomplete"
    assert body["peers"] == 4  # the four complete accounts; not enough for a benchmark either


def test_an_output_value_is_declared_once_and_corrected_with_a_note(client, app):
    _id, phone = cement_works(app, 1_000_000, "1000")
    auth = headers(client, app, phone)
    assert_error(client.post(f"{API}/outputs", json={"year": 2025, "output_wan": "1200"}, headers=auth), 422)
    corrected = client.post(f"{API}/outputs", json={"year": 2025, "output_wan": "1250.5", "note": "审计后调整"},
                            headers=auth)
    assert corrected.status_code == 201 and corrected.json["number"] == 2
    assert corrected.json["output_yuan"] == 12_505_000
    # 641,000 × 10,000 / 12,505,000 = 512.594… → 512.595 (up)
    assert client.get(f"{API}/years/2025", headers=auth).json["intensity"] == "512.595"


@pytest.mark.parametrize("output", ["0", "-5", "NaN", "1e12", "1.00001", "Infinity"])
def test_absurd_output_values_are_refused(client, app, output):
    _id, phone = cement_works(app, 1_000_000, "1000")
    response = client.post(f"{API}/outputs", json={"year": 2024, "output_wan": output}, headers=headers(
        client, app, phone))
    assert_error(response, 422)


def test_the_grades_file_is_checked():
    with pytest.raises(grading.GradingError) as refused:
        grading.parse_grades({"version": "x", "min_peers": 1, "grades": [
            {"grade": 1, "at_least": "0.9", "name_zh": "一", "name_en": "1"},
            {"grade": 3, "at_least": "1.2", "name_zh": "二", "name_en": "2"}]})
    problems = " ".join(refused.value.problems)
    assert "min_peers" in problems and "run 1, 2, 3" in problems and "fall" in problems and "starts at 0" in problems
    assert energy_reports.grades().min_peers == 5
