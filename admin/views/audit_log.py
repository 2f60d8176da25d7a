"""The audit log: filterable, newest first; filters live in the URL."""

import sqlalchemy as sa
from flask import render_template, request

from admin.permissions import requires
from admin.views import blueprint
from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent

PAGE_SIZE = 50


@blueprint.get("/audit")
@requires("audit.view")
def audit_log():
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip()
    page = max(1, request.args.get("page", 1, type=int))
    query = sa.select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEvent.actor_name == actor)
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    events = db.session.execute(
        query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).scalars().all()
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("admin/audit/list.html", events=events, total=total, page=page, pages=pages,
                           filters={"action": action, "actor": actor})
