"""The dashboard: live totals from the ledgers."""

from flask import redirect, render_template, url_for

from admin.permissions import requires
from admin.views import blueprint
from carbon_platform.services import invariants, reports


@blueprint.get("/")
def index():
    return redirect(url_for("admin.dashboard"))


@blueprint.get("/dashboard")
@requires("dashboard.view")
def dashboard():
    return render_template("admin/dashboard.html", totals=reports.ledger_totals(),
                           drift_count=len(invariants.verify()))
