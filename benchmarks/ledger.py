"""Ledger figures: earn-and-spend journals per second, and the balance read as history grows.

    .venv/bin/python benchmarks/ledger.py                      # SQLite only
    .venv/bin/python benchmarks/ledger.py --postgresql URL     # and PostgreSQL (its schema is RESET)

Prints medians over several rounds measured in this one run; the machine is shared, so compare
figures from the same run, not across runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carbon_platform import create_app  # noqa: E402
from carbon_platform.db import commit  # noqa: E402
from carbon_platform.extensions import db  # noqa: E402
from carbon_platform.models import Audience, Book, CarbonAccount, Journal, JournalKind, LedgerEntry, PointLot  # noqa: E402
from carbon_platform.services import accounts, auth, ledger  # noqa: E402

CONFIG = {"SECRET_KEY": "benchmark-secret-key-0123456789-abcdef", "SMS_SENDER": "memory",
          "RATELIMIT_ENABLED": False}
ROUNDS = 5


def make_app(url: str):
    app = create_app({**CONFIG, "DATABASE_URL": url})
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
        upgrade()
    return app


def earn_and_spend_rate(app, operations: int = 400) -> float:
    """Journals per second, alternating an earning and a spend, each its own committed transaction."""
    with app.app_context():
        account_id = accounts.register_resident(f"1370{int(time.time() * 1000) % 10**7:07d}").account_id
        commit()
        now = datetime.now(UTC)
        start = time.perf_counter()
        for i in range(operations // 2):
            ledger.earn(account_id, points=10, grams=1000, scenario="bus_ride", idempotency_key=f"b:e:{account_id}:{i}",
                        now=now, expires_at=now + timedelta(days=365))
            commit()
            ledger.spend(account_id, points=5, idempotency_key=f"b:s:{account_id}:{i}", now=now)
            commit()
        elapsed = time.perf_counter() - start
    return operations / elapsed


def account_with_history(app, entries: int) -> tuple[int, str]:
    """An account whose holder books hold ``entries`` entries, bulk-inserted as balanced journals."""
    with app.app_context():
        resident = accounts.register_resident(f"1360{entries % 10**7:07d}")
        account_id = resident.account_id
        token = auth.issue_tokens(Audience.RESIDENT, resident.id).access_token
        commit()
        earnings = entries // 2  # each earning puts two entries on the holder's books
        now = datetime.now(UTC)
        first_id = (db.session.execute(sa.select(sa.func.max(Journal.id))).scalar() or 0) + 1
        ids = range(first_id, first_id + earnings)
        for chunk in range(0, earnings, 5000):
            part = ids[chunk:chunk + 5000]
            db.session.execute(sa.insert(Journal), [
                {"id": j, "kind": JournalKind.EARN, "idempotency_key": f"bulk:{j}", "request_hash": "-",
                 "account_id": account_id, "scenario": "bus_ride", "memo": "", "created_at": now} for j in part])
            db.session.execute(sa.insert(LedgerEntry), [
                row for j in part for row in (
                    {"journal_id": j, "account_id": account_id, "book": Book.AVAILABLE, "amount": 1},
                    {"journal_id": j, "account_id": None, "book": Book.ISSUED, "amount": -1},
                    {"journal_id": j, "account_id": account_id, "book": Book.REDUCTION, "amount": 100},
                    {"journal_id": j, "account_id": None, "book": Book.CERTIFIED, "amount": -100})])
            db.session.execute(sa.insert(PointLot), [
                {"account_id": account_id, "journal_id": j, "points": 1, "remaining": 1, "earned_at": now,
                 "released_at": now, "expires_at": now + timedelta(days=365)} for j in part])
        db.session.execute(sa.update(CarbonAccount).where(CarbonAccount.id == account_id)
                           .values(points_available=earnings, reduction_grams=100 * earnings))
        commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")
    return account_id, token


def balance_read_ms(app, token: str, reads: int = 200) -> float:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/api/v1/me", headers=headers)  # warm
    timings = []
    for _ in range(reads):
        start = time.perf_counter()
        response = client.get("/api/v1/me", headers=headers)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return statistics.median(timings)


def run(name: str, url: str) -> None:
    app = make_app(url)
    rates = [earn_and_spend_rate(app) for _ in range(ROUNDS)]
    print(f"{name:<10} earn+spend journals/s   median {statistics.median(rates):8.0f}   "
          f"(rounds: {', '.join(f'{r:.0f}' for r in rates)})")
    reads = {}
    for entries in (10, 1_000, 100_000):
        _account, token = account_with_history(app, entries)
        reads[entries] = balance_read_ms(app, token)
        print(f"{name:<10} GET /api/v1/me with {entries:>7,} entries   median {reads[entries]:6.2f} ms")
    print(f"{name:<10} read time 100,000 vs 10 entries: {reads[100_000] / reads[10]:.2f}x (flat is ~1x)")
    with app.app_context():
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgresql", metavar="URL", help="also measure PostgreSQL; its public schema is reset")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", f"sqlite:///{tmp}/bench.db")
    if args.postgresql:
        run("postgresql", args.postgresql)


if __name__ == "__main__":
    main()
