"""The ledger service: earn, spend, release, expire, reverse and adjust — each an idempotent journal.

How a call stays exactly-once and race-free, on PostgreSQL and on SQLite alike:

1. The idempotency key is claimed first, with INSERT … ON CONFLICT DO NOTHING. A concurrent
   duplicate waits on the key's index entry, then finds the committed journal and replays it; a
   reused key with a different request is an ``IdempotencyConflict``.
2. The holder's carbon account row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
   ``BEGIN IMMEDIATE`` already holds the database write lock). Every change to an account's lots
   happens under this lock, so lot reads after it are current.
3. Balances move only through one guarded statement per book
   (``SET b = b + :d WHERE id = :id AND b + :d >= 0``); a failed guard raises and nothing is kept.

Nothing here commits: the request or CLI command that called it does, once. The steps themselves live in
``services.journal`` and the point lots in ``services.lots``; this module composes them into the operations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from carbon_platform.clock import as_utc, expiry_for, utc_or_now
from carbon_platform.errors import (
    AccountFrozen,
    Conflict,
    InvalidAmount,
    InvalidInput,
    NotFound,
)
from carbon_platform.extensions import db
from carbon_platform.models import (
    Book,
    CarbonAccount,
    Journal,
    JournalKind,
    LedgerEntry,
    LedgerShortfall,
    LotAllocation,
    PointLot,
)
from carbon_platform.services.journal import (  # noqa: F401 - the primitives are part of this module's API
    MAX_AMOUNT,
    JournalPostings,
    Posting,
    checked_amount,
    claim_journal,
    claim_journals,
    insert_rows,
    lock_account,
    lock_accounts,
    post,
    post_many,
    request_hash,
)
from carbon_platform.services.lots import (  # noqa: F401 - settle_due, expiring_soon… are part of its API
    Balances,
    balances,
    expiring_soon,
    lot_row,
    next_release,
    open_lot,
    release_times,
    settle,
    settle_due,
    take_points,
)


def _require_active(account: CarbonAccount) -> None:
    if account.frozen:
        raise AccountFrozen(account_id=account.id)


# -- the operations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credit:
    """One earning: certified grams and points, pending until ``release_at`` if that is in the future."""

    account_id: int
    points: int
    grams: int
    idempotency_key: str
    scenario: str | None = None
    earned_at: datetime | None = None
    release_at: datetime | None = None
    expires_at: datetime | None = None
    memo: str = ""


@dataclass(frozen=True)
class Earning:
    """A credit checked by ``checked_credit``: amounts in range, times in UTC, expiry decided. Only these
    reach ``earn_many``, so every credit is checked once, by whoever builds it."""

    account_id: int
    points: int
    grams: int
    idempotency_key: str
    scenario: str | None
    earned_at: datetime
    release_at: datetime | None
    expires_at: datetime
    memo: str = ""


def earn(account_id: int, *, points: int, grams: int, idempotency_key: str, scenario: str | None = None,
         earned_at: datetime | None = None, release_at: datetime | None = None, expires_at: datetime | None = None,
         memo: str = "", now: datetime | None = None, account_locked: bool = False) -> Journal:
    """Credit certified grams and points (pending until ``release_at``, if that is in the future).

    ``account_locked``: the caller already holds the account's row lock in this transaction (awarding
    does), so it is not taken again.
    """
    now = utc_or_now(now)
    credit = checked_credit(Credit(account_id, points, grams, idempotency_key, scenario, earned_at, release_at,
                                   expires_at, memo), now)
    (journal_id,) = earn_many([credit], now=now, locked=_frozen({account_id}) if account_locked else None)
    return db.session.get(Journal, journal_id)


def _frozen(account_ids: set[int]) -> dict[int, bool]:
    """``frozen`` of accounts whose rows the caller has already locked."""
    return dict(db.session.execute(sa.select(CarbonAccount.id, CarbonAccount.frozen)
                                   .where(CarbonAccount.id.in_(account_ids))).all())


def checked_credit(credit: Credit, now: datetime) -> Earning:
    """The credit with its times in UTC and its expiry filled in; raises on amounts or times that cannot be."""
    checked_amount(credit.points, "points", allow_zero=True)
    checked_amount(credit.grams, "grams", allow_zero=True)
    if credit.points == 0 and credit.grams == 0:
        raise InvalidAmount("an earning credits points, grams or both")
    earned_at = now if credit.earned_at is None else as_utc(credit.earned_at)
    release_at = None if credit.release_at is None else as_utc(credit.release_at)
    expires_at = credit.expires_at
    if expires_at is None:
        expires_at = expiry_for(earned_at, current_app.config["POINTS_EXPIRY_MONTHS"])
    expires_at = as_utc(expires_at)
    if expires_at <= now or (release_at is not None and expires_at <= release_at):
        raise InvalidInput("points must expire after they are credited and released", field="expires_at")
    return Earning(credit.account_id, credit.points, credit.grams, credit.idempotency_key, credit.scenario,
                   earned_at, release_at, expires_at, credit.memo)


def earn_many(earnings: list[Earning], *, now: datetime | None = None,
              locked: Mapping[int, bool] | None = None) -> list[int]:
    """Post many checked earnings with a fixed number of statements, whatever their number; returns their
    journal ids, in order. A key already used replays its journal (a changed request is a conflict).

    The statements: claim every key (one insert); lock the accounts (one select), unless the caller
    holds them, in which case ``locked`` maps each account it locked to whether it is frozen; then one
    insert each of lots and entries, and one guarded balance change per shape of change. All or
    nothing: a frozen account raises.
    """
    now = utc_or_now(now)
    claimed = claim_journals(JournalKind.EARN, [
        {"idempotency_key": e.idempotency_key, "payload": _earning_payload(e), "account_id": e.account_id,
         "scenario": e.scenario, "memo": e.memo} for e in earnings], now=now)
    fresh = [(earning, claim.journal_id) for earning, claim in zip(earnings, claimed, strict=True) if claim.created]
    if fresh:
        account_ids = {earning.account_id for earning, _ in fresh}
        frozen = lock_accounts(account_ids) if locked is None else locked
        for account_id in sorted(account_ids):
            if account_id not in frozen:
                raise NotFound("account not found", account_id=account_id)
            if frozen[account_id]:
                raise AccountFrozen(account_id=account_id)
        lots, journals = [], []
        for earning, journal_id in fresh:
            postings = [Posting(earning.account_id, Book.REDUCTION, earning.grams),
                        Posting(None, Book.CERTIFIED, -earning.grams)]
            if earning.points:
                lot = lot_row(journal_id, earning.account_id, earning.points, earned_at=earning.earned_at,
                              release_at=earning.release_at, expires_at=earning.expires_at, now=now)
                lots.append(lot)
                book = Book.AVAILABLE if lot["released_at"] is not None else Book.PENDING
                postings += [Posting(earning.account_id, book, earning.points),
                             Posting(None, Book.ISSUED, -earning.points)]
            journals.append(JournalPostings(journal_id, JournalKind.EARN, postings))
        if lots:
            insert_rows(PointLot, lots)
        post_many(journals)
    return [claim.journal_id for claim in claimed]


def _earning_payload(earning: Earning) -> dict:
    return {"account": earning.account_id, "points": earning.points, "grams": earning.grams,
            "scenario": earning.scenario, "earned_at": earning.earned_at, "release_at": earning.release_at,
            "expires_at": earning.expires_at}


def spend(account_id: int, *, points: int, idempotency_key: str, memo: str = "",
          now: datetime | None = None) -> Journal:
    """Spend available points, soonest-expiring lots first. Raises InsufficientPoints."""
    return _debit(JournalKind.SPEND, Book.REDEEMED, account_id, points, idempotency_key, memo, now)


def adjust(account_id: int, *, points: int, idempotency_key: str, reason: str,
           now: datetime | None = None) -> Journal:
    """A manual correction: positive credits a new available lot, negative debits available points."""
    if type(points) is int and points < 0:
        return _debit(JournalKind.ADJUST, Book.ADJUSTED, account_id, -points, idempotency_key, reason, now)
    now = utc_or_now(now)
    checked_amount(points)
    if not reason.strip():
        raise InvalidInput("an adjustment needs a reason", field="reason")
    journal, created = claim_journal(
        JournalKind.ADJUST, idempotency_key, {"account": account_id, "points": points},
        account_id=account_id, now=now, memo=reason,
    )
    if not created:
        return journal
    account = lock_account(account_id)
    expires_at = expiry_for(now, current_app.config["POINTS_EXPIRY_MONTHS"])
    book = open_lot(journal, account, points, earned_at=now, release_at=None, expires_at=expires_at, now=now)
    post(journal, [Posting(account.id, book, points), Posting(None, Book.ADJUSTED, -points)])
    return journal


def _debit(kind, counter_book, account_id, points, idempotency_key, memo, now) -> Journal:
    now = utc_or_now(now)
    checked_amount(points)
    journal, created = claim_journal(
        kind, idempotency_key, {"account": account_id, "points": -points}, account_id=account_id, now=now, memo=memo
    )
    if not created:
        return journal
    account = lock_account(account_id)
    _require_active(account)
    settle(account, now)
    # The guarded statement is the check: it fails unless the balance covers the whole amount.
    post(journal, [Posting(account.id, Book.AVAILABLE, -points), Posting(None, counter_book, points)])
    taken = take_points(journal, account, points, now, books=(Book.AVAILABLE,))
    if taken[Book.AVAILABLE] != points:  # balance and lots disagree: refuse rather than guess
        raise AssertionError(f"account {account.id}: lots hold {taken[Book.AVAILABLE]} of {points} points")
    return journal


def refund(spend_journal_id: int, *, idempotency_key: str, reason: str, now: datetime | None = None) -> int:
    """Give back what a spend took, as new available lots that keep the expiry of the lots it came from.

    A lot belongs to one journal, so each source lot gets its own refund journal (key
    ``<idempotency_key>:lot<id>``): running this twice moves nothing twice. Points whose original
    expiry has passed come back and expire at once, as they would have. Returns the points given back.
    """
    now = utc_or_now(now)
    spend = db.session.get(Journal, spend_journal_id)
    if spend is None or spend.kind != JournalKind.SPEND:
        raise NotFound("no spend with that id", journal_id=spend_journal_id)
    account = lock_account(spend.account_id)
    parts = db.session.execute(
        sa.select(PointLot, LotAllocation.points)
        .join(LotAllocation, LotAllocation.lot_id == PointLot.id)
        .where(LotAllocation.journal_id == spend_journal_id)
        .order_by(PointLot.id)
    ).all()
    refunded = 0
    for lot, points in parts:
        journal, created = claim_journal(
            JournalKind.REFUND, f"{idempotency_key}:lot{lot.id}", {"spend": spend_journal_id, "lot": lot.id},
            account_id=account.id, now=now, memo=reason,
        )
        if not created:
            continue
        open_lot(journal, account, points, earned_at=lot.earned_at, release_at=None, expires_at=lot.expires_at,
                  now=now)
        post(journal, [Posting(account.id, Book.AVAILABLE, points), Posting(None, Book.REDEEMED, -points)])
        refunded += points
    db.session.flush()
    settle(account, now, release=False)  # a part whose original expiry has passed expires now
    return refunded


def close(account_id: int, *, idempotency_key: str, reason: str, now: datetime | None = None) -> Journal | None:
    """Cancel (注销) every point the account still holds, available and pending, because its holder deleted
    it: one ``close`` journal into the expired book (points that will never be spent), taken from its lots.
    The certified grams stay: they are the city's figures, not the holder's to take. None when no points are
    left (nothing to journal)."""
    now = utc_or_now(now)
    account = lock_account(account_id)
    settle(account, now)  # release what is due and expire what is past, as any debit does first
    db.session.refresh(account)
    held = account.points_available + account.points_pending
    if held == 0:
        return None
    journal, created = claim_journal(JournalKind.CLOSE, idempotency_key, {"account": account_id, "points": -held},
                                     account_id=account_id, now=now, memo=reason)
    if not created:
        return journal
    taken = take_points(journal, account, held, now, books=(Book.AVAILABLE, Book.PENDING))
    if sum(taken.values()) != held:  # balance and lots disagree: refuse rather than guess
        raise AssertionError(f"account {account.id}: lots hold {sum(taken.values())} of {held} points")
    post(journal, [*(Posting(account.id, book, -part) for book, part in taken.items() if part),
                   Posting(None, Book.EXPIRED, held)])
    return journal


def reverse(journal_id: int, *, idempotency_key: str, reason: str, now: datetime | None = None) -> Journal:
    """Take back an earning: from its own lot first, then from the holder's other points.

    Whatever cannot be taken is recorded as a ``LedgerShortfall`` and the account is flagged; no
    balance ever goes negative.
    """
    now = utc_or_now(now)
    original = db.session.get(Journal, journal_id)
    if original is None or original.kind != JournalKind.EARN:
        raise NotFound("no earning with that id", journal_id=journal_id)
    key_owner = db.session.execute(
        sa.select(Journal.idempotency_key).where(Journal.reverses_id == journal_id)
    ).scalar_one_or_none()
    if key_owner is not None and key_owner != idempotency_key:
        raise Conflict("this earning was already reversed", journal_id=journal_id)
    try:
        journal, created = claim_journal(
            JournalKind.REVERSE, idempotency_key, {"reverses": journal_id}, account_id=original.account_id,
            now=now, scenario=original.scenario, memo=reason, reverses_id=journal_id,
        )
    except sa.exc.IntegrityError as exc:  # a concurrent reversal under another key won the unique index
        raise Conflict("this earning was already reversed", journal_id=journal_id) from exc
    if not created:
        return journal
    account = lock_account(original.account_id)
    settle(account, now)
    earned = _earned_amounts(journal_id)
    lot = db.session.execute(
        sa.select(PointLot).where(PointLot.journal_id == journal_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    taken: dict[Book, int] = defaultdict(int)
    expired = 0
    if lot is not None:
        # Points of this lot that expired (or were cancelled when its account closed) never served the
        # holder: they go back from the expired book to issuance, and are not taken from its other points.
        expired = _expired_from(lot)
        if lot.remaining:
            taken[lot.book] += lot.remaining
            db.session.add(LotAllocation(journal_id=journal.id, lot_id=lot.id, points=lot.remaining))
            lot.remaining = 0
    still_owed = earned[Book.ISSUED] - expired - sum(taken.values())
    if still_owed:
        for book, part in take_points(journal, account, still_owed, now, books=(Book.AVAILABLE, Book.PENDING)).items():
            taken[book] += part
    grams = min(earned[Book.CERTIFIED], account.reduction_grams)
    points_short = earned[Book.ISSUED] - expired - sum(taken.values())
    postings = [Posting(account.id, book, -part) for book, part in taken.items()]
    postings += [
        Posting(None, Book.EXPIRED, -expired),
        Posting(None, Book.ISSUED, sum(taken.values()) + expired),
        Posting(account.id, Book.REDUCTION, -grams),
        Posting(None, Book.CERTIFIED, grams),
    ]
    post(journal, postings)
    if points_short or grams < earned[Book.CERTIFIED]:
        db.session.add(LedgerShortfall(journal_id=journal.id, account_id=account.id, points=points_short,
                                       grams=earned[Book.CERTIFIED] - grams, created_at=now))
        account.flagged = True
    return journal


def _expired_from(lot: PointLot) -> int:
    return int(
        db.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(LotAllocation.points), 0))
            .join(Journal, Journal.id == LotAllocation.journal_id)
            .where(LotAllocation.lot_id == lot.id, Journal.kind.in_([JournalKind.EXPIRE, JournalKind.CLOSE]))
        ).scalar_one()
    )


def _earned_amounts(journal_id: int) -> dict[Book, int]:
    """Points and grams an earning issued, read from its system-side entries."""
    rows = db.session.execute(
        sa.select(LedgerEntry.book, sa.func.sum(LedgerEntry.amount))
        .where(LedgerEntry.journal_id == journal_id, LedgerEntry.account_id.is_(None))
        .group_by(LedgerEntry.book)
    ).all()
    amounts = defaultdict(int, {book: -int(total) for book, total in rows})
    return amounts


