"""Action search: every reported action with its outcome and receipt; filters live in the URL."""

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import get_locale

from admin import choices
from admin.blueprint import blueprint
from admin.labels import channel_name
from admin.paging import paginate, url_filters
from admin.permissions import requires
from carbon_platform.errors import DomainError
from carbon_platform.models import Action, ActionStatus, PartnerKind, Resident
from carbon_platform.services.identity import normalise_phone
from points_rules import Receipt


@blueprint.get("/actions")
@requires("actions.view")
def action_search():
    filters = url_filters("phone", "scenario", "status", "channel")
    query = sa.select(Action)
    if filters["phone"]:
        try:
            phone = normalise_phone(filters["phone"])
        except DomainError:
            phone = None  # not a mobile number: matches nobody
        query = query.join(Resident, Resident.account_id == Action.account_id).where(Resident.phone == phone)
    if filters["scenario"]:
        query = query.where(Action.scenario == filters["scenario"])
    if filters["status"] in {s.value for s in ActionStatus}:
        query = query.where(Action.status == ActionStatus(filters["status"]))
    if filters["channel"]:
        query = query.where(Action.channel == filters["channel"])
    listing = paginate(query.order_by(Action.id.desc()))
    rows = listing.items
    # the session's language; ?lang=en still asks for an English receipt on a Chinese page
    locale = "en" if request.args.get("lang") == "en" or str(get_locale()) == "en" else "zh_CN"
    receipts = {a.id: Receipt.from_dict(a.receipt).render(locale) for a in rows}
    channels = ["app", "merchant_checkin", *(f"partner:{kind.value}" for kind in PartnerKind)]
    return render_template("admin/actions/list.html", actions=rows, receipts=receipts, filters=filters,
                           listing=listing, statuses=[s.value for s in ActionStatus],
                           scenarios=choices.scenarios(), channels=[(c, channel_name(c)) for c in channels])
