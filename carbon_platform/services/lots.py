"""Point lots: each earning's points, held until release and spendable until expiry, soonest expiry first.

Opening, taking from, releasing and expiring lots. Every change happens under the holder's account
lock, through the journal primitives (``services.journal``); ``services.ledger`` composes these into
its operations and answers for them (``ledger.settle_due``, ``ledger.expiring_soon``).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from carbon_platform.clock import utc_or_now
from carbon_platform.extensions import db
from carbon_platform.models import Book, CarbonAccount, Journal, JournalKind, LotAllocation, PointLot
from carbon_platform.services.journal import Posting, claim_journal, insert_rows, lock_account, post

LOT_PAGE = 32


def take_points(
    journal: Journal, account: CarbonAccount, points: int, now: datetime, *, books: tuple[Book, ...]
) -> dict[Book, int]:
    """Allocate up to ``points`` from the account's open lots in ``books``, soonest expiry first.

    Returns what was taken per book; the caller posts it. Available lots are taken before pending
    ones, and lots already past their expiry are never taken (``settle`` expires them first).
    """
    query = (
        sa.select(PointLot)
        .where(PointLot.account_id == account.id, PointLot.remaining > 0, PointLot.expires_at > now)
        .order_by(PointLot.released_at.is_(None), PointLot.expires_at, PointLot.id)
        .execution_options(populate_existing=True)
    )
    if Book.PENDING not in books:
        query = query.where(PointLot.released_at.is_not(None))
    taken: dict[Book, int] = defaultdict(int)
    # A page at a time: a resident may hold thousands of small lots (one per bus ride), and a spend
    # usually needs the first few. Emptied lots leave the "remaining > 0" filter (autoflush), so the
    # next page starts after them.
    while points > 0:
        page = db.session.execute(query.limit(LOT_PAGE)).scalars().all()
        allocations = []
        for lot in page:
            part = min(lot.remaining, points)
            lot.remaining -= part
            points -= part
            taken[lot.book] += part
            allocations.append({"journal_id": journal.id, "lot_id": lot.id, "points": part})
            if points == 0:
                break
        if allocations:
            insert_rows(LotAllocation, allocations)
        if len(page) < LOT_PAGE:
            break
    return taken


def settle(account: CarbonAccount, now: datetime, *, release: bool = True, expire: bool = True) -> None:
    """Release the account's lots whose hold has passed, then expire those past their expiry.

    Each lot is its own journal with a key derived from the lot, so running this again (from a
    spend, a cron job or both at once) never moves a point twice.
    """
    due = db.session.execute(
        sa.select(PointLot)
        .where(
            PointLot.account_id == account.id,
            PointLot.remaining > 0,
            sa.or_(
                sa.and_(PointLot.released_at.is_(None), PointLot.release_at <= now),
                PointLot.expires_at <= now,
            ),
        )
        .order_by(PointLot.id)
        .execution_options(populate_existing=True)
    ).scalars()
    for lot in list(due):
        if release and lot.released_at is None and lot.release_at is not None and lot.release_at <= now:
            _release_lot(account, lot, now)
        if expire and lot.expires_at <= now:
            _expire_lot(account, lot, now)


def _release_lot(account: CarbonAccount, lot: PointLot, now: datetime) -> None:
    journal, created = claim_journal(
        JournalKind.RELEASE, f"release:lot:{lot.id}", {"lot": lot.id}, account_id=account.id, now=now
    )
    if not created:
        return
    lot.released_at = now
    moved = lot.remaining
    post(journal, [Posting(account.id, Book.PENDING, -moved), Posting(account.id, Book.AVAILABLE, moved)])


def _expire_lot(account: CarbonAccount, lot: PointLot, now: datetime) -> None:
    journal, created = claim_journal(
        JournalKind.EXPIRE, f"expire:lot:{lot.id}", {"lot": lot.id}, account_id=account.id, now=now
    )
    if not created:
        return
    points, book = lot.remaining, lot.book
    lot.remaining = 0
    db.session.add(LotAllocation(journal_id=journal.id, lot_id=lot.id, points=points))
    post(journal, [Posting(account.id, book, -points), Posting(None, Book.EXPIRED, points)])


def lot_row(journal_id: int, account_id: int, points: int, *, earned_at, release_at, expires_at, now) -> dict:
    """A new lot's columns: released at once unless its hold ends in the future."""
    pending = release_at is not None and release_at > now
    return {"account_id": account_id, "journal_id": journal_id, "points": points, "remaining": points,
            "earned_at": earned_at, "release_at": release_at, "released_at": None if pending else now,
            "expires_at": expires_at}


