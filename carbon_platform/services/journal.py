"""Journal primitives: amounts, idempotent claims, account locks and guarded postings.

Every ledger operation (services.ledger) is built from these four steps, in this order: check the
amount, claim the idempotency key (INSERT … ON CONFLICT DO NOTHING), lock the holder's account row,
and post balanced entries whose balance changes each go through one guarded statement.
"""

from __future__ import annotations

import functools
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
from carbon_platform.models.base import IDEMPOTENCY_KEY_LENGTH
from carbon_platform.models.ledger import BALANCE_COLUMN

#: No single movement may exceed this (10^12 points or grams, ~10^6 t CO2e): far above any real
#: credit and far below 2^63, so sums over millions of entries cannot overflow.
MAX_AMOUNT = 10**12


@dataclass(frozen=True)
class Posting:
    account_id: int | None
    book: Book
    amount: int


def insert_rows(model: type, rows: list[dict[str, Any]]) -> None:
    """Write a batch of new rows of ``model`` in one statement: an ORM bulk insert.

    ``render_nulls``: otherwise the ORM leaves a None out of its row, and rows of different shapes (an entry
    with a holder, the next one without) cannot share a statement: a batch of 100 earnings became a dozen inserts.
    """
    db.session.execute(_bulk_insert(model), rows)


@functools.cache
def _bulk_insert(model: type) -> sa.Insert:
    return sa.insert(model).execution_options(render_nulls=True)


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


def checked_key(key: Any) -> str:
    """A stored idempotency key (a journal's, an action's): text of 1 to ``IDEMPOTENCY_KEY_LENGTH`` characters.
    The one check of a stored key; a client's ``Idempotency-Key`` header is checked, shorter, by the API."""
    if not isinstance(key, str) or not 1 <= len(key) <= IDEMPOTENCY_KEY_LENGTH:
        raise InvalidInput(f"idempotency key must be 1 to {IDEMPOTENCY_KEY_LENGTH} characters",
                           field="idempotency_key")
    return key


def _journal_row(kind: JournalKind, idempotency_key: str, payload: dict[str, Any], *, account_id: int | None,
                 now: datetime, scenario: str | None = None, memo: str = "", reverses_id: int | None = None) -> dict:
    """A new journal's columns, its key checked and its request hashed."""
    return {"kind": kind, "idempotency_key": checked_key(idempotency_key), "request_hash": request_hash(kind, payload),
            "account_id": account_id, "scenario": scenario, "memo": memo[:200], "reverses_id": reverses_id,
            "created_at": now}


def claim_journal(kind: JournalKind, idempotency_key: str, payload: dict[str, Any], *, account_id: int | None,
                  now: datetime, scenario: str | None = None, memo: str = "",
                  reverses_id: int | None = None) -> tuple[Journal, bool]:
    """Insert the journal row or find the one already holding the key. Returns (journal, created)."""
    row = _journal_row(kind, idempotency_key, payload, account_id=account_id, now=now, scenario=scenario, memo=memo,
                       reverses_id=reverses_id)
    journal = db.session.scalars(
        insert_ignoring_conflicts(Journal, ["idempotency_key"]).values(row).returning(Journal)).one_or_none()
    if journal is not None:
        return journal, True
    existing = db.session.scalars(sa.select(Journal).where(Journal.idempotency_key == idempotency_key)).one()
    if existing.request_hash != row["request_hash"]:
        raise IdempotencyConflict(idempotency_key=idempotency_key)
    return existing, False


@dataclass(frozen=True)
class Claimed:
    """A claimed idempotency key: the journal holding it, and whether this call created that journal."""

    journal_id: int
    created: bool


