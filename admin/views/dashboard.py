"""The dashboard: live totals from the ledgers, trends and breakdowns with ECharts, each chart with its table
and CSV; filters (period, district) live in the URL."""

import csv
import io
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Response, abort, redirect, render_template, request, url_for

from admin.blueprint import blueprint
from admin.paging import url_filter
from admin.permissions import requires
from carbon_platform.clock import utcnow
from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent, District
from carbon_platform.services import dashboard as charts
from carbon_platform.services import invariants, vouchers

#: Audit events the dashboard raises as alerts for a day.
ALERTS = ("voucher.scan_throttled",)
DEFAULT_DAYS = 30


@blueprint.get("/")
def index():
    return redirect(url_for("admin.dashboard"))


def _period() -> tuple[charts.Period, dict]:
    """The period and district in the URL (default: the last 30 Beijing days, the whole city)."""
    default = charts.Period.last_days(DEFAULT_DAYS)

    def day(name: str, fallback: date) -> date:
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return fallback

    first, last = day("from", default.first), day("to", default.last)
    if last < first:
        first, last = last, first
    first = max(first, last - timedelta(days=731))  # two years at most: a chart, not an export
    district = url_filter("district") or None
    return charts.Period(first, last, district), {"from": first.isoformat(), "to": last.isoformat(),
                                                   "district": district or ""}


@blueprint.get("/dashboard")
@requires("dashboard.view")
def dashboard():
    period, filters = _period()
    since = utcnow() - timedelta(hours=24)
    alerts = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action.in_(ALERTS), AuditEvent.occurred_at >= since)
        .order_by(AuditEvent.id.desc()).limit(20)
    ).scalars().all()
    city = charts.city_figures(period)  # the public page (``/``) shows the same figures, from the same function
    districts = db.session.execute(sa.select(District).order_by(District.code)).scalars().all()
    return render_template("admin/dashboard.html", totals=city.totals, liability=vouchers.liability(),
                           active=city.active, series=city.series, columns=charts.CHARTS,
                           filters=filters, districts=districts, drift_count=len(invariants.verify()),
                           alerts=alerts)


@blueprint.get("/dashboard/<chart>.csv")
@requires("dashboard.view")
def dashboard_csv(chart: str):
    if chart not in charts.CHARTS:
        abort(404)
    period, filters = _period()
    compute, columns = charts.CHARTS[chart]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in compute(period):
        writer.writerow([row[c] for c in columns])
    name = f"{chart}-{filters['from']}-{filters['to']}{'-' + filters['district'] if filters['district'] else ''}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
