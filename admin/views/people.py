"""People and organisations: search residents, households, enterprises and merchants; one account with its
ledger, actions (with receipts) and vouchers; freeze and unfreeze with a reason."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin import choices
from admin.blueprint import blueprint
from admin.forms import EnterpriseClassForm, ReasonForm
from admin.paging import paginate, url_filter, whole_number
from admin.permissions import current_admin, requires
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db
from carbon_platform.models import (
    AccountKind,
    Action,
    Binding,
    BindingKind,
    BindingStatus,
    Book,
    CarbonAccount,
    Enterprise,
    Household,
    Journal,
    LedgerEntry,
    Merchant,
    Resident,
    Voucher,
)
from carbon_platform.services import accounts, audit, energy_reports, households
from carbon_platform.services.identity import normalise_phone
from points_rules import Receipt

#: What each kind of holder is searched by, and how it names itself in a list.
KINDS = {
    "resident": (Resident, AccountKind.RESIDENT),
    "household": (Household, AccountKind.HOUSEHOLD),
    "enterprise": (Enterprise, AccountKind.ENTERPRISE),
    "merchant": (Merchant, AccountKind.MERCHANT),
}

#: How the console names what partners know an account by (a household's electricity meter, a person's card).
BINDING_KINDS = {
    BindingKind.TRANSIT_CARD: _l("公交卡"),
    BindingKind.WASTE_CARD: _l("垃圾分类卡"),
    BindingKind.ELECTRICITY_METER: _l("电表"),
    BindingKind.PV_INVERTER: _l("光伏逆变器"),
    BindingKind.CHARGING_ACCOUNT: _l("充电账户"),
    BindingKind.VEHICLE: _l("车辆"),
    BindingKind.BIKE_SHARE_ACCOUNT: _l("共享单车账户"),
    BindingKind.RECYCLING_CARD: _l("再生资源回收卡"),
    BindingKind.FORESTRY_ACCOUNT: _l("植树（碳汇林）账户"),
}
BINDING_STATES = {BindingStatus.ACTIVE: _l("已生效"), BindingStatus.PENDING: _l("待确认")}


def _search(kind: str, q: str):
    model, _account_kind = KINDS[kind]
    query = sa.select(model)
    if q:
        account_id = whole_number(q) if len(q) < 11 else None
        conditions = [model.account_id == account_id] if account_id is not None else []
        if kind == "resident":
            try:
                conditions.append(Resident.phone == normalise_phone(q))
            except DomainError:
                conditions.append(Resident.display_name.contains(q, autoescape=True))
        elif kind == "enterprise":
            conditions += [Enterprise.name.contains(q, autoescape=True), Enterprise.uscc == q.upper()]
        else:
            conditions.append(model.name.contains(q, autoescape=True))
        query = query.where(sa.or_(*conditions))
    return query.order_by(model.id.desc())


@blueprint.get("/people")
@requires("people.view")
def people():
    filters = {"kind": url_filter("kind", "resident"), "q": url_filter("q")}
    if filters["kind"] not in KINDS:
        filters["kind"] = "resident"
    listing = paginate(_search(filters["kind"], filters["q"]))
    return render_template("admin/people/list.html", listing=listing, filters=filters, kinds=list(KINDS))


def _holder(account: CarbonAccount):
    model = next(model for model, kind in KINDS.values() if kind is account.kind)
    return db.session.execute(sa.select(model).where(model.account_id == account.id)).scalar_one_or_none()


@blueprint.get("/accounts/<int:account_id>")
@requires("people.view")
def account(account_id: int):
    found = db.session.get(CarbonAccount, account_id)
    if found is None:
        abort(404)
    holder = _holder(found)
    points = sa.func.sum(sa.case((LedgerEntry.book.in_([Book.AVAILABLE, Book.PENDING]), LedgerEntry.amount),
                                 else_=0))
    grams = sa.func.sum(sa.case((LedgerEntry.book == Book.REDUCTION, LedgerEntry.amount), else_=0))
    journals = db.session.execute(
        sa.select(Journal, points, grams).join(LedgerEntry, LedgerEntry.journal_id == Journal.id)
        .where(LedgerEntry.account_id == account_id).group_by(Journal.id).order_by(Journal.id.desc()).limit(50)
    ).all()
    recent = db.session.execute(sa.select(Action).where(Action.account_id == account_id)
                                .order_by(Action.id.desc()).limit(20)).scalars().all()
    # the session's language; ?lang=en still asks for an English receipt on a Chinese page
    locale = "en" if request.args.get("lang") == "en" or str(get_locale()) == "en" else "zh_CN"
    receipts = {a.id: Receipt.from_dict(a.receipt).render(locale) for a in recent if a.receipt}
    held = db.session.execute(sa.select(Voucher).where(Voucher.account_id == account_id)
                              .order_by(Voucher.id.desc()).limit(20)).scalars().all()
    membership = households.membership_of(holder) if isinstance(holder, Resident) else None
    # What partners know the account by (a household's meter): the last four characters are all that is kept.
    bound = db.session.execute(sa.select(Binding).where(Binding.account_id == account_id,
                                                        Binding.status != BindingStatus.REVOKED)
                               .order_by(Binding.id)).scalars().all()
    classing = None
    if isinstance(holder, Enterprise):
        classing = EnterpriseClassForm(industry_code=holder.industry_code, key_energy_user=holder.key_energy_user)
        classing.industry_code.choices = choices.industries()
    return render_template("admin/people/account.html", account=found, holder=holder, journals=journals,
                           actions=recent, receipts=receipts, vouchers=held, membership=membership,
                           bindings=bound, binding_kinds=BINDING_KINDS, binding_states=BINDING_STATES,
                           form=ReasonForm(), classing=classing,
                           industries=energy_reports.industries())


@blueprint.post("/accounts/<int:account_id>/classification")
@requires("people.manage")
def classify_enterprise(account_id: int):
    """An enterprise's industry and whether it is a 重点用能单位: what its benchmark and grade compare it with, and
    what it needs before it can report its energy."""
    enterprise = db.session.execute(sa.select(Enterprise).where(Enterprise.account_id == account_id)
                                    ).scalar_one_or_none() or abort(404)
    form = EnterpriseClassForm()
    form.industry_code.choices = choices.industries()
    if not form.validate_on_submit():
        flash(_("请从列表中选择行业"), "error")
        return redirect(url_for("admin.account", account_id=account_id))
    energy_reports.classify(enterprise, code=form.industry_code.data, key_energy_user=form.key_energy_user.data,
                            actor=audit.Actor.admin(current_admin()))
    flash(_("已保存企业的行业与重点用能单位"), "success")
    return redirect(url_for("admin.account", account_id=account_id))


@blueprint.post("/accounts/<int:account_id>/<any(freeze, unfreeze):change>")
@requires("people.manage")
def freeze_account(account_id: int, change: str):
    found, form = db.session.get(CarbonAccount, account_id), ReasonForm()
    if found is None:
        abort(404)
    if not form.validate_on_submit():
        flash(_("冻结或解冻需要填写原因"), "error")
        return redirect(url_for("admin.account", account_id=account_id))
    accounts.set_frozen(found, change == "freeze", actor=audit.Actor.admin(current_admin()),
                        reason=form.reason.data)
    flash(_("账户已冻结") if change == "freeze" else _("账户已解冻"), "success")
    return redirect(url_for("admin.account", account_id=account_id))
