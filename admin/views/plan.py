"""``/admin/plan``: the plan's quantitative targets (泰政发〔2023〕8号) against what the platform has credited toward
each, with the caveat where the platform sees only part of the city (``services.plan_targets``)."""

from __future__ import annotations

from flask import render_template
from flask_babel import format_decimal

from admin.blueprint import blueprint
from admin.permissions import requires
from carbon_platform.clock import utcnow
from carbon_platform.services import plan_targets, rulebooks


@blueprint.get("/plan")
@requires("dashboard.view")
def plan_progress():
    plan = plan_targets.load()
    try:
        programmes = rulebooks.rules_in_force(utcnow()).rulebook.programmes
    except rulebooks.NoRulebookInForce:
        programmes = {}
    return render_template("admin/plan.html", plan=plan, rows=plan_targets.progress(plan), programmes=programmes,
                           number=format_decimal)
