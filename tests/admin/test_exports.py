"""Exports: the monthly reduction report in CSV and XLSX, certified reductions as JSON, the audit log and the
dashboard's chart tables in CSV and XLSX."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from openpyxl import load_workbook

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, AuditEvent
from carbon_platform.services import audit, earning
from tests import factories as f
from tests.admin.helpers import console

BEIJING = timezone(timedelta(hours=8))
JUNE = datetime(2026, 6, 3, 9, 30, tzinfo=BEIJING)


def june_rides(app, n=3):
    with app.app_context():
        for i in range(n):
            resident = f.resident(phone=f"1380000{5000 + i}", district_code="370902")
            f.bus_ride(resident, JUNE + timedelta(hours=i), f"june-{i}", distance_km=6.2)
        commit()


def test_the_monthly_report_in_csv_and_xlsx_adds_up(app):
    client = console(app, AdminRole.AUDITOR)
    june_rides(app)
    text = client.get("/admin/exports/reduction.csv?month=2026-06").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    # 3 rides × 6.2 km × 26.9 g/pkm = 3 × 166 g = 498 g; 3 × 33 points
    assert [(r["区县代码"], r["区县"], r["场景代码"], r["场景"], r["行为数（次）"], r["减排量（g CO2e）"], r["积分"])
            for r in rows] == [("370902", "泰山区", "bus_ride", "公交出行", "3", "498", "99")]
    workbook = load_workbook(io.BytesIO(client.get("/admin/exports/reduction.xlsx?month=2026-06").data))
    sheet = workbook.active
    assert [c.value for c in sheet[1]][:4] == ["月份", "区县代码", "区县", "场景代码"]
    assert [c.value for c in sheet[3]][7] == 498  # the totals row
    assert {r["类别"] for r in rows} == {"核证减排量"}
    assert client.get("/admin/exports/reduction.csv?month=June").status_code == 400
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "export.download")).scalar_one() == 2


def test_the_xlsx_has_named_headers_with_units_numbers_as_numbers_and_a_frozen_header(app):
    client = console(app, AdminRole.AUDITOR)
    june_rides(app)
    response = client.get("/admin/exports/reduction.xlsx?month=2026-06")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert 'filename="taian-reduction-2026-06.xlsx"' in disposition  # the ASCII fallback
    assert "filename*=UTF-8''" + quote("碳惠泰安-减排量-2026-06.xlsx") in disposition
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == ["月份", "区县代码", "区县", "场景代码", "场景", "类别", "行为数（次）",
                                           "减排量（g CO2e）", "减排量（t CO2e）", "积分"]
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    month, code, district, scenario, name, credit, actions, grams, tonnes, points = sheet[2]
    assert month.value == datetime(2026, 6, 1) and month.number_format == "yyyy-mm"  # a real date
    assert (code.value, district.value, name.value, credit.value) == ("370902", "泰山区", "公交出行", "核证减排量")
    assert (actions.value, grams.value, points.value) == (3, 498, 99)  # numbers, not text
    assert grams.number_format == points.number_format == "#,##0" and tonnes.number_format == "#,##0.000000"
    assert tonnes.value == 0.000498
    assert sheet.column_dimensions["H"].width >= len("减排量（g CO2e）")
    assert [c.value for c in sheet[3]][6:] == [3, 498, 0.000498, 99] and sheet[3][0].value == "合计"


def test_a_report_over_several_months_lists_them_month_by_month_and_says_its_period(app):
    client = console(app, AdminRole.AUDITOR)
    june_rides(app, n=2)
    with app.app_context():
        f.bus_ride(f.resident(phone="13800005200", district_code="370902"), JUNE + timedelta(days=30), "july-0",
                   distance_km=6.2)
        commit()
    response = client.get("/admin/exports/reduction.xlsx?month=2026-05&to=2026-07")
    disposition = response.headers["Content-Disposition"]
    assert 'filename="taian-reduction-2026-05-to-2026-07.xlsx"' in disposition
    assert "filename*=UTF-8''" + quote("碳惠泰安-减排量-2026-05至2026-07.xlsx") in disposition
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [(r[0].value, r[6].value, r[7].value) for r in sheet.iter_rows(min_row=2)] == [
        (datetime(2026, 6, 1), 2, 332), (datetime(2026, 7, 1), 1, 166), ("合计", 3, 498)]
    page = client.get("/admin/exports?month=2026-05&to=2026-07").get_data(as_text=True)
    assert "<td>2026-06</td>" in page and "<td>2026-07</td>" in page and 'name="to" value="2026-07"' in page
    assert client.get("/admin/exports/reduction.csv?month=2020-01&to=2026-07").status_code == 400  # over 36 months


def test_the_exports_speak_english_when_the_console_does(app):
    client = console(app, AdminRole.AUDITOR)
    june_rides(app, n=1)
    client.get("/admin/lang/en")
    response = client.get("/admin/exports/reduction.xlsx?month=2026-06")
    assert "filename*=UTF-8''Carbon-Inclusion-Taian-Reduction-2026-06.xlsx" in response.headers[
        "Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == ["Month", "District code", "District", "Scenario code", "Scenario",
                                           "Kind", "Actions", "Reduction (g CO2e)", "Reduction (t CO2e)", "Points"]
    assert [c.value for c in sheet[2]][2:8] == ["Taishan District", "bus_ride", "Bus ride", "Certified reduction", 1,
                                                166]
    text = client.get("/admin/exports/reduction.csv?month=2026-06").get_data(as_text=True)
    assert text.startswith("\ufeffMonth,District code,District,")
    chart = client.get("/admin/dashboard/scenario.csv?from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(chart.lstrip("\ufeff"))))[:2] == [
        ["Scenario code", "Name", "Reduction (g CO2e)", "Points", "Actions"],
        ["bus_ride", "Bus ride", "166", "33", "1"]]


def test_every_console_csv_starts_with_the_bom_and_has_a_readable_name(app):
    client = console(app, AdminRole.SUPER_ADMIN)
    june_rides(app, n=1)
    for url, name in (("/admin/exports/reduction.csv?month=2026-06", "碳惠泰安-减排量-2026-06.csv"),
                      ("/admin/audit.csv", "碳惠泰安-审计日志-"),
                      ("/admin/settlement.csv?from=2026-06-01&to=2026-06-30",
                       "碳惠泰安-核销结算-2026-06-01至2026-06-30.csv"),
                      ("/admin/dashboard/scenario.csv?from=2026-06-01&to=2026-06-30",
                       "碳惠泰安-按场景-2026-06-01至2026-06-30.csv")):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/csv", url
        assert response.data.startswith("\ufeff".encode()), url
        assert "filename*=UTF-8''" + quote(name) in response.headers["Content-Disposition"], url
        assert response.headers["Content-Disposition"].isascii()


def test_the_report_tells_certified_reductions_from_incentive_points(app):
    client = console(app, AdminRole.AUDITOR)
    june_rides(app, n=1)
    with app.app_context():
        planter = f.resident(phone="13800005100", district_code="370902")
        earning.award_action(planter.account_id, account_type="resident", scenario="tree_planting",
                             inputs={"trees": 2}, occurred_at=JUNE, idempotency_key="june-trees", channel="app",
                             district="370902", now=JUNE + timedelta(minutes=5))
        commit()
    text = client.get("/admin/exports/reduction.csv?month=2026-06").get_data(as_text=True).lstrip("\ufeff")
    # a ride certifies 166 g (33 points); two trees earn 200 incentive points and certify nothing
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["场景代码"], r["类别"], r["减排量（g CO2e）"], r["积分"]) for r in rows] == [
        ("bus_ride", "核证减排量", "166", "33"), ("tree_planting", "激励积分", "0", "200")]
    # the provincial export carries the certified reduction only
    body = json.loads(client.get("/admin/exports/certified.json?month=2026-06").data)
    assert body["totals"]["records"] == 1 and body["totals"]["grams_co2e"] == 166


def test_certified_reductions_carry_methodology_and_factor_references_and_no_personal_data(app):
    client = console(app, AdminRole.OPERATOR)
    june_rides(app, n=2)
    body = json.loads(client.get("/admin/exports/certified.json?month=2026-06").data)
    assert body["totals"] == {"records": 2, "grams_co2e": 332, "tonnes_co2e": 0.000332}
    record = body["records"][0]
    assert record["rulebook"] == {"id": "taian", "version": "2026.1"}
    factor = body["factors"][record["factors"][0]]
    assert factor["id"] == "er_bus_per_pkm" and factor["value"] == "26.9" and factor["source"]
    assert body["methodologies"][record["methodology"]]["formula"].startswith("distance_km")
    assert "13800005000" not in json.dumps(body, ensure_ascii=False)  # accounts only as a keyed hash


def test_the_audit_log_downloads_with_its_filters(app):
    client = console(app, AdminRole.AUDITOR)
    june_rides(app, n=1)
    client.get("/admin/exports/reduction.csv?month=2026-06")
    text = client.get("/admin/audit.csv?action=export").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["操作代码"] for r in rows} == {"export.download"} and len(rows) == 1
    assert rows[0]["操作"] == "下载导出文件" and rows[0]["操作者类型"] == "管理员"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[0]["时间（北京时间）"])


def xlsx(response):
    """The download's first sheet, after checking that it is an XLSX."""
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data)).active


