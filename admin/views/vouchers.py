"""Vouchers (search, cancel with a reason), settlement per merchant with CSV, and the points liability."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext

from admin import downloads
from admin.blueprint import blueprint, on_refusal, record_read
from admin.downloads import Column
from admin.forms import FUNDERS, ReasonForm
from admin.paging import paginate, url_filters, whole_number
from admin.permissions import current_admin, requires
from carbon_platform.clock import CITY_TZ, as_utc, utcnow
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db
from carbon_platform.models import Merchant, Resident, Voucher, VoucherStatus
from carbon_platform.models.base import MAX_INT64
from carbon_platform.services import audit, vouchers
from carbon_platform.services.identity import normalise_phone


@blueprint.get("/vouchers")
@requires("vouchers.view")
def voucher_search():
    filters = url_filters("q", "status", "merchant_id")
    query = sa.select(Voucher)
    if filters["q"]:
        query = query.where(_matching(filters["q"]))
    if filters["status"] in {s.value for s in VoucherStatus}:
        query = query.where(Voucher.status == VoucherStatus(filters["status"]))
    if (merchant_id := whole_number(filters["merchant_id"])) is not None:
        query = query.where(Voucher.merchant_id == merchant_id)
    listing = paginate(query.order_by(Voucher.id.desc()))
    return render_template("admin/vouchers/list.html", listing=listing, filters=filters, form=ReasonForm(),
                           statuses=[s.value for s in VoucherStatus])


def _matching(q: str):
    """What the search box means: a scanned or typed code, a voucher number, or the resident's phone."""
    if q.startswith(vouchers.CODE_PREFIX + ".") or len(q.replace("-", "").replace(" ", "")) == vouchers.SHORT_LENGTH:
        found = vouchers.find_by_code(q)
        return Voucher.id == (found.id if found else -1)
    if q.isdigit() and len(q) != 11:
        number = whole_number(q, MAX_INT64)  # vouchers have 64-bit ids
        return Voucher.id == number if number is not None else sa.false()
    try:
        phone = normalise_phone(q)
    except DomainError:
        return sa.false()  # neither a code, a voucher number nor a phone number
    return Voucher.account_id.in_(sa.select(Resident.account_id).where(Resident.phone == phone))


@blueprint.post("/vouchers/<bigint:voucher_id>/cancel")
@requires("vouchers.manage")
@on_refusal(lambda voucher_id: redirect(url_for("admin.voucher_search", q=str(voucher_id))))
def cancel_voucher(voucher_id: int):
    form = ReasonForm()
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is None:
        abort(404)
    if not form.validate_on_submit():
        flash(_("取消需要填写原因"), "error")
        return redirect(url_for("admin.voucher_search", q=str(voucher_id)))
    vouchers.cancel(voucher, reason=form.reason.data, actor=audit.Actor.admin(current_admin()))
    flash(_("已取消券 %(id)s，退还 %(points)s 积分", id=voucher_id, points=voucher.refunded_points), "success")
    return redirect(url_for("admin.voucher_search", q=str(voucher_id)))


def _period() -> tuple[dict, datetime, datetime]:
    """The [from, to] Beijing dates in the URL (default: this month so far) as UTC instants [start, end)."""
    today = utcnow().astimezone(CITY_TZ).date()

    def day(name: str, default: date) -> date:
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return default

    first, last = day("from", today.replace(day=1)), day("to", today)
    if last < first:
        first, last = last, first
    start = as_utc(datetime.combine(first, time(0), tzinfo=CITY_TZ))
    end = as_utc(datetime.combine(last + timedelta(days=1), time(0), tzinfo=CITY_TZ))
    return {"from": first.isoformat(), "to": last.isoformat()}, start, end


def _settlement_rows(start: datetime, end: datetime) -> list[dict]:
    rows = vouchers.settlement(start, end)
    names = dict(db.session.execute(sa.select(Merchant.id, Merchant.name)
                                    .where(Merchant.id.in_([r["merchant_id"] for r in rows]))).all())
    return [{**row, "merchant_name": names.get(row["merchant_id"], "")} for row in rows]


@blueprint.get("/settlement")
@requires("settlement.view")
def settlement():
    filters, start, end = _period()
    rows = _settlement_rows(start, end)
    return render_template("admin/vouchers/settlement.html", rows=rows, filters=filters,
                           total_fen=sum(r["face_value_fen"] for r in rows if r["funder"] != "merchant"),
                           liability=vouchers.liability())


@blueprint.get("/settlement.<any(csv, xlsx):kind>")
@requires("settlement.view")
def settlement_download(kind: str):
    """The settlement as finance opens it: CSV (with the BOM Excel expects) or XLSX, yuan with two decimals."""
    filters, start, end = _period()
    funders = {choice.value: str(choice.label) for choice in FUNDERS}
    first, last = date.fromisoformat(filters["from"]), date.fromisoformat(filters["to"])
    rows = [{**row, "funder": funders.get(row["funder"], row["funder"]), "face_value_yuan": row["face_value_fen"] / 100,
             "from": first, "to": last} for row in _settlement_rows(start, end)]
    columns = [Column("merchant_id", _("商户编号"), "int", 10),
               Column("merchant_name", pgettext("header", "商户"), width=24), Column("funder", _("出资方"), width=16),
               Column("vouchers", _("核销张数"), "int"), Column("face_value_yuan", _("面值合计（元）"), "yuan", 16),
               Column("from", _("起始日期（北京时间）"), "date"), Column("to", _("截止日期（北京时间）"), "date")]
    audit.record(audit.Actor.admin(current_admin()), "settlement.export", None, **filters)
    record_read()
    totals = {"merchant_id": _("合计"), "vouchers": sum(r["vouchers"] for r in rows),
              "face_value_yuan": sum(r["face_value_fen"] for r in rows) / 100}
    return downloads.table(kind, columns, rows, subject=_("核销结算"), totals=totals,
                           period=downloads.span(filters["from"], filters["to"]),
                           fallback=f"taian-settlement-{filters['from']}-{filters['to']}").response()
