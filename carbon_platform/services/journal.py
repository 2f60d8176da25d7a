"""Journal primitives: amounts, idempotent claims, account locks and guarded postings.

Every ledger operation (services.ledger) is built from these four steps, in this order: check the
amount, claim the idempotency key (INSERT … ON CONFLICT DO NOTHING), lock the holder's account row,
and post balanced entries whose balance changes each go through one guarded statement.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from carbon_platform.db import insert_ignoring_conflicts
from carbon_platform.errors import IdempotencyConflict, InsufficientPoints, InvalidAmount, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Book, CarbonAccount, Journal, JournalKind, LedgerEntry
from carbon_platform.models.ledger import BALANCE_COLUMN

#: No single movement may exceed this (10^12 points or grams, ~10^6 t CO2e): far above any real
#: credit and far below 2^63, so sums over millions of entries cannot overflow.
MAX_AMOUNT = 10**12


@dataclass(frozen=True)
class Posting:
    account_id: int | None
    book: Book
    amount: int


def checked_amount(value: Any, name: str = "points", *, allow_zero: bool = False) -> int:
    """Accept only true integers in range: no bools, floats, Decimals, strings, NaN or 2**63."""
    if type(value) is not int:
        raise InvalidAmount(f"{name} must be a whole number", field=name)
    low = 0 if allow_zero else 1
    if not low <= value <= MAX_AMOUNT:
        raise InvalidAmount(f"{name} must be between {low} and {MAX_AMOUNT}", field=name)
    return value


def fingerprint(payload: Any) -> str:
    """SHA-256 of a request's canonical JSON: what an idempotency key is bound to."""
    canonical = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def jsonable(payload: Any) -> Any:
    """The payload as JSON types (Decimals and datetimes as text), ready for a JSON column."""
    return json.loads(json.dumps(payload, default=str))


def request_hash(kind: JournalKind, payload: dict[str, Any]) -> str:
    return fingerprint({"kind": kind.value, **payload})


def claim_journal(
    kind: JournalKind,
    idempotency_key: str,
    payload: dict[str, Any],
    *,
    account_id: int | None,
    now: datetime,
    scenario: str | None = None,
    memo: str = "",
    reverses_id: int | None = None,
) -> tuple[Journal, bool]:
    """Insert the journal row or find the one already holding the key. Returns (journal, created)."""
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 200:
        raise InvalidInput("idempotency key must be 1 to 200 characters", field="idempotency_key")
    digest = request_hash(kind, payload)
    journal = db.session.scalars(
        insert_ignoring_conflicts(Journal, ["idempotency_key"])
        .values(
            kind=kind,
            idempotency_key=idempotency_key,
            request_hash=digest,
            account_id=account_id,
            scenario=scenario,
            memo=memo[:200],
            reverses_id=reverses_id,
            created_at=now,
        )
        .returning(Journal)
    ).one_or_none()
    if journal is not None:
        return journal, True
    existing = db.session.execute(sa.select(Journal).where(Journal.idempotency_key == idempotency_key)).scalar_one()
    if existing.request_hash != digest:
        raise IdempotencyConflict(idempotency_key=idempotency_key)
    return existing, False


def lock_account(account_id: int) -> CarbonAccount:
    """Lock the account row for the rest of the transaction and return it freshly loaded.

    ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: inserting a journal, entry or lot that references the
    account takes a KEY SHARE lock on its row, and ``FOR UPDATE`` conflicts with that, so two spends
    that had both inserted their journal would deadlock waiting to upgrade. NO KEY UPDATE (what a
    plain UPDATE of the balance takes anyway) does not conflict with KEY SHARE.
    """
    account = db.session.execute(
        sa.select(CarbonAccount)
        .where(CarbonAccount.id == account_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if account is None:
        raise NotFound("account not found", account_id=account_id)
    return account


def post(journal: Journal, postings: Iterable[Posting]) -> None:
    """Write the entries and move the cached balances, each through its guard."""
    postings = [p for p in postings if p.amount]
    sums: dict[str, int] = defaultdict(int)
    for p in postings:
        sums[p.book.unit] += p.amount
    if any(sums.values()):
        raise AssertionError(f"unbalanced journal {journal.kind}: {dict(sums)}")  # a bug, never input
    if not postings:
        return
    db.session.execute(  # the table, not the entity: a plain executemany, without ORM bulk-insert bookkeeping
        sa.insert(LedgerEntry.__table__),
        [{"journal_id": journal.id, "account_id": p.account_id, "book": p.book, "amount": p.amount} for p in postings],
    )
    deltas: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in postings:
        if p.book.is_holder:
            deltas[p.account_id][BALANCE_COLUMN[p.book]] += p.amount
    table = CarbonAccount.__table__
    for account_id in sorted(deltas):  # a fixed order, so two journals never lock in opposite orders
        changes = {column: delta for column, delta in deltas[account_id].items() if delta}
        if not changes:
            continue
        guard = sa.and_(*(table.c[column] + delta >= 0 for column, delta in changes.items()))
        result = db.session.execute(
            sa.update(table)
            .where(table.c.id == account_id, guard)
            .values({column: table.c[column] + delta for column, delta in changes.items()})
        )
        if result.rowcount != 1:
            raise InsufficientPoints(account_id=account_id)
        account = db.session.identity_map.get(db.session.identity_key(CarbonAccount, account_id))
        if account is not None:
            db.session.expire(account, list(changes))