def two_exports_two_days_apart(app) -> str:
    """Two downloads in the audit log on 3 and 5 June (Beijing), so that the log's period is known (the log is
    append-only: the events are written with their time)."""
    with app.app_context():
        actor = audit.Actor.admin(f.admin(AdminRole.OPERATOR))
        for day, month in ((JUNE, "2026-06"), (JUNE + timedelta(days=2), "2026-05")):
            audit.record(actor, "export.download", None, file=f"taian-reduction-{month}.csv").occurred_at = day
            db.session.flush()
        commit()
    return actor.name  # the downloads of the log itself are the auditor's, and today


def test_the_audit_log_downloads_as_xlsx_named_by_the_days_it_covers_in_both_languages(app):
    client = console(app, AdminRole.AUDITOR)
    query = urlencode({"action": "export", "actor": two_exports_two_days_apart(app)})
    response = client.get(f"/admin/audit.xlsx?{query}")
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" + quote("碳惠泰安-审计日志-2026-06-03至2026-06-05.xlsx") in disposition
    assert 'filename="taian-audit-log-2026-06-03-to-2026-06-05.xlsx"' in disposition and disposition.isascii()
    sheet = xlsx(response)
    assert [c.value for c in sheet[1]] == ["编号", "时间（北京时间）", "操作者类型", "操作者编号", "操作者", "操作",
                                           "操作代码", "对象类型", "对象编号", "详情", "IP 地址"]
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 2  # the filter holds: the logins are not exports
    number, moment, actor_type, *_rest = rows[0]  # newest first
    assert isinstance(number.value, int) and number.number_format == "#,##0"
    assert moment.value == datetime(2026, 6, 5, 9, 30) and moment.number_format == "yyyy-mm-dd hh:mm:ss"
    assert actor_type.value == "管理员" and rows[0][6].value == "export.download" and rows[0][5].value == "下载导出文件"
    assert sheet.column_dimensions["B"].width >= 20

    client.get("/admin/lang/en")
    response = client.get(f"/admin/audit.xlsx?{query}")
    assert "filename*=UTF-8''" + quote("Carbon-Inclusion-Taian-Audit-log-2026-06-03_to_2026-06-05.xlsx") in \
        response.headers["Content-Disposition"]
    sheet = xlsx(response)
    headers = [c.value for c in sheet[1]]
    assert headers[0] == "ID" and all(header.isascii() for header in headers), headers
    assert sheet.freeze_panes == "A2" and sheet[2][1].number_format == "yyyy-mm-dd hh:mm:ss"
    # the CSV is the same table, named the same way
    response = client.get(f"/admin/audit.csv?{query}")
    assert response.mimetype == "text/csv" and response.data.startswith("\ufeff".encode())
    assert "Audit-log-2026-06-03_to_2026-06-05.csv" in response.headers["Content-Disposition"]


