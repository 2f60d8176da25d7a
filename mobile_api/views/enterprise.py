"""The signed-in enterprise: its profile and carbon account, its sites and its energy reports.

Its actions, reduction totals, points history, bindings and authorisations are the ``/me/...`` views,
which serve whichever holder the token is for (a resident or an enterprise). Energy reports and their emissions
are ``services.energy_reports`` (the method: ``emissions``; issue #18).
"""

from __future__ import annotations

import io

from flask import g, send_file
from flask_smorest.fields import Upload
from marshmallow import Schema

from carbon_platform.db import commit
from carbon_platform.errors import NotFound
from carbon_platform.services import (
    energy_reports,
    ledger,
    report_sheets,
    statement_files,
    statement_periods,
    statements,
)
from carbon_platform.services.audit import Actor
from mobile_api.auth import BEARER, enterprise_required
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.common import Shown
from mobile_api.schemas.enterprise import (
    CorrectionSchema,
    OutputCreateSchema,
    OutputSchema,
    ReportCreateSchema,
    ReportingSchema,
    ReportQuerySchema,
    ReportSchema,
    ReportSummarySchema,
    SiteCreateSchema,
    SiteSchema,
    StatementCreateSchema,
    StatementSchema,
    StatementSummarySchema,
    VersionDetailSchema,
    YearSchema,
)
from mobile_api.schemas.me import EnterpriseMeSchema

blp = Blueprint("enterprise", __name__, url_prefix="/api/v1/enterprise", description="The signed-in enterprise.")
XLSX = statement_files.XLSX


def actor() -> Actor:
    return Actor("enterprise", g.enterprise.id, g.enterprise.contact_name)


