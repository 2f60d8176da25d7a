"""The review queue: filter, read the receipt, approve, reject with a reason, or ask for evidence."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from admin import choices
from admin.blueprint import blueprint, on_refusal
from admin.forms import ReviewDecisionForm
from admin.paging import paginate, url_filters, whole_number
from admin.permissions import current_admin, requires
from carbon_platform.extensions import db
from carbon_platform.models import Enterprise, Evidence, Resident
from carbon_platform.models.base import MAX_INT64
from carbon_platform.services import audit, evidence, review, rulebooks
from points_rules import Receipt, reasons

#: The queue's filters, kept in the URL and carried through every decision back to the same list.
FILTERS = ("scenario", "district", "reason")


def kept_filters() -> dict[str, str]:
    """The queue's filters and page from the URL, the empty ones left out: what a decision's form posts to and
    its redirect goes back to, so the reviewer stays on the list they were working through."""
    kept = {name: value for name, value in url_filters(*FILTERS).items() if value}
    page = whole_number(request.args.get("page", ""))
    if page and page > 1:
        kept["page"] = str(page)
    return kept


def _back():
    return redirect(url_for("admin.review_queue", **kept_filters()))


def _who(account_ids: list[int]) -> dict[int, dict]:
    """Each account's holder for the queue: a resident's name and masked phone, or an enterprise's name
    (two queries for the page, whatever its length)."""
    who: dict[int, dict] = {}
    for account_id, name, phone in db.session.execute(
            sa.select(Resident.account_id, Resident.display_name, Resident.phone)
            .where(Resident.account_id.in_(account_ids))):
        who[account_id] = {"name": name, "phone": phone}
    for account_id, name in db.session.execute(
            sa.select(Enterprise.account_id, Enterprise.name).where(Enterprise.account_id.in_(account_ids))):
        who[account_id] = {"name": name, "phone": None}
    return who


@blueprint.get("/review")
@requires("review.view")
def review_queue():
    filters = url_filters(*FILTERS)
    listing = paginate(review.queue(scenario=filters["scenario"] or None, reason=filters["reason"] or None,
                                    district=filters["district"] or None))
    actions = listing.items
    english = str(get_locale() or "zh_CN").startswith("en")
    receipts = {a.id: Receipt.from_dict(a.receipt).render("en" if english else "zh_CN") for a in actions}
    why = {}  # why a reading waits, in the console's language (over a trust bound: which bound, by how much)
    compiled = {}  # each rulebook version once for the page: compiled_by_id reads its row every call
    for a in actions:
        if a.reason not in ("over_bound", "implausible"):
            continue  # the rest say only that the scenario is reviewed, which the queue itself says
        if a.rulebook_version_id not in compiled:
            compiled[a.rulebook_version_id] = rulebooks.compiled_by_id(a.rulebook_version_id)
        words = reasons.explain(a.status.value, a.reason, a.detail, a.scenario, compiled[a.rulebook_version_id])
        if words:
            why[a.id] = words[1 if english else 0]
    photos: dict[int, list[int]] = {a.id: [] for a in actions}
    for evidence_id, action_id in db.session.execute(
            sa.select(Evidence.id, Evidence.action_id).where(Evidence.action_id.in_(list(photos)))
            .order_by(Evidence.id)):
        photos[action_id].append(evidence_id)
    accounts = list(dict.fromkeys(a.account_id for a in actions))
    scenarios = choices.scenarios()
    return render_template("admin/review/queue.html", actions=actions, receipts=receipts, photos=photos, why=why,
                           listing=listing, filters=filters, kept=kept_filters(), form=ReviewDecisionForm(),
                           history=review.histories(accounts), who=_who(accounts),
                           scenario_choices=scenarios, district_choices=choices.districts(),
                           reason_choices=review.waiting_reasons(),
                           scenario_names=dict(scenarios),
                           bulk_limit=review.BULK_LIMIT, bulk_max_points=review.BULK_MAX_POINTS)


@blueprint.get("/evidence/<bigint:evidence_id>/<any(full, thumbnail):size>")
@requires("review.view")
def evidence_photo(evidence_id: int, size: str):
    """Reviewers see the photos behind an action (the resident's own copy; nobody else's app can)."""
    photo = db.session.get(Evidence, evidence_id)
    if photo is None:
        abort(404)
    return send_file(evidence.path_of(photo, thumbnail=size == "thumbnail"), mimetype="image/jpeg", max_age=0)


def _queue_with_error(message: str, status: int):
    """The queue again, the message above it (never a bare redirect page with an error status)."""
    flash(message, "error")
    return review_queue(), status


@blueprint.post("/review/<bigint:action_id>/<any(approve, reject, evidence):decision>")
@requires("review.act")
@on_refusal(lambda **_args: review_queue())
def decide(action_id: int, decision: str):
    form = ReviewDecisionForm()
    if not form.validate_on_submit():
        return _queue_with_error(_("表单已过期，请重试"), 400)
    actor = audit.Actor.admin(current_admin())
    if decision == "approve":
        review.approve(action_id, actor=actor, note=form.note.data)
    elif decision == "reject":
        review.reject(action_id, actor=actor, reason=form.note.data)
    else:
        review.request_evidence(action_id, actor=actor, message=form.note.data)
    flash(_("已处理 #%(id)s", id=action_id), "success")
    return _back()


@blueprint.post("/review/bulk-approve")
@requires("review.act")
@on_refusal(lambda: review_queue())
def bulk_approve():
    if not ReviewDecisionForm().validate_on_submit():
        return _queue_with_error(_("表单已过期，请重试"), 400)
    # An id no action can have (too large, not ASCII digits) is dropped, not sent to the database.
    ids = [n for n in (whole_number(v, MAX_INT64) for v in request.form.getlist("action_ids")) if n is not None]
    approved = review.approve_many(ids, actor=audit.Actor.admin(current_admin()))
    flash(_("已批量通过 %(n)s 条", n=len(approved)), "success")
    return _back()


@blueprint.post("/review/bulk-reject")
@requires("review.act")
@on_refusal(lambda: review_queue())
def bulk_reject():
    form = ReviewDecisionForm()
    if not form.validate_on_submit():
        return _queue_with_error(_("表单已过期，请重试"), 400)
    ids = [n for n in (whole_number(v, MAX_INT64) for v in request.form.getlist("action_ids")) if n is not None]
    rejected = review.reject_many(ids, actor=audit.Actor.admin(current_admin()), reason=form.note.data)
    flash(_("已批量驳回 %(n)s 条", n=len(rejected)), "success")
    return _back()
