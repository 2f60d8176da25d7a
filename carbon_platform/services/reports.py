"""Figures for dashboards, read straight from the ledgers (so they always equal them)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import Book, CarbonAccount, Enterprise, Household, LedgerEntry, Merchant, Resident


@dataclass(frozen=True)
class LedgerTotals:
    reduction_grams: int  # certified, net of reversals
    points_issued: int  # earned, net of reversals
    points_adjusted: int  # manual adjustments, net (negative when more was taken than given)
    points_spent: int
    points_expired: int
    points_available: int
    points_pending: int
    residents: int
    households: int
    enterprises: int
    merchants: int

    @property
    def points_outstanding(self) -> int:
        return self.points_available + self.points_pending

    @property
    def reduction_tonnes(self) -> float:
        return self.reduction_grams / 1_000_000


def ledger_totals() -> LedgerTotals:
    books = dict(
        db.session.execute(
            sa.select(LedgerEntry.book, sa.func.sum(LedgerEntry.amount))
            .where(LedgerEntry.account_id.is_(None))
            .group_by(LedgerEntry.book)
        ).all()
    )
    available, pending = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(CarbonAccount.points_available), 0),
                  sa.func.coalesce(sa.func.sum(CarbonAccount.points_pending), 0))
    ).one()

    def total(book: Book) -> int:
        return int(books.get(book) or 0)

    def count(model) -> int:
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()

    return LedgerTotals(
        reduction_grams=-total(Book.CERTIFIED),
        points_issued=-total(Book.ISSUED),
        points_adjusted=-total(Book.ADJUSTED),
        points_spent=total(Book.REDEEMED),
        points_expired=total(Book.EXPIRED),
        points_available=int(available),
        points_pending=int(pending),
        residents=count(Resident),
        households=count(Household),
        enterprises=count(Enterprise),
        merchants=count(Merchant),
    )
