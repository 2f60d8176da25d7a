"""Exports: the monthly reduction report in CSV and XLSX, certified reductions as JSON, the audit log as CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from openpyxl import load_workbook

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, AuditEvent
from carbon_platform.services import earning
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
    assert [(r["district"], r["scenario"], r["actions"], r["grams"], r["points"]) for r in rows] == [
        ("370902", "bus_ride", "3", "498", "99")]
    workbook = load_workbook(io.BytesIO(client.get("/admin/exports/reduction.xlsx?month=2026-06").data))
    sheet = workbook.active
    assert [c.value for c in sheet[1]][:4] == ["month", "district", "district_name", "scenario"]
    assert [c.value for c in sheet[3]][6] == 498  # the totals row
    assert {r["credit"] for r in rows} == {"certified_reduction"}
    assert client.get("/admin/exports/reduction.csv?month=June").status_code == 400
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "export.download")).scalar_one() == 2


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
    assert [(r["scenario"], r["credit"], r["grams"], r["points"]) for r in csv.DictReader(io.StringIO(text))] == [
        ("bus_ride", "certified_reduction", "166", "33"), ("tree_planting", "incentive_points", "0", "200")]
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
    assert {r["action"] for r in rows} == {"export.download"} and len(rows) == 1
