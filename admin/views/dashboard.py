"""The dashboard: live totals from the ledgers."""

from datetime import timedelta

import sqlalchemy as sa
from flask import redirect, render_template, url_for

from admin.permissions import requires
from admin.views import blueprint
from carbon_platform.clock import utcnow
from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent
from carbon_platform.services import invariants, reports

#: Audit events the dashboard raises as alerts for a day.
ALERTS = ("voucher.scan_throttled",)


@blueprint.get("/")
def index():
    return redirect(url_for("admin.dashboard"))


@blueprint.get("/dashboard")
@requires("dashboard.view")
def dashboard():
    since = utcnow() - timedelta(hours=24)
    alerts = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action.in_(ALERTS), AuditEvent.occurred_at >= since)
        .order_by(AuditEvent.id.desc()).limit(20)
    ).scalars().all()
    return render_template("admin/dashboard.html", totals=reports.ledger_totals(),
                           drift_count=len(invariants.verify()), alerts=alerts)