@blp.get("/me")
@blp.response(200, EnterpriseMeSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def get_enterprise():
    """Profile, industry, balances (available, pending, expiring soon) and lifetime reduction of its account."""
    industry = energy_reports.industries().get(g.enterprise.industry_code or "")
    return Shown(g.enterprise, balances=ledger.balances(g.enterprise.account),
                 industry_name_zh=industry.name_zh if industry else None,
                 industry_name_en=industry.name_en if industry else None)


@blp.get("/reporting")
@blp.response(200, ReportingSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def reporting():
    """What an energy report may contain: the fuels of the factor registry in force, with their units."""
    registry = energy_reports.registry()
    return Shown(registry, fuels=[Shown(fuel, kind=kind) for kind, fuel in registry.fuels.items()])


@blp.get("/sites")
@blp.response(200, SiteSchema(many=True))
@blp.doc(security=[BEARER])
@enterprise_required
def list_sites():
    """The enterprise's sites, oldest first."""
    return energy_reports.sites(g.enterprise)


@blp.post("/sites")
@blp.arguments(SiteCreateSchema)
@blp.response(201, SiteSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def add_site(body):
    """Add a site (a plant, a workshop, an office building) that reports its energy on its own."""
    site = energy_reports.add_site(g.enterprise, name=body["name"], actor=actor())
    commit()
    return site


def _inputs(body) -> energy_reports.Inputs:
    return energy_reports.Inputs(body["electricity_kwh"], body["green_kwh"], body["heat_gj"], dict(body["fuels"]))


@blp.get("/reports")
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, ReportSummarySchema(many=True))
@blp.doc(security=[BEARER])
@enterprise_required
def list_reports(query):
    """Every site's reports, newest period first, each with its current version's emissions."""
    return energy_reports.reports(g.enterprise, year=query["year"])


@blp.post("/reports")
@blp.arguments(ReportCreateSchema)
@blp.response(201, ReportSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def submit_report(body):
    """Report a site's energy for a month (or a whole year) that is over; its emissions are computed at once
    (GB/T 32150-2015) with a receipt. A period already reported is corrected, not reported again (409)."""
    site = energy_reports.site_of(g.enterprise, body["site_id"])
    report = energy_reports.submit(g.enterprise, site, year=body["year"], month=body["month"],
                                   inputs=_inputs(body), actor=actor())
    commit()
    return report


class SheetUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "The filled-in template (XLSX, at most 2 MiB, 1,000 rows)."})


@blp.get("/reports/template.xlsx")
@blp.response(200, content_type=XLSX)
@blp.doc(security=[BEARER])
@enterprise_required
def report_template():
    """The XLSX template for energy reports: a row per site and period, a column per input and fuel with units."""
    return send_file(io.BytesIO(report_sheets.template()), as_attachment=True,
                     download_name="energy-report-template.xlsx", mimetype=XLSX, max_age=0)


@blp.post("/reports/sheets")
@blp.arguments(SheetUploadSchema, location="files")
@blp.response(201, ReportSummarySchema(many=True))
@blp.doc(security=[BEARER])
@enterprise_required
def upload_sheet(files):
    """Report many sites and periods at once with the filled-in template. Every row is checked first: one bad row
    stores nothing, and the answer (422 ``sheet_invalid``) lists every problem by row and column."""
    upload = files["file"]
    try:
        data = upload.read(report_sheets.MAX_BYTES + 1)  # one byte more than allowed is enough to refuse it
    finally:
        upload.close()  # a large upload is spooled to a temporary file: let it go now
    rows = report_sheets.read(data)
    reports = report_sheets.import_rows(g.enterprise, rows, actor=actor())
    commit()
    return reports


@blp.get("/reports/<int:report_id>")
@blp.response(200, ReportSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def show_report(report_id: int):
    """A report: its current version with the receipt, and every earlier version's figures."""
    return energy_reports.report_of(g.enterprise, report_id)


@blp.get("/reports/<int:report_id>/versions/<int:number>")
@blp.response(200, VersionDetailSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def show_version(report_id: int, number: int):
    """One version of a report as it was, with its receipt (an earlier version keeps the factors it had)."""
    report = energy_reports.report_of(g.enterprise, report_id)
    version = next((v for v in report.versions if v.number == number), None)
    if version is None:
        raise NotFound("no such version of the report", code="version_not_found")
    return version


@blp.post("/reports/<int:report_id>/corrections")
@blp.arguments(CorrectionSchema)
@blp.response(201, ReportSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def correct_report(body, report_id: int):
    """Correct a report: a new version, computed now; the earlier versions stay as they were."""
    report = energy_reports.report_of(g.enterprise, report_id)
    report = energy_reports.correct(g.enterprise, report, inputs=_inputs(body), note=body["note"], actor=actor())
    commit()
    return report


@blp.post("/outputs")
@blp.arguments(OutputCreateSchema)
@blp.response(201, OutputSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def declare_output(body):
    """Declare the output value of a year that is over (in ¥10,000): what the carbon intensity divides by. A second
    declaration for the year corrects the first (with a note); the first is kept."""
    output = energy_reports.declare_output(g.enterprise, year=body["year"], output_wan=body["output_wan"],
                                           note=body["note"], actor=actor())
    commit()
    return output


@blp.get("/years/<int:year>")
@blp.response(200, YearSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def year(year: int):
    """The year's emissions, carbon intensity, the industry's benchmark in Tai'an, the carbon-efficiency value and
    grade (1 best to 5), the change from the year before, and a receipt saying how (or why not)."""
    return energy_reports.year_figures(g.enterprise, year)


# -- statements (issue #18 item 6) --------------------------------------------------------------------------------

def _shown(statement):
    return Shown(statement, status=statements.status(statement))


@blp.post("/statements")
@blp.arguments(StatementCreateSchema)
@blp.response(201, StatementSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def issue_statement(body):
    """Issue a signed carbon-account statement for a calendar year (with the intensity and grade) or for any
    months that are over (at most 36), from the current versions of the reports. It never changes afterwards: a
    later statement of the period, or a correction of what it was made from, supersedes it."""
    first, last = (statement_periods.year_period(body["year"]) if body["year"] is not None
                   else (body["period_from"], body["period_to"]))
    statement = statements.issue(g.enterprise, period_from=first, period_to=last, actor=actor())
    commit()
    return {**statements.download(statement), "status": statements.status(statement)}


@blp.get("/statements")
@blp.response(200, StatementSummarySchema(many=True))
@blp.doc(security=[BEARER])
@enterprise_required
def list_statements():
    """The enterprise's statements, newest first, each with whether it is still current."""
    return [_shown(s) for s in statements.of_enterprise(g.enterprise)]


@blp.get("/statements/<serial>")
@blp.response(200, StatementSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def show_statement(serial: str):
    """A statement as signed (the JSON download: document and signature) and whether it is still current."""
    statement = statements.own(g.enterprise, serial)
    return {**statements.download(statement), "status": statements.status(statement)}


@blp.get("/statements/<serial>/statement.json")
@blp.response(200, content_type="application/json")
@blp.doc(security=[BEARER])
@enterprise_required
def statement_json(serial: str):
    """The statement as a JSON file: the document and its Ed25519 signature, checkable offline with the key of
    ``/api/v1/statements/keys``, or by posting it to ``/api/v1/statements/verify``."""
    return _file(statements.own(g.enterprise, serial), "json")


@blp.get("/statements/<serial>/statement.pdf")
@blp.response(200, content_type="application/pdf")
@blp.doc(security=[BEARER])
@enterprise_required
def statement_pdf(serial: str):
    """The statement as a PDF (Chinese and English), with its serial, digest and a QR code of its check page."""
    return _file(statements.own(g.enterprise, serial), "pdf")


@blp.get("/statements/<serial>/statement.xlsx")
@blp.response(200, content_type=XLSX)
@blp.doc(security=[BEARER])
@enterprise_required
def statement_xlsx(serial: str):
    """The statement as an XLSX workbook: summary, emissions by source, the report versions it was made from."""
    return _file(statements.own(g.enterprise, serial), "xlsx")


def _file(statement, kind: str):
    file = statement_files.as_file(statement, kind)
    return send_file(io.BytesIO(file.body), mimetype=file.mimetype, as_attachment=True, download_name=file.name,
                     max_age=0)
