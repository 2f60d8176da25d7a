"""Enterprise carbon-account statements (issue #18 item 6) through /api/v1: signed, never changed, superseded by a
later statement or a correction, checked by anyone with the serial or the JSON download; as PDF, XLSX and JSON.
The figures are worked out by hand in the comments."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from openpyxl import load_workbook
from pypdf import PdfReader

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent, Enterprise, EnterpriseStatement
from carbon_platform.services import audit, energy_reports, statement_signing, statements
from emissions.calculate import Activity, compute
from tests import factories as f
from tests.mobile_api.helpers import assert_error, bearer, tokens
from tests.mobile_api.test_enterprise_grades import PEERS, cement_works
from tests.mobile_api.test_statement_counts import counted

API = "/api/v1/enterprise"
CHECK = "/api/v1/statements"

# Our works: one site, twelve monthly reports of 2025, each 100,000 kWh (20,000 of them with green certificates)
# and 10,000 Nm3 of natural gas; output value 1,000 万元.
#   electricity a month: (100,000 − 20,000) kWh × 0.6410 kgCO2/kWh (Shandong 2022, the latest published) = 51,280 kg
#   gas a month: 10,000 Nm3 × 389.31 GJ/10^4 Nm3 = 389.31 GJ × 15.3 kgC/GJ = 5,956.443 kgC × 0.99 = 5,896.87857 kgC
#                × 44/12 = 21,621.888… kg → rounded up 21,622 kg (each report's line is rounded, against the
#                enterprise; a statement adds the reports as they were computed: 12 × 21,622, not ceil(12 × 21,621.9))
#   the year: scope 1 = 12 × 21,622 = 259,464 kg; scope 2 = 12 × 51,280 = 615,360 kg; total 874,824 kg
#   intensity = 874,824 × 10,000 / ¥10,000,000 = 874.824 kg/万元
# With the four peers of test_enterprise_grades (1,282,000 kg/¥10M, 641,000/¥5M, 320,500/¥10M, 641,000/¥10M):
#   benchmark = (2,884,500 + 874,824) × 10,000 / ¥45,000,000 = 3,759,324 / 4,500 = 835.40533… → printed 835.406 (up)
#   value = 835.40533… / 874.824 = 0.95494… → printed 0.954 (down) → grade 3 (at least 0.9, below 1.1)
MONTH = energy_reports.Inputs(electricity_kwh=100_000, green_kwh=20_000, fuels={"natural_gas": Decimal(10_000)})


def our_works(app, *, months=range(1, 13), output: str | None = "1000") -> tuple[int, str]:
    with app.app_context():
        seeding.load_reference()
        enterprise = f.enterprise()
        energy_reports.classify(enterprise, code="30", key_energy_user=True, actor=audit.SYSTEM)
        site = energy_reports.add_site(enterprise, name="一号窑", actor=audit.SYSTEM)
        for month in months:
            energy_reports.submit(enterprise, site, year=2025, month=month, inputs=MONTH, actor=audit.SYSTEM)
        if output:
            energy_reports.declare_output(enterprise, year=2025, output_wan=Decimal(output), note="",
                                          actor=audit.SYSTEM)
        commit()
        return enterprise.id, enterprise.contact_phone.removeprefix("+86")


def headers(client, app, phone: str) -> dict:
    return bearer(tokens(client, app, phone, prefix=f"{API}/auth"))


@pytest.fixture
def peers(app):
    return [cement_works(app, kwh, output) for kwh, output in PEERS]


def issue(client, auth, **body):
    response = client.post(f"{API}/statements", json=body or {"year": 2025}, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def public_key(client) -> Ed25519PublicKey:
    keys = client.get(f"{CHECK}/keys").json
    assert [k["current"] for k in keys] == [True] and keys[0]["algorithm"] == "Ed25519"
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[0]["public_key"]))


def test_a_year_statement_carries_the_hand_computed_figures_and_a_signature_anyone_can_check(client, app, peers):
    _id, phone = our_works(app)
    auth = headers(client, app, phone)
    body = issue(client, auth)
    doc, signature = body["statement"], body["signature"]
    assert body["status"] == {"current": True, "reason": None, "superseded_by": None}
    assert doc["emissions"] == {"total_kg": 874_824, "scope1_kg": 259_464, "scope2_kg": 615_360}
    assert doc["period"] == {"from": "2025-01", "to": "2025-12", "whole_year": 2025, "months": 12}
    assert doc["complete"] is True and doc["missing"] == []
    gas, electricity = doc["by_source"]
    assert (gas["kind"], gas["scope"], gas["quantity"], gas["unit"], gas["kg"]) == (
        "natural_gas", 1, "120000", "Nm3", 259_464)
    assert (electricity["quantity"], electricity["green_kwh"], electricity["kg"]) == ("1200000", 240_000, 615_360)
    assert doc["by_site"] == [{"site": "一号窑", "kg": 874_824, "reports": 12}]
    year = doc["year"]
    assert (year["intensity"], year["benchmark"], year["peers"], year["value"], year["grade"]) == (
        "874.824", "835.406", 5, "0.954", 3)
    assert doc["method"]["registry_versions"] == ["2026.1"] and len(doc["sources"]) == 12
    # The signature is over the canonical bytes of the document, with the published key: checked here with the
    # cryptography library alone, as a bank would, and it fails for a document changed by one kilogram.
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    key = public_key(client)
    key.verify(base64.b64decode(signature["value"]), canonical)
    assert signature["digest_sha256"] == hashlib.sha256(canonical).hexdigest()
    forged = copy.deepcopy(doc)
    forged["emissions"]["total_kg"] -= 1
    with pytest.raises(InvalidSignature):
        key.verify(base64.b64decode(signature["value"]), json.dumps(
            forged, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    # The public check by serial gives the headline figures and the digest, to compare with a copy in hand.
    check = client.get(f"{CHECK}/{doc['serial']}").json
    assert (check["genuine"], check["total_kg"], check["grade"], check["digest"]) == (
        True, 874_824, 3, signature["digest_sha256"])
    assert check["status"]["current"] is True and check["enterprise"] == doc["enterprise"]["name"]
    with app.app_context():
        event = db.session.query(AuditEvent).filter_by(action="enterprise.statement.issue").one()
        assert event.details["serial"] == doc["serial"] and event.details["total_kg"] == 874_824


def test_every_figure_re_derives_from_the_inputs_and_factors_the_statement_declares(client, app, peers):
    _id, phone = our_works(app)
    doc = issue(client, headers(client, app, phone))["statement"]
    registry = energy_reports.registry()
    assert doc["method"]["registry_versions"] == [registry.version]
    scope1 = scope2 = 0
    for source in doc["sources"]:
        inputs = energy_reports.Inputs.from_stored(source["inputs"])
        result = compute(Activity(int(source["period"][:4]), inputs.electricity_kwh, inputs.green_kwh,
                                  inputs.heat_gj, inputs.fuels), registry,
                         on=date.fromisoformat(source["computed_on"]))
        assert (result.scope1_kg, result.scope2_kg, result.total_kg) == (
            source["scope1_kg"], source["scope2_kg"], source["total_kg"])
        scope1, scope2 = scope1 + result.scope1_kg, scope2 + result.scope2_kg
    assert doc["emissions"] == {"total_kg": scope1 + scope2, "scope1_kg": scope1, "scope2_kg": scope2}
    assert sum(row["kg"] for row in doc["by_source"]) == scope1 + scope2


def test_a_correction_supersedes_the_statement_never_changes_it_and_the_check_page_says_so(client, app, peers):
    _id, phone = our_works(app)
    auth = headers(client, app, phone)
    first = issue(client, auth)
    serial = first["statement"]["serial"]
    reports = client.get(f"{API}/reports", query_string={"year": 2025}, headers=auth)
    assert reports.status_code == 200, reports.json
    reports = reports.json
    march = next(r for r in reports if r["period"] == "2025-03")
    corrected = client.post(f"{API}/reports/{march['id']}/corrections", headers=auth, json={
        "electricity_kwh": 100_000, "green_kwh": 20_000, "heat_gj": 0, "fuels": {"natural_gas": 20_000},
        "note": "燃气表读数抄错"})
    assert corrected.status_code == 201, corrected.json
    check = client.get(f"{CHECK}/{serial}").json
    assert check["genuine"] is True and check["status"] == {
        "current": False, "reason": "corrected", "superseded_by": None}
    page = client.get(f"/statements/{serial}")
    assert page.status_code == 200 and "已失效" in page.get_data(as_text=True)
    # The statement itself is as it was issued: same figures, same signature.
    again = client.get(f"{API}/statements/{serial}", headers=auth).json
    assert again["statement"] == first["statement"] and again["signature"] == first["signature"]
    # A new one is made from the corrected March (the gas doubled: 21,622 → 2 × 21,621.888… = 43,243.776 → 43,244
    # kg, so the year gains 21,622 kg), and the first now names it.
    second = issue(client, auth)
    assert second["statement"]["emissions"]["total_kg"] == 874_824 + 21_622
    assert second["status"]["current"] is True
    assert next(s for s in second["statement"]["sources"] if s["period"] == "2025-03")["version"] == 2
    check = client.get(f"{CHECK}/{serial}").json
    assert check["status"] == {"current": False, "reason": "later_statement",
                               "superseded_by": second["statement"]["serial"]}
    english = client.get(f"/statements/{serial}?lang=en").get_data(as_text=True)
    assert second["statement"]["serial"] in english and "superseded" in english
    listed = client.get(f"{API}/statements", headers=auth).json
    assert [s["serial"] for s in listed] == [second["statement"]["serial"], serial]
    assert [s["status"]["current"] for s in listed] == [True, False]


def test_verify_takes_the_json_download_and_refuses_a_changed_or_unsigned_one(client, app, peers):
    _id, phone = our_works(app)
    auth = headers(client, app, phone)
    serial = issue(client, auth)["statement"]["serial"]
    download = client.get(f"{API}/statements/{serial}/statement.json", headers=auth)
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert f"{serial}.json" in download.headers["Content-Disposition"]
    document = json.loads(download.data)
    verified = client.post(f"{CHECK}/verify", json=document).json
    assert (verified["genuine"], verified["serial"], verified["status"]["current"]) == (True, serial, True)
    changed = copy.deepcopy(document)
    changed["statement"]["year"]["grade"] = 1
    assert client.post(f"{CHECK}/verify", json=changed).json == {**dict.fromkeys(verified, None),
                                                                  "genuine": False, "why_not": "signature_invalid"}
    unknown = copy.deepcopy(document)
    unknown["signature"]["key_id"] = "0" * 16
    assert client.post(f"{CHECK}/verify", json=unknown).json["why_not"] == "unknown_key"
    broken = copy.deepcopy(document)
    broken["signature"]["value"] = "not base64!"
    assert client.post(f"{CHECK}/verify", json=broken).json["why_not"] == "malformed"
    assert_error(client.post(f"{CHECK}/verify", json={"statement": {}}), 422)
    # Signed with the platform's key but never issued (a key that leaked would be the only way): not genuine.
    with app.app_context():
        forged = copy.deepcopy(document["statement"])
        forged["serial"] = "CS2025-AAAAAAAAAAAAAA"
        key = statement_signing.signing_key()
        signature = {**document["signature"],
                     "value": base64.b64encode(key.sign(statement_signing.canonical(forged))).decode()}
    assert client.post(f"{CHECK}/verify", json={"statement": forged, "signature": signature}).json[
        "why_not"] == "not_issued"


def test_the_pdf_is_drawn_in_a_chinese_font_and_the_xlsx_has_chinese_headers(client, app, peers):
    _id, phone = our_works(app)
    auth = headers(client, app, phone)
    serial = issue(client, auth)["statement"]["serial"]
    pdf = client.get(f"{API}/statements/{serial}/statement.pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in ("企业碳账户对账单", serial, "874.824", "天然气", "外购电力", "碳效等级", f"/statements/{serial}"):
        assert expected in text, expected
    fonts = {str(font["/BaseFont"]) for page in reader.pages
             for font in page["/Resources"]["/Font"].get_object().values()}
    assert any("Noto-Sans-CJK-SC" in name for name in fonts), fonts  # Debian's fonts-noto-cjk, embedded
    xlsx = client.get(f"{API}/statements/{serial}/statement.xlsx", headers=auth)
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == ["概要 Summary", "排放来源 Sources", "报告版本 Report versions"]
    summary = {row[0]: row[1] for row in book["概要 Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["编号 Serial"] == serial and summary["排放总量（kg CO2）Total emissions (kg CO2)"] == 874_824
    assert summary["碳效等级 Grade (1 best – 5)"] == 3
    sources = book["排放来源 Sources"]
    assert sources.freeze_panes == "A2" and sources["A1"].value == "来源 Source"
    assert [row[0] for row in sources.iter_rows(min_row=2, values_only=True)] == ["天然气", "外购电力"]
    assert book["报告版本 Report versions"].max_row == 13


def test_a_statement_of_some_months_lists_what_is_missing_and_carries_no_grade(client, app):
    # March to May reported; the statement asks for March to June: three reports, June missing, no year figures.
    _id, phone = our_works(app, months=range(3, 6), output=None)
    auth = headers(client, app, phone)
    doc = issue(client, auth, period_from="2025-03", period_to="2025-06")["statement"]
    assert doc["emissions"]["total_kg"] == 3 * 72_902 and doc["complete"] is False
    assert doc["missing"] == ["一号窑: 2025-06"] and doc["year"] is None
    assert doc["period"]["whole_year"] is None and doc["method"]["grades_version"] is None


@pytest.mark.parametrize("body, code", [
    ({}, None),
    ({"year": 2025, "period_from": "2025-01", "period_to": "2025-02"}, None),
    ({"period_from": "2025-01"}, None),
    ({"period_from": "2025-13", "period_to": "2025-14"}, None),
    ({"period_from": "2025-06", "period_to": "2025-01"}, "statement_period_invalid"),
    ({"period_from": "2020-01", "period_to": "2025-01"}, "statement_period_invalid"),
    ({"year": 2100}, "report_period_not_over"),
    ({"year": "2025"}, None),
    ({"year": 2025, "sign": "me"}, None),
])
def test_a_period_no_statement_can_cover_is_refused_and_nothing_is_stored(client, app, body, code):
    _id, phone = our_works(app, months=range(1, 3), output=None)
    response = client.post(f"{API}/statements", json=body, headers=headers(client, app, phone))
    assert_error(response, 422, code)
    with app.app_context():
        assert db.session.query(EnterpriseStatement).count() == 0


def test_no_statement_without_reports_and_none_of_another_enterprises(client, app):
    _id, phone = our_works(app, months=range(1, 3), output=None)
    auth = headers(client, app, phone)
    assert_error(client.post(f"{API}/statements", json={"year": 2024}, headers=auth), 409, "statement_no_reports")
    serial = issue(client, auth, period_from="2025-01", period_to="2025-02")["statement"]["serial"]
    _other, other_phone = our_works(app, months=range(1, 2), output=None)
    other = headers(client, app, other_phone)
    for suffix in ("", "/statement.pdf", "/statement.xlsx", "/statement.json"):
        assert_error(client.get(f"{API}/statements/{serial}{suffix}", headers=other), 404, "statement_not_found")
    assert_error(client.get(f"{API}/statements/{serial}"), 401)
    assert_error(client.get(f"{CHECK}/CS2025-NOSUCHSERIAL00"), 404, "statement_not_found")
    assert client.get("/statements/CS2025-NOSUCHSERIAL00").status_code == 404
    assert client.get(f"/statements?serial={serial.lower()}").status_code == 200


def test_the_cli_issues_every_reporting_enterprise_a_year_statement_once(app, peers):
    our_works(app)
    with app.app_context():
        seeding.load_reference()
        unclassified = f.enterprise()  # no industry: cannot report, gets no statement
        commit()
        assert unclassified.industry_code is None
    runner = app.test_cli_runner()
    result = runner.invoke(args=["enterprise", "statements", "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert "statements issued: 5 of 5" in result.output
    with app.app_context():
        issued = db.session.query(EnterpriseStatement).all()
        assert len(issued) == 5 and all(statements.status(s).current for s in issued)
        ours = next(s for s in issued if s.document["emissions"]["total_kg"] == 874_824)
        # The batch's figures are the single statement's: the same benchmark and grade from the same totals.
        assert (ours.document["year"]["benchmark"], ours.document["year"]["grade"]) == ("835.406", 3)
        statement = ours
        assert statement.digest == hashlib.sha256(statement_signing.canonical(statement.document)).hexdigest()
    again = runner.invoke(args=["enterprise", "statements", "--year", "2025"])
    assert again.exit_code == 0 and "statements issued: 0 of 5" in again.output
    with app.app_context():
        assert db.session.query(EnterpriseStatement).count() == 5
        assert db.session.query(Enterprise).count() == 6


def test_the_batch_costs_the_same_statements_for_ten_enterprises_as_for_forty(app, backend):
    def batch_of(n: int, year: int) -> int:
        with app.app_context():
            seeding.load_reference()
            for _ in range(n):
                enterprise = f.enterprise()
                energy_reports.classify(enterprise, code="30", key_energy_user=True, actor=audit.SYSTEM)
                site = energy_reports.add_site(enterprise, name=f"厂区{year}", actor=audit.SYSTEM)
                energy_reports.submit(enterprise, site, year=year, month=None,
                                      inputs=energy_reports.Inputs(electricity_kwh=1000), actor=audit.SYSTEM)
            commit()
        with counted(app) as sent, app.app_context():
            count, batches = statements.year_batches(year, actor=audit.CLI)
            assert sum(len(issued) for _n, issued in batches) == count == n
            db.session.rollback()
        return len(sent)

    ten, forty = batch_of(10, 2023), batch_of(40, 2024)
    # Per batch of 200: the enterprises with their districts, sites, reports and their versions, output numbers,
    # the industry's totals of the year and the year before, one multi-row insert. Nothing per enterprise.
    assert forty <= ten + 2, (ten, forty)
