"""The audit log: filterable, newest first; filters live in the URL."""

import sqlalchemy as sa
from flask import render_template, request

from admin.paging import paginate
from admin.permissions import requires
from admin.views import blueprint
from carbon_platform.models import AuditEvent

PAGE_SIZE = 50


@blueprint.get("/audit")
@requires("audit.view")
def audit_log():
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip()
    query = sa.select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEvent.actor_name == actor)
    listing = paginate(query.order_by(AuditEvent.id.desc()), size=PAGE_SIZE)
    return render_template("admin/audit/list.html", events=listing.items, listing=listing,
                           filters={"action": action, "actor": actor})
