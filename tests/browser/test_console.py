"""The console in chromium: log in, charts drawn with data, a review approved, a CSV and an XLSX downloaded."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus, AdminRole, CarbonAccount
from carbon_platform.services import earning
from tests import factories as f
from tests.browser.conftest import SCREENSHOTS, log_in

BEIJING = timezone(timedelta(hours=8))
pytestmark = pytest.mark.browser


@pytest.fixture
def city(app):
    """Reference data, an operator and a reviewer, a week of bus rides and one PV installation awaiting review."""
    with app.app_context():
        seeding.load_reference()
        f.admin(AdminRole.OPERATOR, username="operator")
        f.admin(AdminRole.REVIEWER, username="reviewer")
        now = datetime.now(BEIJING)
        for day in range(7):
            resident = f.resident(district_code="370902")
            when = now - timedelta(days=day, hours=1)
            f.bus_ride(resident, when, f"ride-{day}", distance_km=6.2)
        installer = f.resident(district_code="370911")
        installer_account = installer.account_id
        pending = earning.self_report(installer, scenario="pv_installation", inputs={},
                                      occurred_at=now - timedelta(hours=2), client_key="pv").action.id
        commit()
    return {"pending": pending, "account": installer_account}


def test_the_dashboard_draws_its_charts_with_data(page, site, city):
    log_in(page, site, "operator", f.PASSWORD)
    page.goto(f"{site}/admin/dashboard")
    page.wait_for_selector("figure[data-chart='trend_day'][data-rendered='true']")
    for chart in ("trend_day", "scenario", "district", "programme"):
        figure = page.locator(f"figure[data-chart='{chart}']")
        box = figure.locator("canvas").first.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 200, f"{chart} drew no visible chart: {box}"
        rows = figure.locator("tbody tr")
        assert rows.count() >= 1
    # 7 rides of 6.2 km × 26.9 g = 166 g each: the scenario table says 1.16 kg for bus rides, by name
    scenario_table = page.locator("table[data-table='scenario']").text_content()
    assert "公交出行" in scenario_table and "1.16" in scenario_table and "bus_ride" not in scenario_table
    assert "减排（千克 CO₂e）" in page.locator("table[data-table='scenario'] thead").text_content()
    page.screenshot(path=str(SCREENSHOTS / "console" / "dashboard-zh.png"), full_page=True)
    page.goto(f"{site}/admin/lang/en?next=/admin/dashboard")
    page.wait_for_selector("figure[data-chart='trend_month'][data-rendered='true']")
    assert "Reduction (kg CO₂e)" in page.locator("table[data-table='scenario'] thead").text_content()
    assert "Bus ride" in page.locator("table[data-table='scenario']").text_content()
    page.screenshot(path=str(SCREENSHOTS / "console" / "dashboard-en.png"), full_page=True)


def test_a_reviewer_approves_a_pv_installation(page, site, city, app):
    log_in(page, site, "reviewer", f.PASSWORD)
    page.goto(f"{site}/admin/review")
    card = page.locator(f"tr[data-action='{city['pending']}']")
    card.get_by_role("button", name="通过").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(f"tr[data-action='{city['pending']}']").count() == 0
    with app.app_context():
        status = db.session.execute(sa.select(Action.status).where(Action.id == city["pending"])).scalar_one()
    assert status is ActionStatus.CREDITED


def test_a_chart_table_downloads_as_csv(page, site, city):
    log_in(page, site, "operator", f.PASSWORD)
    page.goto(f"{site}/admin/dashboard")
    figure = page.locator("figure[data-chart='scenario']")
    with page.expect_download() as download_info:
        figure.get_by_role("link", name="下载 CSV").click()
    with open(download_info.value.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["场景代码", "名称", "减排量（g CO2e）", "积分", "行为数（次）"]
    assert rows[1][:2] == ["bus_ride", "公交出行"] and rows[1][2:] == ["1162", "231", "7"]
    assert download_info.value.suggested_filename.startswith("碳惠泰安-按场景-")


def frozen(app, account_id) -> bool:
    with app.app_context():
        return db.session.execute(sa.select(CarbonAccount.frozen).where(CarbonAccount.id == account_id)).scalar_one()


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_destructive_action_says_what_will_happen_and_asks_first(page, site, city, app, language):
    log_in(page, site, "operator", f.PASSWORD)
    account = f"/admin/accounts/{city['account']}"
    page.goto(f"{site}/admin/lang/{language}?next={account}")
    freeze = page.get_by_role("button", name="冻结" if language == "zh_CN" else "Freeze", exact=True)
    assert "danger" in freeze.get_attribute("class")
    page.get_by_label("原因" if language == "zh_CN" else "Reason").fill("疑似刷分，核查中")
    freeze.click()
    dialog = page.locator("dialog#confirm-dialog")
    dialog.wait_for(state="visible")
    says = "不能获得积分，也不能兑换" if language == "zh_CN" else "can neither earn nor redeem points"
    assert says in dialog.text_content()
    page.screenshot(path=str(SCREENSHOTS / "console" / f"confirm-freeze-{language.split('_')[0]}.png"))
    dialog.get_by_role("button", name="取消，不做更改" if language == "zh_CN" else "Cancel, change nothing").click()
    assert not dialog.is_visible() and not frozen(app, city["account"])  # the way out changed nothing
    freeze.click()
    dialog.locator("button.danger").click()
    page.wait_for_load_state("networkidle")
    assert frozen(app, city["account"])
    assert page.get_by_role("button", name="解冻" if language == "zh_CN" else "Unfreeze", exact=True).is_visible()


def test_the_monthly_report_downloads_as_xlsx_with_chinese_headers(page, site, city):
    month = datetime.now(BEIJING).strftime("%Y-%m")
    log_in(page, site, "operator", f.PASSWORD)
    page.goto(f"{site}/admin/exports?month={month}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="月度减排报表 XLSX").click()
    assert download_info.value.suggested_filename == f"碳惠泰安-减排量-{month}.xlsx"
    with open(download_info.value.path(), "rb") as handle:  # the saved file has no extension for openpyxl to check
        sheet = load_workbook(handle).active
    assert [c.value for c in sheet[1]] == ["月份", "区县代码", "区县", "场景代码", "场景", "类别", "行为数（次）",
                                           "减排量（g CO2e）", "减排量（t CO2e）", "积分"]
    assert sheet.freeze_panes == "A2" and sheet[1][0].font.bold
    row = [c.value for c in sheet[2]]
    assert row[1:6] == ["370902", "泰山区", "bus_ride", "公交出行", "核证减排量"]
    assert row[7] == 166 * row[6] and sheet[2][7].number_format == "#,##0"  # rides of 166 g, stored as numbers
