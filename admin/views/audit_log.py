"""The audit log: filterable, newest first; filters live in the URL."""

import sqlalchemy as sa
from flask import render_template

from admin.audit_details import action_name, actor_type_name, detail_rows, target_name
from admin.blueprint import blueprint
from admin.paging import paginate, url_filters
from admin.permissions import requires
from carbon_platform.models import AuditEvent

PAGE_SIZE = 50


def filtered_events() -> tuple[sa.Select, dict[str, str]]:
    """The events the URL's filters select, newest first (the page and the CSV show the same)."""
    filters = url_filters("action", "actor")
    query = sa.select(AuditEvent)
    if filters["action"]:
        query = query.where(AuditEvent.action.startswith(filters["action"], autoescape=True))
    if filters["actor"]:
        query = query.where(AuditEvent.actor_name == filters["actor"])
    return query.order_by(AuditEvent.id.desc()), filters


@blueprint.get("/audit")
@requires("audit.view")
def audit_log():
    query, filters = filtered_events()
    listing = paginate(query, size=PAGE_SIZE)
    return render_template("admin/audit/list.html", events=listing.items, listing=listing, filters=filters,
                           action_name=action_name, actor_type_name=actor_type_name, detail_rows=detail_rows,
                           target_name=target_name)
