"""The review queue: filter, read the receipt, approve, reject with a reason, or ask for evidence."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.forms import ReviewDecisionForm
from admin.permissions import current_admin, requires
from admin.views import blueprint
from carbon_platform.db import commit
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db
from carbon_platform.services import audit, review
from points_rules import Receipt

PAGE_SIZE = 30


@blueprint.get("/review")
@requires("review.view")
def review_queue():
    filters = {"scenario": request.args.get("scenario", "").strip(), "reason": request.args.get("reason", "").strip()}
    page = max(1, request.args.get("page", 1, type=int))
    query = review.queue(scenario=filters["scenario"] or None, reason=filters["reason"] or None)
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    actions = db.session.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    receipts = {a.id: Receipt.from_dict(a.receipt).render("en" if request.args.get("lang") == "en" else "zh_CN")
                for a in actions}
    return render_template("admin/review/queue.html", actions=actions, receipts=receipts, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), filters=filters, form=ReviewDecisionForm())


@blueprint.post("/review/<int:action_id>/<any(approve, reject, evidence):decision>")
@requires("review.act")
def decide(action_id: int, decision: str):
    form = ReviewDecisionForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
        return redirect(url_for("admin.review_queue")), 400
    actor = audit.Actor.admin(current_admin())
    try:
        if decision == "approve":
            review.approve(action_id, actor=actor, note=form.note.data)
        elif decision == "reject":
            review.reject(action_id, actor=actor, reason=form.note.data)
        else:
            review.request_evidence(action_id, actor=actor, message=form.note.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.review_queue")), 404 if exc.status == 404 else 409 if exc.status == 409 else 400
    commit()
    flash(_("已处理 #%(id)s", id=action_id), "success")
    return redirect(url_for("admin.review_queue"))
