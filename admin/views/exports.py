"""Exports: the monthly reduction report (CSV, XLSX), certified reductions as JSON, and the audit log as CSV."""

from __future__ import annotations

import csv
import io
import json

from flask import Response, render_template, request

from admin.blueprint import blueprint, record_read
from admin.permissions import current_admin, requires
from admin.views.audit_log import filtered_events
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db
from carbon_platform.services import audit, exports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month() -> str:
    month = request.args.get("month", "").strip() or exports.last_month()
    exports.month_bounds(month)  # a bad month is a 422 from the error handler
    return month


def _download(body, mimetype: str, filename: str, **details) -> Response:
    """Every export is audited: who took what, when."""
    audit.record(audit.Actor.admin(current_admin()), "export.download", None, file=filename, **details)
    record_read()
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


@blueprint.get("/exports")
@requires("exports.view")
def exports_page():
    try:
        month = _month()
    except DomainError:
        month = exports.last_month()
    return render_template("admin/exports.html", month=month, rows=exports.monthly_reduction(month))


@blueprint.get("/exports/reduction.<any(csv, xlsx):kind>")
@requires("exports.view")
def reduction_report(kind: str):
    month = _month()
    rows = exports.monthly_reduction(month)
    if kind == "xlsx":
        return _download(exports.as_xlsx(rows, title=f"reduction {month}"), XLSX, f"reduction-{month}.xlsx",
                         month=month)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=exports.REPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return _download("\ufeff" + out.getvalue(), "text/csv", f"reduction-{month}.csv", month=month)


@blueprint.get("/exports/certified.json")
@requires("exports.view")
def certified_export():
    month = _month()
    body = json.dumps(exports.certified_reductions(month), ensure_ascii=False, indent=1)
    return _download(body, "application/json", f"certified-reductions-{month}.json", month=month)


@blueprint.get("/audit.csv")
@requires("audit.view")
def audit_csv():
    events, filters = filtered_events()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "occurred_at", "actor_type", "actor_id", "actor_name", "action", "target_type",
                     "target_id", "details", "ip"])
    for e in db.session.execute(events.limit(100_000)).scalars():
        writer.writerow([e.id, e.occurred_at.isoformat(), e.actor_type, e.actor_id or "", e.actor_name, e.action,
                         e.target_type or "", e.target_id or "", json.dumps(e.details, ensure_ascii=False), e.ip or ""])
    return _download("\ufeff" + out.getvalue(), "text/csv", "audit-log.csv", selection=filters)
