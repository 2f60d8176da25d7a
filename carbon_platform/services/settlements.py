"""A merchant's day at the till and its settlement period so far (what the city will pay it, by funder).

There is no settlement period stored anywhere: settlement (``vouchers.settlement``, the console's monthly
export) runs by Beijing calendar month, so the period is the current Beijing month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from carbon_platform.clock import city_day, utc_or_now
from carbon_platform.extensions import db
from carbon_platform.models import MerchantStaff, Voucher, VoucherStatus
from points_rules import Period, period_bounds

#: A day at one till holds at most this many consumptions in the answer (the totals always count them all).
MAX_LISTED = 1000


@dataclass(frozen=True, slots=True)
class FunderTotal:
    funder: str  # merchant, city or sponsor: who pays the face value
    count: int
    face_value_fen: int


@dataclass(frozen=True, slots=True)
class Totals:
    count: int
    face_value_fen: int
    by_funder: list[FunderTotal]  # by funder


@dataclass(frozen=True, slots=True)
class Settlement:
    """The settlement period so far: the Beijing calendar month, [period_start, period_end) in UTC."""

    period_start: datetime
    period_end: datetime
    totals: Totals


@dataclass(frozen=True, slots=True)
class Consumption:
    voucher: Voucher
    staff_name: str | None  # who consumed it


@dataclass(frozen=True, slots=True)
class MerchantDay:
    day: date  # Beijing
    consumptions: list[Consumption]  # newest first, at most MAX_LISTED
    today: Totals
    settlement: Settlement


def _totals(merchant_id: int, start: datetime, end: datetime) -> Totals:
    rows = db.session.execute(
        sa.select(Voucher.funder, sa.func.count(), sa.func.coalesce(sa.func.sum(Voucher.face_value_fen), 0))
        .where(Voucher.merchant_id == merchant_id, Voucher.status == VoucherStatus.CONSUMED,
               Voucher.consumed_at >= start, Voucher.consumed_at < end)
        .group_by(Voucher.funder).order_by(Voucher.funder)
    ).all()
    by_funder = [FunderTotal(str(funder), int(n), int(fen)) for funder, n, fen in rows]
    return Totals(count=sum(f.count for f in by_funder), face_value_fen=sum(f.face_value_fen for f in by_funder),
                  by_funder=by_funder)


def merchant_day(merchant_id: int, now: datetime | None = None) -> MerchantDay:
    """Today's (Beijing) consumptions at the merchant, newest first, and the month's totals by funder."""
    now = utc_or_now(now)
    day_start, day_end = period_bounds(now, Period.DAY)
    month_start, month_end = period_bounds(now, Period.MONTH)
    staff = aliased(MerchantStaff)
    listed = db.session.execute(
        sa.select(Voucher, staff.display_name).outerjoin(staff, staff.id == Voucher.consumed_by_id)
        .where(Voucher.merchant_id == merchant_id, Voucher.status == VoucherStatus.CONSUMED,
               Voucher.consumed_at >= day_start, Voucher.consumed_at < day_end)
        .order_by(Voucher.consumed_at.desc(), Voucher.id.desc()).limit(MAX_LISTED)
    ).all()
    return MerchantDay(day=city_day(now), consumptions=[Consumption(v, name) for v, name in listed],
                       today=_totals(merchant_id, day_start, day_end),
                       settlement=Settlement(month_start, month_end, _totals(merchant_id, month_start, month_end)))
