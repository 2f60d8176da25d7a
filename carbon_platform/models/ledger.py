"""The two ledgers: journals of entries in points and grams, point lots, and recorded shortfalls.

Double entry: every journal's entries sum to zero per unit. Holder books (available, pending,
reduction) belong to a carbon account and are cached on it; system books (issued, redeemed,
expired, certified, adjusted) have no holder and are never cached: their balance is a SUM, so no
single hot row serialises every transaction. Journals, entries and allocations are append-only
(database triggers refuse UPDATE and DELETE; see the first migration).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_platform.models.base import IDEMPOTENCY_KEY_LENGTH, Base, BigInt, str_enum, utc_now


class Unit(enum.StrEnum):
    POINTS = "points"
    GRAMS = "grams"


class Book(enum.StrEnum):
    # Holder books: cached on carbon_accounts, never negative.
    AVAILABLE = "available"
    PENDING = "pending"
    REDUCTION = "reduction"
    # System books: the other side of every movement.
    ISSUED = "issued"  # source of earned points (its SUM is minus the points ever issued)
    ADJUSTED = "adjusted"  # source/sink of manual adjustments
    REDEEMED = "redeemed"  # sink of spent points
    EXPIRED = "expired"  # sink of expired points
    CERTIFIED = "certified"  # source of certified reductions (grams CO2e)

    @property
    def unit(self) -> Unit:
        return Unit.GRAMS if self in (Book.REDUCTION, Book.CERTIFIED) else Unit.POINTS

    @property
    def is_holder(self) -> bool:
        return self in HOLDER_BOOKS


HOLDER_BOOKS = (Book.AVAILABLE, Book.PENDING, Book.REDUCTION)
#: The carbon_accounts column that caches each holder book.
BALANCE_COLUMN = {Book.AVAILABLE: "points_available", Book.PENDING: "points_pending", Book.REDUCTION: "reduction_grams"}


class JournalKind(enum.StrEnum):
    EARN = "earn"
    SPEND = "spend"
    RELEASE = "release"
    EXPIRE = "expire"
    REVERSE = "reverse"
    ADJUST = "adjust"
    REFUND = "refund"  # spent points given back (a cancelled voucher): one journal per lot they came from
    CLOSE = "close"  # an account closed (its holder deleted it): the points left are cancelled (注销)


class Journal(Base):
    """One ledger transaction, claimed by its idempotency key before anything else is written."""

    __tablename__ = "journals"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    kind: Mapped[JournalKind] = mapped_column(str_enum(JournalKind, "journal_kind"))
    idempotency_key: Mapped[str] = mapped_column(sa.String(IDEMPOTENCY_KEY_LENGTH), unique=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carbon_accounts.id"), index=True)
    scenario: Mapped[str | None] = mapped_column(sa.String(64))
    reverses_id: Mapped[int | None] = mapped_column(BigInt, sa.ForeignKey("journals.id"), unique=True)
    memo: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)

    entries: Mapped[list[LedgerEntry]] = relationship(order_by="LedgerEntry.id", viewonly=True)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="amount_nonzero"),
        sa.CheckConstraint(
            "(account_id IS NULL) = (book NOT IN ('available', 'pending', 'reduction'))",
            name="holder_books_have_holders",
        ),
        sa.Index("ix_ledger_entries_account_book", "account_id", "book"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    journal_id: Mapped[int] = mapped_column(BigInt, sa.ForeignKey("journals.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carbon_accounts.id"))
    book: Mapped[Book] = mapped_column(str_enum(Book, "ledger_book"))
    amount: Mapped[int] = mapped_column(BigInt)


class PointLot(Base):
    """Points earned together: pending until released, spendable until they expire.

    ``remaining`` is a cache of ``points`` minus this lot's allocations; it changes only under the
    owning account's row lock (see services.ledger).
    """

    __tablename__ = "point_lots"
    __table_args__ = (
        sa.CheckConstraint("points > 0", name="points_positive"),
        sa.CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
        sa.Index(
            "ix_point_lots_open",
            "account_id",
            "expires_at",
            sqlite_where=sa.text("remaining > 0"),
            postgresql_where=sa.text("remaining > 0"),
        ),
        sa.Index(
            "ix_point_lots_unreleased",
            "release_at",
            sqlite_where=sa.text("released_at IS NULL AND remaining > 0"),
            postgresql_where=sa.text("released_at IS NULL AND remaining > 0"),
        ),
        sa.Index(
            "ix_point_lots_expiring",
            "expires_at",
            sqlite_where=sa.text("remaining > 0"),
            postgresql_where=sa.text("remaining > 0"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"))
    journal_id: Mapped[int] = mapped_column(BigInt, sa.ForeignKey("journals.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInt)
    remaining: Mapped[int] = mapped_column(BigInt)
    earned_at: Mapped[datetime]
    release_at: Mapped[datetime | None]  # None: available at once
    released_at: Mapped[datetime | None]  # None while pending
    expires_at: Mapped[datetime]

    @property
    def book(self) -> Book:
        return Book.PENDING if self.released_at is None else Book.AVAILABLE


class LotAllocation(Base):
    """Points a journal took from a lot (spent, expired or reversed)."""

    __tablename__ = "lot_allocations"
    __table_args__ = (sa.CheckConstraint("points > 0", name="points_positive"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    journal_id: Mapped[int] = mapped_column(BigInt, sa.ForeignKey("journals.id"), index=True)
    lot_id: Mapped[int] = mapped_column(BigInt, sa.ForeignKey("point_lots.id"), index=True)
    points: Mapped[int] = mapped_column(BigInt)


class LedgerShortfall(Base):
    """A reversal wanted more than the holder still had: recorded here, never made negative."""

    __tablename__ = "ledger_shortfalls"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    journal_id: Mapped[int] = mapped_column(BigInt, sa.ForeignKey("journals.id"), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"), index=True)
    points: Mapped[int] = mapped_column(BigInt, default=0)
    grams: Mapped[int] = mapped_column(BigInt, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    resolved_at: Mapped[datetime | None]
