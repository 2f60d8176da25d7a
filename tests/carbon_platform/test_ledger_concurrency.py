"""Real concurrency against the real database: threads, one connection each, a start barrier, commits.

Each race is repeated 20 times and must hold every time. A deliberately broken spend (read the
balance, check it in Python, write it back; on SQLite also in a plain deferred transaction) runs
through the same check to prove the check can see a double spend.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from carbon_platform.db import commit, configure_engine
from carbon_platform.extensions import db
from carbon_platform.models import CarbonAccount, Journal
from carbon_platform.services import ledger
from tests import factories as f
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.concurrency

REPETITIONS = 20
BALANCE, COST, SPENDERS = 1_000, 300, 20
EXPECTED_OK, EXPECTED_BALANCE = BALANCE // COST, BALANCE % COST  # 3 succeed, 100 left


def funded_account(app) -> int:
    with app.app_context():
        account_id = f.resident().account_id
        f.fund(account_id, BALANCE)
        commit()
        return account_id


def balance_of(app, account_id: int) -> int:
    with app.app_context():
        return db.session.get(CarbonAccount, account_id).points_available


def spends_held(ok: int, errors: int, balance: int) -> bool:
    """The property every repetition must have: exactly 3 spends, no errors, 100 points left."""
    return ok == EXPECTED_OK and errors == 0 and balance == EXPECTED_BALANCE


def test_concurrent_spends_from_one_account_never_overspend(app):
    for repetition in range(REPETITIONS):
        account_id = funded_account(app)
        outcomes = run_concurrently(
            app, lambda i, a=account_id: ledger.spend(a, points=COST, idempotency_key=f"spend:{a}:{i}"), SPENDERS
        )
        balance = balance_of(app, account_id)
        assert not outcomes.errors, f"repetition {repetition}: {outcomes.errors[:3]}"
        assert outcomes.refused_codes == {"insufficient_points": SPENDERS - EXPECTED_OK}
        assert spends_held(len(outcomes.ok), len(outcomes.errors), balance), f"repetition {repetition}"


def naive_spend(connection, account_id: int) -> bool:
    """The bug other platforms shipped: read, check in code, write the computed value."""
    balance = connection.execute(
        sa.text("SELECT points_available FROM carbon_accounts WHERE id = :id"), {"id": account_id}
    ).scalar_one()
    if balance < COST:
        return False
    connection.execute(
        sa.text("UPDATE carbon_accounts SET points_available = :b WHERE id = :id"),
        {"b": balance - COST, "id": account_id},
    )
    return True


def race_naive_spends(engine, account_id: int) -> tuple[int, int]:
    barrier = threading.Barrier(SPENDERS)
    ok, errors, lock = [0], [0], threading.Lock()

    def worker():
        with engine.connect() as connection:
            barrier.wait()
            try:
                with connection.begin():
                    spent = naive_spend(connection, account_id)
            except sa.exc.DBAPIError:  # "database is locked" and friends
                with lock:
                    errors[0] += 1
                return
            with lock:
                ok[0] += spent

    threads = [threading.Thread(target=worker) for _ in range(SPENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return ok[0], errors[0]


def test_the_race_check_catches_an_unguarded_spend(app):
    """Without the guarded statement (and, on SQLite, in deferred transactions: the connections never ask
    for ``BEGIN IMMEDIATE``) it must fail."""
    with app.app_context():
        url = db.engine.url
    engine = sa.create_engine(url, pool_size=SPENDERS, max_overflow=0)
    configure_engine(engine)
    held = []
    try:
        for _ in range(REPETITIONS):
            account_id = funded_account(app)
            ok, errors = race_naive_spends(engine, account_id)
            held.append(spends_held(ok, errors, balance_of(app, account_id)))
    finally:
        engine.dispose()
    assert not all(held), "the naive spend never misbehaved: this race check could not see the bug"
    # The naive writes bypassed the ledger, so its cached balances are now wrong by design: put them back.
    with app.app_context():
        accounts = db.session.execute(sa.select(CarbonAccount)).scalars().all()
        for account in accounts:
            account.points_available = BALANCE
        commit()


def test_same_idempotency_key_fifty_times_at_once_is_one_journal(app):
    account_id = funded_account(app)
    now = datetime.now(UTC)
    key = f"earn:{account_id}:bus-trip-42"

    def earn(_i):
        return ledger.earn(account_id, points=7, grams=700, scenario="bus_ride", idempotency_key=key, now=now,
                           expires_at=now + timedelta(days=30)).id

    outcomes = run_concurrently(app, earn, 50)
    assert not outcomes.errors and not outcomes.refused
    assert len(outcomes.ok) == 50 and len(set(outcomes.ok)) == 1  # fifty identical answers
    with app.app_context():
        assert db.session.execute(
            sa.select(sa.func.count()).select_from(Journal).where(Journal.idempotency_key == key)
        ).scalar_one() == 1
        assert db.session.get(CarbonAccount, account_id).points_available == BALANCE + 7


def test_same_key_with_a_changed_amount_under_load_writes_only_the_first(app):
    account_id = funded_account(app)
    now = datetime.now(UTC)

    def earn(i):
        return ledger.earn(account_id, points=5 + i % 2, grams=0, idempotency_key="same-key", now=now,
                           expires_at=now + timedelta(days=30)).id

    outcomes = run_concurrently(app, earn, 20)
    assert not outcomes.errors
    assert set(outcomes.refused_codes) <= {"idempotency_key_reused"}
    assert len(set(outcomes.ok)) == 1 and len(outcomes.ok) + len(outcomes.refused) == 20
    with app.app_context():
        assert db.session.get(CarbonAccount, account_id).points_available in (BALANCE + 5, BALANCE + 6)
