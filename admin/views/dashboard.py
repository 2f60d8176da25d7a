"""The dashboard: live totals from the ledgers, trends and breakdowns with ECharts, each chart with its table
and its download (CSV, XLSX); filters (period, district) live in the URL."""

from datetime import date, timedelta

import sqlalchemy as sa
from flask import abort, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from admin import downloads
from admin.blueprint import blueprint
from admin.choices import english
from admin.downloads import Column
from admin.paging import url_filter
from admin.permissions import current_admin, home_url, requires
from carbon_platform.clock import utcnow
from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent, District
from carbon_platform.services import dashboard as charts
from carbon_platform.services import invariants, vouchers

#: Audit events the dashboard raises as alerts for a day.
ALERTS = ("voucher.scan_throttled",)
#: The default period answers "how are we doing this year": this month so far and the eleven before it.
DEFAULT_MONTHS = 12
#: Grams a page shows in tonnes once its largest figure reaches one tonne; below, in kilograms.
TONNE = 1_000_000


@blueprint.get("/")
def index():
    return redirect(home_url(current_admin()))


def _period() -> tuple[charts.Period, dict]:
    """The period and district in the URL (default: the last 12 months, the whole city)."""
    default = charts.Period.last_months(DEFAULT_MONTHS)

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


def _change(now: int, before: int) -> float | None:
    """The change from the same period last year, in per cent; None when last year had nothing to compare."""
    return None if not before else round(100 * (now - before) / before, 1)


def _every_district(rows: list[dict], districts: list[District], chosen: str | None) -> list[dict]:
    """The district breakdown with a zero row for each district without activity (only the chosen one, when
    a district is chosen), most grams first: a quiet district shows as zero rather than vanishing."""
    seen = {row["district"] for row in rows}
    quiet = [{"district": d.code, "name": d.name_zh, "name_en": d.name_en, "grams": 0, "points": 0, "actions": 0,
              "accounts": 0} for d in districts if d.code not in seen and (chosen is None or d.code == chosen)]
    return rows + quiet


def _with_last_year(rows: list[dict], last_year: list[dict]) -> list[dict]:
    """Each month's row with the same month's grams a year earlier (the month charts draw both)."""
    before = {row["period"]: row["grams"] for row in last_year}
    return [{**row, "grams_last_year": before.get(f"{int(row['period'][:4]) - 1}{row['period'][4:]}", 0)}
            for row in rows]


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
    series = dict(city.series)
    series["district"] = _every_district(series["district"], districts, period.district)
    series["trend_month"] = _with_last_year(series["trend_month"],
                                            charts.trend(period.year_before().whole_months(), "month"))
    now, before = charts.headline(period), charts.headline(period.year_before())
    # The page's one unit fits its largest figure: the all-time total too, when it is shown (the whole city).
    shown = [now["grams"], *([] if period.district else [city.totals.reduction_grams])]
    largest = max([*shown, *(row["grams"] for name in ("trend_month", "scenario", "district", "programme")
                             for row in series[name])])
    return render_template("admin/dashboard.html", totals=city.totals, liability=vouchers.liability(),
                           active=city.active, series=series, columns=charts.CHARTS, headline=now,
                           last_year=before, changes={k: _change(now[k], before[k]) for k in now},
                           unit="t" if largest >= TONNE else "kg", registered=charts.registered(period.district),
                           year_before=period.year_before(), whole_months=period.whole_months(),
                           filters=filters, districts=districts, drift_count=len(invariants.verify()),
                           alerts=alerts)


#: Each chart's name in a download's file name (the dashboard's own titles).
CHART_TITLES = {"trend_day": _l("每日减排与积分"), "trend_month": _l("每月减排与积分"), "scenario": _l("按场景"),
                "district": _l("按区县"), "programme": _l("按十大工程"), "merchants": _l("核销最多的商户"),
                "campaigns": _l("活动预算消耗")}
#: A chart column's header (unit included) and kind in a download; codes stay beside names for cross-checking.
CHART_COLUMNS = {
    "period": (_l("期间"), "text"), "grams": (_l("减排量（g CO2e）"), "int"),
    "points": (lazy_pgettext("header", "积分"), "int"),
    "actions": (_l("行为数（次）"), "int"), "scenario": (_l("场景代码"), "text"), "district": (_l("区县代码"), "text"),
    "programme": (_l("工程代码"), "text"), "name": (_l("名称"), "text"), "merchant_id": (_l("商户编号"), "int"),
    "merchant": (lazy_pgettext("header", "商户"), "text"), "vouchers": (_l("核销张数"), "int"),
    "face_value_yuan": (_l("面值合计（元）"), "yuan"), "campaign": (_l("活动代码"), "text"),
    "budget": (_l("预算（积分）"), "int"), "spent": (_l("已用（积分）"), "int"),
    "burnt_percent": (_l("预算已用百分比"), "percent"),
}


@blueprint.get("/dashboard/<chart>.<any(csv, xlsx):kind>")
@requires("dashboard.view")
def dashboard_download(chart: str, kind: str):
    """A chart's table as the dashboard shows it (its period and district), named by its title and period."""
    if chart not in charts.CHARTS:
        abort(404)
    period, filters = _period()
    compute, keys = charts.CHARTS[chart]
    columns = [Column(key, str(CHART_COLUMNS[key][0]), CHART_COLUMNS[key][1]) for key in keys]
    rows = compute(period)
    if english():
        rows = [{**row, "name": row.get("name_en") or row.get("name")} for row in rows]
    where = f"-{filters['district']}" if filters["district"] else ""
    return downloads.table(kind, columns, rows, subject=str(CHART_TITLES[chart]),
                           period=downloads.span(filters["from"], filters["to"]) + where,
                           fallback=f"taian-{chart}-{filters['from']}-{filters['to']}{where}").response()