def test_each_dashboard_chart_downloads_as_xlsx_with_units_and_number_formats_in_both_languages(app):
    client = console(app, AdminRole.AUDITOR)
    june_rides(app, n=2)
    response = client.get("/admin/dashboard/scenario.xlsx?from=2026-06-01&to=2026-06-30")
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" + quote("碳惠泰安-按场景-2026-06-01至2026-06-30.xlsx") in disposition
    assert 'filename="taian-scenario-2026-06-01-2026-06-30.xlsx"' in disposition
    sheet = xlsx(response)
    assert [c.value for c in sheet[1]] == ["场景代码", "名称", "减排量（g CO2e）", "积分", "行为数（次）"]
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    code, name, grams, points, actions = sheet[2]
    assert (code.value, name.value, grams.value, points.value, actions.value) == ("bus_ride", "公交出行", 332, 66, 2)
    assert grams.number_format == points.number_format == actions.number_format == "#,##0"

    campaigns = xlsx(client.get("/admin/dashboard/campaigns.xlsx?from=2026-06-01&to=2026-06-30"))
    headers = [c.value for c in campaigns[1]]
    assert "预算已用百分比" in headers and "预算（积分）" in headers

    client.get("/admin/lang/en")
    response = client.get("/admin/dashboard/scenario.xlsx?from=2026-06-01&to=2026-06-30&district=370902")
    assert "filename*=UTF-8''" + quote("Carbon-Inclusion-Taian-By-scenario-2026-06-01_to_2026-06-30-370902.xlsx") \
        in response.headers["Content-Disposition"]
    sheet = xlsx(response)
    assert [c.value for c in sheet[1]] == ["Scenario code", "Name", "Reduction (g CO2e)", "Points", "Actions"]
    assert [c.value for c in sheet[2]] == ["bus_ride", "Bus ride", 332, 66, 2] and sheet.freeze_panes == "A2"
    assert client.get("/admin/dashboard/scenario.pdf").status_code == 404
    assert client.get("/admin/dashboard/nothing.xlsx").status_code == 404


def test_the_dashboard_and_the_audit_log_offer_both_downloads(app):
    client = console(app, AdminRole.SUPER_ADMIN)
    dashboard = client.get("/admin/dashboard?from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    for chart in ("scenario", "trend_day", "campaigns"):
        for kind in ("csv", "xlsx"):
            assert f"/admin/dashboard/{chart}.{kind}?" in dashboard, (chart, kind)
    log = client.get("/admin/audit?action=admin").get_data(as_text=True)
    assert "/admin/audit.xlsx?action=admin" in log and "/admin/audit.csv?action=admin" in log
