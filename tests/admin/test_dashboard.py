"""The dashboard answers "how are we doing this year": the last 12 months by default, every figure for the district
chosen, quiet districts as zero, one mass unit for the page, whole months in the month chart, and each headline
figure beside the same period a year earlier."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from admin.views import dashboard as page
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, RulebookVersion
from carbon_platform.services import rulebooks
from tests import factories as f
from tests.admin.helpers import console

BEIJING = timezone(timedelta(hours=8))
JUNE = datetime(2026, 6, 3, 9, 30, tzinfo=BEIJING)
JUNE_LAST_YEAR = datetime(2025, 6, 10, 9, 30, tzinfo=BEIJING)


def rides(app, when, district, n, prefix, km=6.2):
    with app.app_context():
        for i in range(n):
            resident = f.resident(district_code=district)
            f.bus_ride(resident, when + timedelta(hours=i), f"{prefix}-{i}", distance_km=km, district=district)
        commit()


def rules_since_2025(app):
    """The seed's rules take effect on 2026-01-01; the same rules, as a version of their own, from 2025-01-01,
    so that rides a year before June 2026 can be credited."""
    with app.app_context():
        seed = db.session.execute(sa.select(RulebookVersion).order_by(RulebookVersion.id)).scalars().first()
        rulebooks.publish({**seed.document, "version": "2025.0"}, effective_from=datetime(2025, 1, 1, tzinfo=BEIJING),
                          actor=f.TEST_ACTOR)
        commit()


def tiles(html: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r'data-figure="(\w+)" data-value="(-?\d+)"', html)}


def chart(html: str, name: str) -> list[dict]:
    found = re.search(rf'data-chart="{name}".*?<script type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_by_default_the_dashboard_shows_the_last_twelve_months_from_the_first_of_a_month(app):
    html = console(app, AdminRole.AUDITOR).get("/admin/dashboard").get_data(as_text=True)
    today = datetime.now(BEIJING).date()
    months_back = today.year * 12 + today.month - 1 - 11
    first = date(months_back // 12, months_back % 12 + 1, 1)
    assert f'name="from" value="{first.isoformat()}"' in html and f'name="to" value="{today.isoformat()}"' in html
    months = [row["period"] for row in chart(html, "trend_month")]
    assert len(months) == 12 and months[0] == first.isoformat()[:7] and months[-1] == today.isoformat()[:7]


def test_the_district_filter_changes_every_figure_and_quiet_districts_show_as_zero(app):
    client = console(app, AdminRole.AUDITOR)
    rides(app, JUNE, "370902", 3, "taishan")  # 3 × 6.2 km × 26.9 g/pkm = 3 × 166 g
    rides(app, JUNE, "370911", 2, "daiyue", km=10)  # 2 × 10 km × 26.9 g/pkm = 2 × 269 g
    period = "from=2026-06-01&to=2026-06-30"
    city = client.get(f"/admin/dashboard?{period}").get_data(as_text=True)
    assert tiles(city)["period_grams"] == 3 * 166 + 2 * 269 and tiles(city)["period_actions"] == 5
    assert tiles(city)["residents"] == 5 and "reduction_grams" in tiles(city)
    districts = {row["district"]: row["grams"] for row in chart(city, "district")}
    assert districts["370902"] == 498 and districts["370911"] == 538
    assert len(districts) > 2 and all(grams == 0 for code, grams in districts.items()
                                      if code not in ("370902", "370911"))  # the quiet ones, as zero
    taishan = client.get(f"/admin/dashboard?{period}&district=370902").get_data(as_text=True)
    figures = tiles(taishan)
    assert figures["period_grams"] == 498 and figures["period_actions"] == 3 and figures["period_accounts"] == 3
    assert figures["residents"] == 3 and figures["active_residents"] == 3
    assert [row["district"] for row in chart(taishan, "district")] == ["370902"]
    assert sum(row["grams"] for row in chart(taishan, "trend_day")) == 498
    # The ledger's books are the city's, all time: with a district chosen they are not shown as if they were its.
    assert "reduction_grams" not in figures and 'data-ledger="citywide"' in taishan


def test_each_headline_figure_stands_beside_the_same_period_last_year(app):
    client = console(app, AdminRole.AUDITOR)
    rules_since_2025(app)
    rides(app, JUNE_LAST_YEAR, "370902", 2, "then")
    rides(app, JUNE, "370902", 3, "now")
    html = client.get("/admin/dashboard?from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    # 3 rides against 2: +50.0 %; the same grams per ride, so the reduction is +50.0 % too
    assert re.search(r'data-change="actions" data-last-year="2">较去年同期 \+50\.0%<', html)
    assert re.search(r'data-change="grams" data-last-year="332">较去年同期 \+50\.0%<', html)
    assert re.search(r'data-change="points_redeemed" data-last-year="0">去年同期无数据<', html)
    june = chart(html, "trend_month")
    assert june == [{"period": "2026-06", "grams": 498, "points": june[0]["points"], "actions": 3,
                     "accounts": 3, "grams_last_year": 332}]


def test_the_month_chart_shows_whole_months_and_says_so(app):
    client = console(app, AdminRole.AUDITOR)
    rides(app, JUNE, "370902", 1, "early")  # 3 June
    html = client.get("/admin/dashboard?from=2026-06-15&to=2026-07-31").get_data(as_text=True)
    assert [row["period"] for row in chart(html, "trend_month")] == ["2026-06", "2026-07"]
    assert chart(html, "trend_month")[0]["grams"] == 166  # the whole of June, though the period starts on the 15th
    assert "按整月：2026-06-01 起" in html
    assert tiles(html)["period_grams"] == 0  # the headline keeps to the period asked for


def test_the_page_has_one_mass_unit_chosen_by_magnitude(app, monkeypatch):
    client = console(app, AdminRole.AUDITOR)
    rides(app, JUNE, "370902", 2, "small")  # 2 × 166 g
    small = client.get("/admin/dashboard?from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    assert set(re.findall(r'data-unit="(\w+)"', small)) == {"kg"} and "减排（千克 CO₂e）" in small
    assert re.search(r'data-figure="period_grams" data-value="332">\s*<span class="label">减排量</span>\s*'
                     r'<span class="value">0\.33</span><span class="unit">千克 CO₂e', small)
    assert re.search(r'data-figure="reduction_grams" data-value="332">\s*<span class="label">累计减排</span>\s*'
                     r'<span class="value">0\.33</span><span class="unit">千克 CO₂e', small)  # the ledger's too
    # A page whose largest figure reaches the threshold is in tonnes throughout (the threshold, a tonne, made
    # 300 g here so that two rides reach it).
    monkeypatch.setattr(page, "TONNE", 300)
    large = client.get("/admin/dashboard?from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    assert set(re.findall(r'data-unit="(\w+)"', large)) == {"t"} and "减排（吨 CO₂e）" in large
    assert '<span class="value">0.000</span><span class="unit">吨 CO₂e' in large  # 332 g is 0.000332 t
    english = console(app, AdminRole.AUDITOR)
    english.get("/admin/lang/en")
    assert "Reduction (t CO₂e)" in english.get("/admin/dashboard?from=2026-06-01&to=2026-06-30").get_data(
        as_text=True)
