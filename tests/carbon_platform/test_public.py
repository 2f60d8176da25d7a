"""The public page (``/``) and its open data: the console's figures, small cells suppressed, both languages,
every rulebook version with live worked examples, and GETs that write nothing."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from markupsafe import escape

from carbon_platform.db import commit
from carbon_platform.models import AdminRole
from carbon_platform.services import earning, exports, open_data
from tests import factories as f
from tests.admin.helpers import console
from tests.admin.test_get_is_safe import snapshot

BEIJING = timezone(timedelta(hours=8))
JUNE = datetime(2026, 6, 3, 9, 30, tzinfo=BEIJING)
PHONE_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/156.0 Mobile Safari/537.36"


def build_city(app, *, riders: int = 10, walkers: int = 9, tag: str = "") -> None:
    """``riders`` residents of 泰山区 with a bus ride each in June (one rides again in July), and ``walkers``
    residents of 岱岳区 with a walk each in June: a cell of 10 accounts and one of 9."""
    with app.app_context():
        f.districts()
        for i in range(riders):
            rider = f.resident(district_code="370902")
            f.bus_ride(rider, JUNE + timedelta(hours=i), f"ride{tag}-{i}", distance_km=6.2)
        if riders:
            f.bus_ride(rider, JUNE + timedelta(days=30), f"ride{tag}-july", distance_km=6.2)
        for i in range(walkers):
            walker = f.resident(district_code="370911")
            when = JUNE + timedelta(hours=i)
            earning.award_action(walker.account_id, account_type="resident", scenario="walking",
                                 inputs={"steps": 8000}, occurred_at=when, idempotency_key=f"walk{tag}-{i}",
                                 district="370911", now=when + timedelta(minutes=1))
        commit()


def aggregates(client) -> dict:
    response = client.get("/open-data/aggregates.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def rows_by_key(document: dict, breakdown: str) -> dict:
    return {row["key"]: row for row in document[breakdown]}


def test_a_cell_of_nine_accounts_is_suppressed_and_one_of_ten_is_shown(app, client):
    build_city(app)
    document = aggregates(client)
    scenarios, districts = rows_by_key(document, "by_scenario"), rows_by_key(document, "by_district")
    bus, walking = scenarios["bus_ride"], scenarios["walking"]
    # 11 rides × 6.2 km × 26.9 g/pkm = 11 × 166 g (each rounded down); 33 points a ride
    assert (bus["accounts"], bus["actions"], bus["grams_co2e"], bus["points"], bus["suppressed"]) == (
        10, 11, 11 * 166, 11 * 33, False)
    assert walking["suppressed"] is True
    assert {k: walking[k] for k in ("accounts", "actions", "grams_co2e", "tonnes_co2e", "points")} == dict.fromkeys(
        ("accounts", "actions", "grams_co2e", "tonnes_co2e", "points"))
    assert districts["370902"]["accounts"] == 10 and districts["370911"]["suppressed"] is True
    months = rows_by_key(document, "by_month")
    assert months["2026-06"]["accounts"] == 19 and months["2026-07"]["suppressed"] is True
    programmes = rows_by_key(document, "by_programme")
    assert programmes["五"]["accounts"] == 10 and programmes["九"]["suppressed"] is True
    assert document["totals"]["accounts"] == 19 and not document["totals"]["suppressed"]
    assert document["suppression"]["min_accounts"] == 10 and "not zero" in document["suppression"]["note_en"]


def test_the_city_itself_is_suppressed_below_ten_accounts(app, client):
    build_city(app, riders=5, walkers=4)
    totals = aggregates(client)["totals"]
    assert totals["suppressed"] is True
    assert totals["grams_co2e"] is None and totals["accounts"] is None and totals["households"] is None


def test_the_csv_holds_the_same_cells_and_says_which_are_suppressed(app, client):
    build_city(app)
    response = client.get("/open-data/aggregates.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert list(rows[0]) == list(open_data.CSV_COLUMNS)
    assert rows[0]["breakdown"] == "totals"
    cells = {(r["breakdown"], r["key"]): r for r in rows}
    bus, walking = cells[("by_scenario", "bus_ride")], cells[("by_scenario", "walking")]
    assert (bus["accounts"], bus["grams_co2e"], bus["suppressed"], bus["note"]) == ("10", str(11 * 166), "false", "")
    assert (walking["accounts"], walking["grams_co2e"], walking["points"]) == ("", "", "")
    assert walking["suppressed"] == "true"
    assert "fewer than 10 accounts" in walking["note"] and "不公布" in walking["note"]
    document = aggregates(client)
    assert len(rows) == 1 + sum(len(document[name]) for name in open_data.BREAKDOWNS)


def test_public_figures_equal_the_consoles_and_the_exports(app, client):
    build_city(app, riders=12, walkers=11)
    document = aggregates(client)
    auditor = console(app, AdminRole.AUDITOR)
    today = datetime.now(BEIJING).date().isoformat()
    page = auditor.get(f"/admin/dashboard?from=2026-06-01&to={today}").get_data(as_text=True)
    tile = {name: int(value) for name, value in re.findall(r'data-figure="(\w+)" data-value="(-?\d+)"', page)}
    assert document["totals"]["grams_co2e"] == tile["reduction_grams"] == 13 * 166 + 11 * 131
    assert document["totals"]["points"] == tile["points_issued"]
    assert document["totals"]["accounts"] == tile["active_residents"] + tile["active_enterprises"] == 23
    charts = dict(re.findall(r'data-chart="(\w+)".*?<script type="application/json">(.*?)</script>', page, re.S))
    for breakdown, (chart, key) in open_data.BREAKDOWNS.items():
        console_rows = {row[key]: (row["grams"], row["points"], row["actions"])
                        for row in json.loads(charts[chart]) if row["actions"]}
        public_rows = {row["key"]: (row["grams_co2e"], row["points"], row["actions"]) for row in document[breakdown]
                       if not row["suppressed"]}
        assert public_rows and set(public_rows) <= set(console_rows), breakdown
        assert public_rows == {key: console_rows[key] for key in public_rows}, breakdown
        assert set(console_rows) == {row["key"] for row in document[breakdown]}, breakdown
    for month in ("2026-06", "2026-07"):
        with app.app_context():
            exported = exports.monthly_reduction(month)
        text = auditor.get(f"/admin/exports/reduction.csv?month={month}").get_data(as_text=True).lstrip("\ufeff")
        downloaded = list(csv.DictReader(io.StringIO(text)))
        public = rows_by_key(document, "by_month")[month]
        if public["suppressed"]:
            continue
        assert sum(int(r["grams"]) for r in exported) == public["grams_co2e"]
        assert sum(int(r["points"]) for r in exported) == public["points"]
        assert sum(int(r["actions"]) for r in exported) == public["actions"]
        # the console's download has its headers in Chinese, with their units
        assert sum(int(r["减排量（g CO2e）"]) for r in downloaded) == public["grams_co2e"]
        assert sum(int(r["积分"]) for r in downloaded) == public["points"]
        assert sum(int(r["行为数（次）"]) for r in downloaded) == public["actions"]


def test_figures_are_cached_for_the_configured_time(app, client, monkeypatch):
    app.config["PUBLIC_CACHE_SECONDS"] = 60
    build_city(app)
    first = aggregates(client)
    build_city(app, riders=0, walkers=1, tag="again")
    assert aggregates(client) == first  # within the TTL: the same document, not recomputed
    clock = open_data.time.monotonic() + 61
    monkeypatch.setattr(open_data.time, "monotonic", lambda: clock)
    assert aggregates(client)["totals"]["accounts"] == first["totals"]["accounts"] + 1


@pytest.mark.parametrize("query", ["", "?lang=en"])
def test_no_public_get_writes_anything(app, client, query):
    build_city(app)
    with app.app_context():
        before = snapshot()
    for url in (f"/{query}", "/open-data/aggregates.csv", "/open-data/aggregates.json", "/?lang=zh_CN"):
        assert client.get(url).status_code == 200
    with app.app_context():
        assert snapshot() == before


def test_the_page_shows_figures_methods_examples_and_links(app, client):
    build_city(app)
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "全市数据" in html
    assert 'href="/h5/"' in html and "打开碳惠泰安 App" in html
    assert 'href="/admin/"' in html and 'href="/api/docs"' in html
    assert "/open-data/aggregates.csv" in html and "/open-data/aggregates.json" in html
    assert re.search(r'data-figure="participants">.*?<span class="value">19</span>', html, re.S)
    walking = re.search(r'<tr data-key="walking" class="is-suppressed">(.*?)</tr>', html, re.S).group(1)
    assert "不公布" in walking and "131" not in walking
    # every scenario of the rulebook in force, its formula, factors and a receipt worked out by the engine
    with app.app_context():
        rulebook = open_data.published().in_force.rulebook
    for scenario in rulebook.scenarios.values():
        assert f'id="scenario-{scenario.id}"' in html
    assert "distance_km * er_bus_per_pkm" in html and "er_bus_per_pkm" in html
    with app.app_context():
        for sid in rulebook.scenarios:  # each receipt, rendered in Chinese, as the engine writes it
            assert str(escape(open_data.worked_example(rulebook, sid).receipt.render("zh_CN"))) in html
    assert "134 g CO2e" in html  # bus: 5 km × 26.9 g/pkm, rounded down
    assert f"每 {rulebook.grams_per_point} 克 CO₂e" in html
    assert "场景授权" in html and "哈希" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html  # no CDN, no font


def test_the_english_page_is_complete_and_remembered(app, client):
    build_city(app)
    response = client.get("/?lang=en")
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and "City figures" in html and "Open the Carbon Inclusion" in html
    assert "public_lang=en" in response.headers["Set-Cookie"]
    # what is left in Chinese is data (names, sources) and the Chinese language link, never page text
    text = re.sub(r"<style>.*?</style>|<pre>.*?</pre>", "", html, flags=re.S)
    assert "公开数据" not in text and "不公布" not in text and "打开碳惠泰安" not in text
    with app.app_context():
        bus = open_data.published().in_force.rulebook
        assert str(escape(open_data.worked_example(bus, "bus_ride").receipt.render("en"))) in html
    assert "City figures" in client.get("/").get_data(as_text=True)  # the cookie keeps English
    assert "全市数据" in client.get("/?lang=zh_CN").get_data(as_text=True)


def test_a_phone_lands_on_the_public_page(app, client):
    response = client.get("/", headers={"User-Agent": PHONE_UA})
    assert response.status_code == 200
    assert 'class="button" href="/h5/"' in response.get_data(as_text=True)


def test_every_stored_rulebook_version_is_listed(app, client):
    with app.app_context():
        f.districts()
        commit()
        versions = open_data.history()
    html = client.get("/").get_data(as_text=True)
    assert versions and versions[0].state == "in_force"
    for version in versions:
        assert f'data-version="{version.rulebook.version}"' in html


def test_worked_examples_come_from_the_engine(app):
    with app.app_context():
        f.districts()
        in_force = open_data.published().in_force
        for sid in in_force.rulebook.scenarios:
            result = open_data.worked_example(in_force.rulebook, sid)
            assert result.status.value != "rejected", (sid, result.receipt.render("en"))
        bus = open_data.worked_example(in_force.rulebook, "bus_ride")
        assert bus.grams == 5 * 269 // 10 and "5" in bus.receipt.render("zh_CN")