def open_lot(journal: Journal, account: CarbonAccount, points: int, *, earned_at, release_at, expires_at, now):
    lot = lot_row(journal.id, account.id, points, earned_at=earned_at, release_at=release_at, expires_at=expires_at,
                   now=now)
    db.session.add(PointLot(**lot))
    return Book.PENDING if lot["released_at"] is None else Book.AVAILABLE


def settle_due(now: datetime | None = None, *, release: bool = True, expire: bool = True) -> Iterable[int]:
    """Release and/or expire every due lot, account by account; yields each account id as it is settled.

    The caller commits (per batch, for a long run); running it twice, or beside spends, is harmless.
    """
    now = utc_or_now(now)
    due = []
    if release:
        due.append(sa.and_(PointLot.released_at.is_(None), PointLot.release_at <= now))
    if expire:
        due.append(PointLot.expires_at <= now)
    due_accounts = (
        sa.select(PointLot.account_id)
        .where(PointLot.remaining > 0, sa.or_(*due))
        .distinct()
        .order_by(PointLot.account_id)
    )
    for account_id in db.session.execute(due_accounts).scalars().all():
        settle(lock_account(account_id), now, release=release, expire=expire)
        yield account_id


def expiring_soon(account_id: int, now: datetime | None = None, days: int | None = None) -> int:
    """Points (available or pending) that expire within ``days`` (default: EXPIRING_SOON_DAYS)."""
    now = utc_or_now(now)
    horizon = now + timedelta(days=days or current_app.config["EXPIRING_SOON_DAYS"])
    total = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(PointLot.remaining), 0)).where(
            PointLot.account_id == account_id, PointLot.remaining > 0, PointLot.expires_at <= horizon
        )
    ).scalar_one()
    return int(total)


@dataclass(frozen=True, slots=True)
class Balances:
    """An account's points as its holder sees them."""

    available: int
    pending: int
    next_release_at: datetime | None
    expiring_soon: int
    expiring_within_days: int


def balances(account: CarbonAccount) -> Balances:
    """The account's available and pending points, the next release, and what expires soon."""
    days = current_app.config["EXPIRING_SOON_DAYS"]
    return Balances(available=account.points_available, pending=account.points_pending,
                    next_release_at=next_release(account.id), expiring_soon=expiring_soon(account.id, days=days),
                    expiring_within_days=days)


def next_release(account_id: int) -> datetime | None:
    """When the account's soonest pending points become spendable; None when none are pending.

    A time already past means the points are due and move at the next settlement (a spend, or the
    ``ledger settle`` job); reading never settles.
    """
    # ORDER BY … LIMIT 1 rather than MIN(): an aggregate loses the column's UTC type on SQLite.
    return db.session.execute(
        sa.select(PointLot.release_at)
        .where(PointLot.account_id == account_id, PointLot.released_at.is_(None), PointLot.remaining > 0)
        .order_by(PointLot.release_at)
        .limit(1)
    ).scalar()


def release_times(journal_ids: Iterable[int | None]) -> dict[int, datetime]:
    """For each journal among ``journal_ids`` that opened a lot (earn, adjust, refund): when its points became,
    or become, spendable."""
    wanted = {j for j in journal_ids if j is not None}
    if not wanted:
        return {}
    rows = db.session.execute(_release_times(), {"journals": sorted(wanted)})
    return {journal_id: released_at or release_at for journal_id, released_at, release_at in rows}


@functools.cache
def _release_times() -> sa.Select:
    """``release_times``' statement, built once per process (every report answers with it)."""
    return (sa.select(PointLot.journal_id, PointLot.released_at, PointLot.release_at)
            .where(PointLot.journal_id.in_(sa.bindparam("journals", expanding=True))))
