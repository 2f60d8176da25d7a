"""The ledger's invariants as one check that tests run after every ledger test and operators run as
``carbon-platform ledger verify``.

(a) every journal's entries sum to zero, per unit;
(b) every cached balance equals the sum of its entries;
(c) no holder balance is negative;
(d) every lot's remaining equals its points less its allocations, and the open lots of an account
    add up to its available and pending balances;
(f) every credited action's journal certified exactly the grams and points its receipt shows (so
    reduction totals equal the sum of credited receipts);
reward stock equals its journal less the vouchers issued; and (e) a voucher got back only what the
one transition it made allows (consumed: nothing, and never refunded; cancelled: its points and its
unit, once; expired: no unit).
Later capabilities append their checks to ``CHECKS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    ActionStatus,
    Book,
    CarbonAccount,
    Journal,
    JournalKind,
    LedgerEntry,
    LotAllocation,
    PointLot,
    Reward,
    StockChange,
    Voucher,
    VoucherStatus,
)
from carbon_platform.models.ledger import BALANCE_COLUMN, HOLDER_BOOKS


@dataclass(frozen=True)
class Drift:
    check: str
    subject: str  # "account 12", "journal 7", "lot 3"
    expected: int
    actual: int

    def __str__(self) -> str:
        return f"{self.check}: {self.subject} expected {self.expected}, found {self.actual}"


def journals_balance() -> Iterable[Drift]:
    unit = sa.case((LedgerEntry.book.in_([Book.REDUCTION, Book.CERTIFIED]), "grams"), else_="points")
    rows = db.session.execute(
        sa.select(LedgerEntry.journal_id, unit, sa.func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.journal_id, unit)
        .having(sa.func.sum(LedgerEntry.amount) != 0)
    )
    for journal_id, unit_name, total in rows:
        yield Drift(f"journal sums to zero ({unit_name})", f"journal {journal_id}", 0, int(total))


def balances_match_entries() -> Iterable[Drift]:
    sums = (
        sa.select(
            LedgerEntry.account_id,
            *(
                sa.func.coalesce(sa.func.sum(sa.case((LedgerEntry.book == book, LedgerEntry.amount), else_=0)), 0)
                .label(book.value)
                for book in HOLDER_BOOKS
            ),
        )
        .where(LedgerEntry.account_id.is_not(None))
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(CarbonAccount, *(sa.func.coalesce(sums.c[b.value], 0) for b in HOLDER_BOOKS)).outerjoin(
            sums, sums.c.account_id == CarbonAccount.id
        )
    )
    for account, *totals in rows:
        for book, total in zip(HOLDER_BOOKS, totals, strict=True):
            cached = getattr(account, BALANCE_COLUMN[book])
            if cached != int(total):
                yield Drift(f"cached {book} balance equals its entries", f"account {account.id}", int(total), cached)
            if cached < 0:
                yield Drift(f"{book} balance is not negative", f"account {account.id}", 0, cached)


def lots_match() -> Iterable[Drift]:
    allocated = (
        sa.select(LotAllocation.lot_id, sa.func.sum(LotAllocation.points).label("points"))
        .group_by(LotAllocation.lot_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(PointLot.id, PointLot.points - sa.func.coalesce(allocated.c.points, 0), PointLot.remaining)
        .outerjoin(allocated, allocated.c.lot_id == PointLot.id)
        .where(PointLot.points - sa.func.coalesce(allocated.c.points, 0) != PointLot.remaining)
    )
    for lot_id, expected, remaining in rows:
        yield Drift("lot remaining equals points less allocations", f"lot {lot_id}", int(expected), remaining)

    open_sums = (
        sa.select(
            PointLot.account_id,
            sa.func.sum(sa.case((PointLot.released_at.is_not(None), PointLot.remaining), else_=0)).label("available"),
            sa.func.sum(sa.case((PointLot.released_at.is_(None), PointLot.remaining), else_=0)).label("pending"),
        )
        .group_by(PointLot.account_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            CarbonAccount.id,
            CarbonAccount.points_available,
            CarbonAccount.points_pending,
            sa.func.coalesce(open_sums.c.available, 0),
            sa.func.coalesce(open_sums.c.pending, 0),
        ).outerjoin(open_sums, open_sums.c.account_id == CarbonAccount.id)
    )
    for account_id, available, pending, lots_available, lots_pending in rows:
        if available != int(lots_available):
            yield Drift("available balance equals its open lots", f"account {account_id}", int(lots_available),
                        available)
        if pending != int(lots_pending):
            yield Drift("pending balance equals its open lots", f"account {account_id}", int(lots_pending), pending)


def receipts_match_journals() -> Iterable[Drift]:
    credited = sa.func.coalesce(sa.func.sum(sa.case(
        (LedgerEntry.book.in_([Book.AVAILABLE, Book.PENDING]), LedgerEntry.amount), else_=0)), 0)
    grams = sa.func.coalesce(sa.func.sum(sa.case((LedgerEntry.book == Book.REDUCTION, LedgerEntry.amount), else_=0)), 0)
    rows = db.session.execute(
        sa.select(Action.id, Action.points, Action.grams, credited, grams)
        .outerjoin(LedgerEntry, LedgerEntry.journal_id == Action.journal_id)
        .where(Action.status == ActionStatus.CREDITED)
        .group_by(Action.id, Action.points, Action.grams)
    )
    for action_id, points, expected_grams, ledger_points, ledger_grams in rows:
        if int(ledger_points) != points:
            yield Drift("credited action's journal equals its receipt (points)", f"action {action_id}", points,
                        int(ledger_points))
        if int(ledger_grams) != expected_grams:
            yield Drift("credited action's journal equals its receipt (grams)", f"action {action_id}", expected_grams,
                        int(ledger_grams))


def stock_matches_its_journal() -> Iterable[Drift]:
    """A reward's stock is its journaled changes (opening stock, deliveries, returns from cancelled vouchers)
    less one for every voucher ever issued: no unit appears or disappears unrecorded."""
    changes = (sa.select(StockChange.reward_id, sa.func.sum(StockChange.delta).label("total"))
               .group_by(StockChange.reward_id).subquery())
    issued = (sa.select(Voucher.reward_id, sa.func.count().label("n")).group_by(Voucher.reward_id).subquery())
    expected = sa.func.coalesce(changes.c.total, 0) - sa.func.coalesce(issued.c.n, 0)
    rows = db.session.execute(
        sa.select(Reward.id, expected, Reward.stock)
        .outerjoin(changes, changes.c.reward_id == Reward.id)
        .outerjoin(issued, issued.c.reward_id == Reward.id)
        .where(expected != Reward.stock)
    )
    for reward_id, want, stock in rows:
        yield Drift("reward stock equals its journaled changes less vouchers issued", f"reward {reward_id}",
                    int(want), stock)


def _text(*parts) -> sa.ColumnElement[str]:
    """Strings built in SQL from literals and integer columns (``||`` on both databases)."""
    result = sa.literal("")
    for part in parts:
        result = result + (part if isinstance(part, str) else sa.cast(part, sa.String))
    return result


def vouchers_give_back_only_what_they_won() -> Iterable[Drift]:
    """(e) A voucher left ``issued`` once, and got back only what that transition allows: a consumed one
    no points and no unit (and it stays ``consumed``, or settlement misses it); a cancelled one all its
    points and its unit once; an expired one no unit; an issued one nothing. ``refunded_points`` equals
    the refund journals. What came back is read from the ledger and the stock journal themselves."""
    # The refund journals, one per source lot: ``vouchers.refund_key`` + ``ledger.refund``'s ``:lot<id>``.
    refunds = (
        sa.select(Voucher.id.label("voucher_id"), sa.func.sum(LedgerEntry.amount).label("points"))
        .join(LotAllocation, LotAllocation.journal_id == Voucher.spend_journal_id)
        .join(Journal, sa.and_(Journal.kind == JournalKind.REFUND,
                               Journal.idempotency_key == _text("voucher:", Voucher.id, ":lot", LotAllocation.lot_id)))
        .join(LedgerEntry, sa.and_(LedgerEntry.journal_id == Journal.id, LedgerEntry.book == Book.AVAILABLE))
        .group_by(Voucher.id)
        .subquery()
    )
    returns = (  # units back in stock, by ``vouchers.restock_reason``
        sa.select(Voucher.id.label("voucher_id"), sa.func.sum(StockChange.delta).label("units"))
        .join(StockChange, sa.and_(StockChange.reward_id == Voucher.reward_id, StockChange.actor == "system",
                                   StockChange.reason == _text("voucher ", Voucher.id, " cancelled")))
        .group_by(Voucher.id)
        .subquery()
    )
    refunded = sa.func.coalesce(refunds.c.points, 0)
    units = sa.func.coalesce(returns.c.units, 0)
    consumed = sa.or_(Voucher.status == VoucherStatus.CONSUMED, Voucher.consumed_at.is_not(None))
    rows = db.session.execute(
        sa.select(Voucher.id, Voucher.status, Voucher.points, Voucher.refunded_points, consumed, refunded, units)
        .outerjoin(refunds, refunds.c.voucher_id == Voucher.id)
        .outerjoin(returns, returns.c.voucher_id == Voucher.id)
        .where(sa.or_(
            Voucher.refunded_points != refunded,
            sa.and_(consumed, sa.or_(refunded != 0, units != 0, Voucher.status != VoucherStatus.CONSUMED)),
            sa.and_(~consumed, Voucher.status == VoucherStatus.CANCELLED, sa.or_(refunded != Voucher.points,
                                                                               units != 1)),
            sa.and_(~consumed, Voucher.status.in_([VoucherStatus.ISSUED, VoucherStatus.EXPIRED]), units != 0),
            sa.and_(Voucher.status == VoucherStatus.ISSUED, refunded != 0),
        ))
    )
    for voucher_id, status, points, recorded, was_consumed, refunded_points, units_back in rows:
        subject, refunded_points, units_back = f"voucher {voucher_id}", int(refunded_points), int(units_back)
        if recorded != refunded_points:
            yield Drift("voucher's refunded points equal its refund journals", subject, refunded_points, recorded)
        if was_consumed:
            if refunded_points:
                yield Drift("a consumed voucher is never refunded (points)", subject, 0, refunded_points)
            if units_back:
                yield Drift("a consumed voucher's unit never returns to stock", subject, 0, units_back)
            if status is not VoucherStatus.CONSUMED:
                yield Drift("a consumed voucher stays consumed, for settlement", subject, 1, 0)
        elif status is VoucherStatus.CANCELLED:
            if refunded_points != points:
                yield Drift("a cancelled voucher is refunded in full (points)", subject, points, refunded_points)
            if units_back != 1:
                yield Drift("a cancelled voucher's unit returns to stock once", subject, 1, units_back)
        else:
            if units_back:
                yield Drift("an issued or expired voucher's unit never returns to stock", subject, 0, units_back)
            if status is VoucherStatus.ISSUED and refunded_points:
                yield Drift("an issued voucher is not refunded (points)", subject, 0, refunded_points)


CHECKS: list[Callable[[], Iterable[Drift]]] = [journals_balance, balances_match_entries, lots_match,
                                               receipts_match_journals, stock_matches_its_journal,
                                               vouchers_give_back_only_what_they_won]


def verify() -> list[Drift]:
    """Run every check; an empty list means the ledgers are sound."""
    return [drift for check in CHECKS for drift in check()]