def claim_journals(kind: JournalKind, claims: list[dict[str, Any]], *, now: datetime) -> list[Claimed]:
    """``claim_journal`` for many keys in one insert (and one select for keys already taken), in order.

    Each claim has ``idempotency_key``, ``payload``, ``account_id`` and optionally ``scenario`` and ``memo``.
    """
    rows = [_journal_row(kind, claim["idempotency_key"], claim["payload"], account_id=claim["account_id"], now=now,
                         scenario=claim.get("scenario"), memo=claim.get("memo", "")) for claim in claims]
    if not rows:
        return []
    inserted = {journal.idempotency_key: journal.id for journal in db.session.execute(
        insert_ignoring_conflicts(Journal, ["idempotency_key"], returning=["idempotency_key", "id"]), rows)}
    taken = {row["idempotency_key"] for row in rows} - set(inserted)
    earlier = {journal.idempotency_key: journal for journal in db.session.execute(
        sa.select(Journal.idempotency_key, Journal.id, Journal.request_hash)
        .where(Journal.idempotency_key.in_(sorted(taken))))} if taken else {}
    claimed, seen = [], set()
    for row in rows:
        key = row["idempotency_key"]
        if key in inserted and key not in seen:
            claimed.append(Claimed(inserted[key], created=True))
            seen.add(key)
            continue
        # The key was held before this call, or earlier in this very batch (then ``earlier`` has not seen it).
        existing = earlier.get(key)
        request_hash = existing.request_hash if existing else _first_hash(rows, key)
        if request_hash != row["request_hash"]:
            raise IdempotencyConflict(idempotency_key=key)
        claimed.append(Claimed(existing.id if existing else inserted[key], created=False))
    return claimed


def _first_hash(rows: list[dict[str, Any]], key: str) -> str:
    return next(row["request_hash"] for row in rows if row["idempotency_key"] == key)


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


def lock_accounts(account_ids: Iterable[int]) -> dict[int, bool]:
    """Lock several accounts' rows at once, in ascending id order; returns each found account's ``frozen``.

    One statement for a whole batch; the same ``FOR NO KEY UPDATE`` as ``lock_account``, taken in the
    order every other path takes them, so batches and single awards never deadlock each other.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(CarbonAccount.id, CarbonAccount.frozen).where(CarbonAccount.id.in_(ids))
        .order_by(CarbonAccount.id).with_for_update(key_share=True)).all())


@dataclass(frozen=True)
class JournalPostings:
    """A journal's postings, as ``post_many`` writes them."""

    journal_id: int
    kind: JournalKind
    postings: list[Posting]


def post(journal: Journal, postings: Iterable[Posting]) -> None:
    """Write the entries and move the cached balances, each through its guard."""
    post_many([JournalPostings(journal.id, journal.kind, list(postings))])


def post_many(journals: list[JournalPostings]) -> None:
    """``post`` for many journals at once: one insert of all their entries, one guarded balance
    change per account (the sum of its journals' deltas), in ascending account order."""
    entries = []
    deltas: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for journal in journals:
        postings = [p for p in journal.postings if p.amount]
        sums: dict[str, int] = defaultdict(int)
        for p in postings:
            sums[p.book.unit] += p.amount
        if any(sums.values()):
            raise AssertionError(f"unbalanced journal {journal.kind}: {dict(sums)}")  # a bug, never input
        for p in postings:
            entries.append({"journal_id": journal.journal_id, "account_id": p.account_id, "book": p.book,
                            "amount": p.amount})
            if p.book.is_holder:
                deltas[p.account_id][BALANCE_COLUMN[p.book]] += p.amount
    if not entries:
        return
    insert_rows(LedgerEntry, entries)
    _move_balances(deltas)


@functools.cache
def _balance_change(columns: tuple[str, ...]) -> sa.Update:
    """The guarded balance change of these columns, built once per process: parameters ``account`` and
    ``d_<column>`` for each column."""
    table = CarbonAccount.__table__
    guard = sa.and_(*(table.c[c] + sa.bindparam(f"d_{c}") >= 0 for c in columns))
    return (sa.update(table).where(table.c.id == sa.bindparam("account"), guard)
            .values({c: table.c[c] + sa.bindparam(f"d_{c}") for c in columns}))


def _move_balances(deltas: dict[int, dict[str, int]]) -> None:
    """One guarded statement per set of balance columns, executed for every account (ascending, so
    two writers never lock in opposite orders): ``SET b = b + :d WHERE id = :id AND b + :d >= 0``."""
    shapes: dict[tuple[str, ...], list[dict[str, int]]] = defaultdict(list)
    for account_id in sorted(deltas):
        changes = {column: delta for column, delta in deltas[account_id].items() if delta}
        if changes:
            shapes[tuple(sorted(changes))].append({"account": account_id, **{f"d_{c}": d for c, d in changes.items()}})
    for columns, rows in shapes.items():
        result = db.session.execute(_balance_change(columns), rows)
        if result.rowcount != len(rows):  # a guard failed: which account is reported only when it is one
            raise InsufficientPoints(account_id=rows[0]["account"] if len(rows) == 1 else None)
        for row in rows:
            account = db.session.identity_map.get(db.session.identity_key(CarbonAccount, row["account"]))
            if account is not None:
                db.session.expire(account, list(columns))
