"""Manual adjustments: request one; above the threshold, a second administrator approves or rejects."""

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.blueprint import blueprint, on_refusal
from admin.forms import AdjustmentForm, ReviewDecisionForm
from admin.paging import paginate, whole_number
from admin.permissions import current_admin, requires
from carbon_platform.errors import DomainError, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import AdjustmentStatus, Resident
from carbon_platform.services import adjustments as service
from carbon_platform.services import audit
from carbon_platform.services.identity import normalise_phone


def _account_id(target: str) -> int:
    target = target.strip()
    try:
        phone = normalise_phone(target)
    except DomainError:
        if (account_id := whole_number(target)) is not None:
            return account_id
        raise NotFound("no resident or account like that") from None
    account_id = db.session.execute(sa.select(Resident.account_id).where(Resident.phone == phone)).scalar()
    if account_id is None:
        raise NotFound("no resident with that phone number")
    return account_id


def _page(form=None, status=200):
    listing = paginate(service.pending())
    return render_template("admin/adjustments/list.html", waiting=listing.items, listing=listing, filters={},
                           form=form or AdjustmentForm(),
                           decision=ReviewDecisionForm(), me=current_admin(),
                           threshold=current_app.config["ADJUSTMENT_DUAL_CONTROL_POINTS"]), status


@blueprint.get("/adjustments")
@requires("adjustments.view")
def adjustments():
    # ?target= comes from an account's page: the form starts with that account filled in.
    return _page(AdjustmentForm(target=request.args.get("target", "")[:20]))


@blueprint.post("/adjustments")
@requires("adjustments.manage")
@on_refusal(lambda: _page(AdjustmentForm()))
def request_adjustment():
    form = AdjustmentForm()
    if not form.validate_on_submit():
        flash(_("请填写账户、积分和原因"), "error")
        return _page(form, 400)
    adjustment = service.request(_account_id(form.target.data), form.points.data, form.reason.data,
                                 actor=audit.Actor.admin(current_admin()))
    if adjustment.status is AdjustmentStatus.APPLIED:
        flash(_("已调整 %(n)s 积分", n=adjustment.points), "success")
    else:
        flash(_("超过 %(t)s 积分，等待另一位管理员审批", t=current_app.config["ADJUSTMENT_DUAL_CONTROL_POINTS"]),
              "success")
    return redirect(url_for("admin.adjustments"))


@blueprint.post("/adjustments/<bigint:adjustment_id>/<any(approve, reject):decision>")
@requires("adjustments.manage")
@on_refusal(lambda **_args: _page())
def decide_adjustment(adjustment_id: int, decision: str):
    form = ReviewDecisionForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
        return _page(status=400)
    actor = audit.Actor.admin(current_admin())
    if decision == "approve":
        service.approve(adjustment_id, actor=actor)
    else:
        service.reject(adjustment_id, actor=actor, note=form.note.data)
    flash(_("已处理 #%(id)s", id=adjustment_id), "success")
    return redirect(url_for("admin.adjustments"))
