"""Exports: the monthly reduction report (CSV, XLSX), certified reductions as JSON, and the audit log (CSV, XLSX).

The report and the audit log are for people (``admin.downloads``: headers in the console's language with units,
codes by name); the certified JSON is for the provincial platform's machines and keeps its field names.
"""

from __future__ import annotations

import json
from datetime import date

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

from admin import choices, downloads
from admin.audit_details import action_name, actor_type_name, target_kind
from admin.blueprint import blueprint, record_read
from admin.downloads import Column
from admin.permissions import current_admin, requires
from admin.views.audit_log import filtered_events
from carbon_platform.clock import utcnow
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db
from carbon_platform.services import audit, exports

CREDIT_NAMES = {exports.CERTIFIED: _l("核证减排量"), exports.INCENTIVE: _l("激励积分")}


def _month() -> str:
    month = request.args.get("month", "").strip() or exports.last_month()
    exports.month_bounds(month)  # a bad month is a 422 from the error handler
    return month


def _months() -> list[str]:
    """The report's months: ``month``, through ``to`` when the URL gives one (``?month=2026-01&to=2026-11``)."""
    first = _month()
    return exports.months(first, request.args.get("to", "").strip() or first)


def _period(months: list[str]) -> str:
    return months[0] if len(months) == 1 else downloads.span(months[0], months[-1])


def _download(file: downloads.Download, **details):
    """Every export is audited: who took what, when."""
    audit.record(audit.Actor.admin(current_admin()), "export.download", None, file=file.filename, **details)
    record_read()
    return file.response()


@blueprint.get("/exports")
@requires("exports.view")
def exports_page():
    try:
        months = _months()
    except DomainError:
        months = [exports.last_month()]
    return render_template("admin/exports.html", month=months[0], to=months[-1], rows=_report_rows(months))


def _report_columns() -> list[Column]:
    """The monthly report's columns. The district and scenario codes stay beside their names: the certified JSON
    handed to the province carries the codes, and auditors reconcile the two."""
    return [Column("month", _("月份"), "month", 9), Column("district", _("区县代码"), "text", 10),
            Column("district_name", _("区县"), "text", 16), Column("scenario", _("场景代码"), "text", 16),
            Column("scenario_name", _("场景"), "text", 16), Column("credit_name", _("类别"), "text", 12),
            Column("actions", _("行为数（次）"), "int", 12), Column("grams", _("减排量（g CO2e）"), "int", 16),
            Column("tonnes", _("减排量（t CO2e）"), "tonnes", 16),
            Column("points", pgettext("header", "积分"), "int", 12)]


def _report_rows(months: list[str]) -> list[dict]:
    """Each month's rows, month by month, with the names of their codes in the console's language."""
    districts, scenarios = dict(choices.districts()), dict(choices.scenarios())
    return [{**row, "month": date.fromisoformat(f"{month}-01"),
             "district_name": districts.get(row["district"], row["district_name"]),
             "scenario_name": scenarios.get(row["scenario"], row["scenario"]),
             "credit_name": str(CREDIT_NAMES.get(row["credit"], row["credit"]))}
            for month in months for row in exports.monthly_reduction(month)]


@blueprint.get("/exports/reduction.<any(csv, xlsx):kind>")
@requires("exports.view")
def reduction_report(kind: str):
    months = _months()
    rows, columns, period = _report_rows(months), _report_columns(), _period(months)
    ascii_period = months[0] if len(months) == 1 else f"{months[0]}-to-{months[-1]}"
    details = {"month": months[0], **({"to": months[-1]} if len(months) > 1 else {})}
    grams = sum(r["grams"] for r in rows)
    totals = {"month": _("合计"), "actions": sum(r["actions"] for r in rows), "grams": grams,
              "tonnes": round(grams / 1_000_000, 6), "points": sum(r["points"] for r in rows)}
    file = downloads.table(kind, columns, rows, subject=_("减排量"), period=period, totals=totals,
                           sheet=_("减排量") + " " + ascii_period, fallback=f"taian-reduction-{ascii_period}")
    return _download(file, **details)


@blueprint.get("/exports/certified.json")
@requires("exports.view")
def certified_export():
    month = _month()
    body = json.dumps(exports.certified_reductions(month), ensure_ascii=False, indent=1)
    return _download(downloads.Download(body, "application/json", downloads.file_name(_("核证减排量"), month, "json"),
                                        f"taian-certified-reductions-{month}.json"), month=month)


AUDIT_COLUMNS = (("id", _l("编号"), "int", 8), ("occurred_at", _l("时间（北京时间）"), "datetime", 20),
                 ("actor_type", _l("操作者类型"), "text", 10), ("actor_id", _l("操作者编号"), "text", 10),
                 ("actor_name", _l("操作者"), "text", 14), ("action_name", _l("操作"), "text", 16),
                 ("action", _l("操作代码"), "text", 20), ("target_type", _l("对象类型"), "text", 12),
                 ("target_id", _l("对象编号"), "text", 10), ("details", _l("详情"), "text", 40),
                 ("ip", _l("IP 地址"), "text", 15))


@blueprint.get("/audit.<any(csv, xlsx):kind>")
@requires("audit.view")
def audit_download(kind: str):
    """The log as the page filters it, named by the days it covers (Beijing dates of its first and last event)."""
    events, filters = filtered_events()
    # the action's code stays beside its name: auditors filter the log by it (``?action=export``)
    rows = [{"id": e.id, "occurred_at": downloads.beijing(e.occurred_at), "actor_type": actor_type_name(e.actor_type),
             "actor_id": e.actor_id, "actor_name": e.actor_name, "action_name": action_name(e.action),
             "action": e.action, "target_type": target_kind(e.target_type), "target_id": e.target_id,
             "details": json.dumps(e.details, ensure_ascii=False), "ip": e.ip}
            for e in db.session.execute(events.limit(100_000)).scalars()]
    columns = [Column(key, str(header), value, width) for key, header, value, width in AUDIT_COLUMNS]
    days = sorted({row["occurred_at"].date().isoformat() for row in rows if row["occurred_at"]})
    days = days or [downloads.beijing(utcnow()).date().isoformat()]
    period = days[0] if len(days) == 1 else downloads.span(days[0], days[-1])
    ascii_period = days[0] if len(days) == 1 else f"{days[0]}-to-{days[-1]}"
    return _download(downloads.table(kind, columns, rows, subject=_("审计日志"), period=period,
                                     fallback=f"taian-audit-log-{ascii_period}"), selection=filters)
