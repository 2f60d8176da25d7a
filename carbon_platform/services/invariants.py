"""The ledger's invariants as one check that tests run after every ledger test and operators run as
``carbon-platform ledger verify``.

(a) every journal's entries sum to zero, per unit;
(b) every cached balance equals the sum of its entries;
(c) no holder balance is negative;
(d) every lot's remaining equals its points less its allocations, and the open lots of an account
    add up to its available and pending balances;
(f) every credited action's journal certified exactly the grams and points its receipt shows (so
    reduction totals equal the sum of credited receipts).
Later capabilities (reward stock, vouchers) append their checks to ``CHECKS``.
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
    LedgerEntry,
    LotAllocation,
    PointLot,
    Reward,
    StockChange,
    Voucher,
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


CHECKS: list[Callable[[], Iterable[Drift]]] = [journals_balance, balances_match_entries, lots_match,
                                               receipts_match_journals, stock_matches_its_journal]


def verify() -> list[Drift]:
    """Run every check; an empty list means the ledgers are sound."""
    return [drift for check in CHECKS for drift in check()]
