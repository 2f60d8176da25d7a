"""The ledger service on both databases: every movement, every refusal, nothing lost or doubled."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from carbon_platform.errors import (
    AccountFrozen,
    Conflict,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    InvalidInput,
)
from carbon_platform.extensions import db
from carbon_platform.models import Book, Journal, JournalKind, LedgerEntry, LedgerShortfall, LotAllocation, PointLot
from carbon_platform.services import ledger
from carbon_platform.services.invariants import verify
from tests import factories as f

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def balances(account_id: int) -> tuple[int, int, int]:
    from carbon_platform.models import CarbonAccount

    account = db.session.get(CarbonAccount, account_id, populate_existing=True)
    return account.points_available, account.points_pending, account.reduction_grams


def row_counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
        for model in (Journal, LedgerEntry, PointLot, LotAllocation, LedgerShortfall)
    }


@pytest.fixture
def account(ctx):
    return f.resident().account_id


def earn(account_id, points, grams=0, *, days=365, hold_days=0, now=NOW, key=None):
    return ledger.earn(
        account_id, points=points, grams=grams, scenario="bus_ride", idempotency_key=key or f.key(), now=now,
        release_at=now + timedelta(days=hold_days) if hold_days else None, expires_at=now + timedelta(days=days),
    )


def test_earn_credits_points_and_grams_with_balanced_entries(account):
    journal = earn(account, 120, 3400)
    assert balances(account) == (120, 0, 3400)
    entries = {(e.book, e.account_id, e.amount) for e in journal.entries}
    assert entries == {
        (Book.AVAILABLE, account, 120), (Book.ISSUED, None, -120),
        (Book.REDUCTION, account, 3400), (Book.CERTIFIED, None, -3400),
    }
    assert journal.scenario == "bus_ride"


def test_incentive_only_earning_gives_points_without_grams(account):
    earn(account, 50, 0)
    assert balances(account) == (50, 0, 0)


def test_spend_takes_the_soonest_expiring_lots_first(account):
    late = earn(account, 100, days=300)
    soon = earn(account, 100, days=30)
    middle = earn(account, 100, days=100)
    ledger.spend(account, points=150, idempotency_key=f.key(), now=NOW)
    remaining = {lot.journal_id: lot.remaining for lot in db.session.execute(sa.select(PointLot)).scalars()}
    assert remaining == {soon.id: 0, middle.id: 50, late.id: 100}
    assert balances(account) == (150, 0, 0)


def test_spending_more_than_available_is_refused_and_writes_nothing(account):
    earn(account, 100)
    earn(account, 500, hold_days=7)  # pending points are not spendable
    db.session.commit()
    before = row_counts()
    with pytest.raises(InsufficientPoints):
        ledger.spend(account, points=101, idempotency_key=f.key(), now=NOW)
    db.session.rollback()
    assert row_counts() == before
    assert balances(account) == (100, 500, 0)


def test_held_points_release_at_their_release_time(account):
    earn(account, 80, hold_days=2)
    assert balances(account) == (0, 80, 0)
    list(ledger.settle_due(NOW + timedelta(days=2) - timedelta(seconds=1)))
    assert balances(account) == (0, 80, 0)
    list(ledger.settle_due(NOW + timedelta(days=2)))
    assert balances(account) == (80, 0, 0)
    releases = db.session.execute(sa.select(Journal).where(Journal.kind == JournalKind.RELEASE)).scalars().all()
    assert len(releases) == 1


def test_points_expire_exactly_at_their_expiry(account):
    earn(account, 70, days=10)
    expiry = NOW + timedelta(days=10)
    list(ledger.settle_due(expiry - timedelta(seconds=1)))
    assert balances(account) == (70, 0, 0)
    list(ledger.settle_due(expiry))
    assert balances(account) == (0, 0, 0)
    expired = db.session.execute(
        sa.select(sa.func.sum(LedgerEntry.amount)).where(LedgerEntry.book == Book.EXPIRED)
    ).scalar_one()
    assert expired == 70


def test_pending_lots_expire_too(account):
    earn(account, 40, hold_days=20, days=30)
    list(ledger.settle_due(NOW + timedelta(days=31)))
    assert balances(account) == (0, 0, 0)
    kinds = db.session.execute(sa.select(Journal.kind).order_by(Journal.id)).scalars().all()
    assert kinds == [JournalKind.EARN, JournalKind.RELEASE, JournalKind.EXPIRE]


def test_settling_twice_moves_nothing_twice(account):
    earn(account, 10, hold_days=1, days=5)
    for _ in range(3):
        list(ledger.settle_due(NOW + timedelta(days=6)))
    counts = db.session.execute(sa.select(Journal.kind, sa.func.count()).group_by(Journal.kind)).all()
    assert dict(counts) == {JournalKind.EARN: 1, JournalKind.RELEASE: 1, JournalKind.EXPIRE: 1}


def test_a_spend_never_uses_points_past_their_expiry(account):
    earn(account, 100, days=10)
    later = NOW + timedelta(days=10)
    with pytest.raises(InsufficientPoints):
        ledger.spend(account, points=1, idempotency_key=f.key(), now=later)


def test_reversal_takes_back_the_lot_and_grams(account):
    journal = earn(account, 60, 900)
    ledger.reverse(journal.id, idempotency_key=f.key(), reason="partner cancelled the trip", now=NOW)
    assert balances(account) == (0, 0, 0)
    assert db.session.execute(sa.select(LedgerShortfall)).first() is None


def test_reversal_after_spending_takes_other_points_then_records_the_shortfall(account):
    reversed_earning = earn(account, 100, 500, days=10)
    earn(account, 30, days=200)
    ledger.spend(account, points=110, idempotency_key=f.key(), now=NOW)  # 100 from the first lot, 10 from the second
    ledger.reverse(reversed_earning.id, idempotency_key=f.key(), reason="fraud", now=NOW)
    available, pending, grams = balances(account)
    assert (available, pending, grams) == (0, 0, 0)
    shortfall = db.session.execute(sa.select(LedgerShortfall)).scalar_one()
    assert (shortfall.points, shortfall.grams) == (80, 0)  # wanted 100, found 20
    from carbon_platform.models import CarbonAccount

    assert db.session.get(CarbonAccount, account).flagged is True


def test_an_earning_is_reversed_once(account):
    journal = earn(account, 10)
    ledger.reverse(journal.id, idempotency_key="rev-1", reason="x", now=NOW)
    replay = ledger.reverse(journal.id, idempotency_key="rev-1", reason="x", now=NOW)
    assert replay.reverses_id == journal.id
    with pytest.raises(Conflict):
        ledger.reverse(journal.id, idempotency_key="rev-2", reason="x", now=NOW)


def test_same_key_same_request_replays_the_journal(account):
    first = earn(account, 25, key="k-1")
    again = earn(account, 25, key="k-1")
    assert again.id == first.id
    assert balances(account) == (25, 0, 0)


def test_same_key_different_request_is_refused_and_writes_nothing(account):
    earn(account, 25, key="k-1")
    db.session.commit()
    before = row_counts()
    with pytest.raises(IdempotencyConflict):
        earn(account, 26, key="k-1")
    db.session.rollback()
    assert row_counts() == before
    assert balances(account) == (25, 0, 0)


BAD_AMOUNTS = [0, -1, 1.5, "1e3", "10", math.nan, math.inf, 2**63, 10**12 + 1, True, Decimal("5"), None]


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_invalid_amounts_are_rejected_and_nothing_is_written(account, amount):
    earn(account, 100)
    db.session.commit()
    before = row_counts()
    with pytest.raises(InvalidAmount):
        ledger.spend(account, points=amount, idempotency_key=f.key(), now=NOW)
    adjustment = 0 if amount == -1 else amount  # -1 is a valid debit for an adjustment; 0 never is
    with pytest.raises(InvalidAmount):
        ledger.adjust(account, points=adjustment, idempotency_key=f.key(), reason="test", now=NOW)
    if amount != 0:  # zero points is allowed on an earning when grams are credited
        with pytest.raises(InvalidAmount):
            ledger.earn(account, points=amount, grams=1, idempotency_key=f.key(), now=NOW)
    with pytest.raises(InvalidAmount):
        ledger.earn(account, points=1, grams=amount if amount != 0 else -1, idempotency_key=f.key(), now=NOW)
    db.session.rollback()
    assert row_counts() == before


def test_an_earning_must_expire_after_it_is_credited(account):
    with pytest.raises(InvalidInput):
        ledger.earn(account, points=1, grams=0, idempotency_key=f.key(), now=NOW, expires_at=NOW)
    with pytest.raises(InvalidInput):
        ledger.earn(account, points=1, grams=0, idempotency_key=f.key(), now=NOW,
                    release_at=NOW + timedelta(days=3), expires_at=NOW + timedelta(days=2))


def test_frozen_accounts_neither_earn_nor_spend(account):
    earn(account, 10)
    from carbon_platform.models import CarbonAccount

    db.session.get(CarbonAccount, account).frozen = True
    with pytest.raises(AccountFrozen):
        earn(account, 5)
    with pytest.raises(AccountFrozen):
        ledger.spend(account, points=5, idempotency_key=f.key(), now=NOW)


def test_adjustments_both_ways(account):
    ledger.adjust(account, points=40, idempotency_key=f.key(), reason="goodwill", now=NOW)
    ledger.adjust(account, points=-15, idempotency_key=f.key(), reason="correction", now=NOW)
    assert balances(account) == (25, 0, 0)
    with pytest.raises(InvalidInput):
        ledger.adjust(account, points=5, idempotency_key=f.key(), reason="  ", now=NOW)


def test_expiring_soon_counts_available_and_pending_lots_inside_the_window(account):
    earn(account, 10, days=20)
    earn(account, 20, days=29, hold_days=1)
    earn(account, 40, days=31)
    assert ledger.expiring_soon(account, now=NOW, days=30) == 30


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_entries SET amount = amount + 1",
    "DELETE FROM ledger_entries",
    "UPDATE journals SET memo = 'rewritten'",
    "DELETE FROM journals",
    "UPDATE lot_allocations SET points = 1",
    "DELETE FROM audit_events",
])
def test_history_cannot_be_rewritten(account, statement):
    journal = earn(account, 10)
    ledger.spend(account, points=3, idempotency_key=f.key(), now=NOW)
    from carbon_platform.services import audit

    audit.record(audit.SYSTEM, "test.event")
    db.session.commit()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.get(Journal, journal.id).memo == ""
    assert verify() == []


def test_reversing_an_expired_earning_leaves_the_holders_other_points_alone(account):
    expired_earning = earn(account, 50, 200, days=5)
    earn(account, 30, days=100)
    list(ledger.settle_due(NOW + timedelta(days=6)))
    ledger.reverse(expired_earning.id, idempotency_key=f.key(), reason="cancelled", now=NOW + timedelta(days=6))
    assert balances(account) == (30, 0, 0)
    net = dict(db.session.execute(
        sa.select(LedgerEntry.book, sa.func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id.is_(None))
        .group_by(LedgerEntry.book)
    ).all())
    assert net[Book.EXPIRED] == 0 and net[Book.ISSUED] == -30  # as if the 50 had never been issued
    assert db.session.execute(sa.select(LedgerShortfall)).first() is None


def test_a_spend_across_many_small_lots_takes_them_in_expiry_order(account):
    lots = [earn(account, 1, days=100 - i) for i in range(70)]  # the last earned expires first
    ledger.spend(account, points=65, idempotency_key=f.key(), now=NOW)
    left = db.session.execute(sa.select(PointLot.journal_id).where(PointLot.remaining > 0)).scalars().all()
    assert sorted(left) == sorted(j.id for j in lots[:5])  # the five expiring last are kept
    assert balances(account) == (5, 0, 0)
