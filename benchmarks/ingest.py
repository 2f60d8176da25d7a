"""Ingest figures as ratios to a reference app: partner batches, self-reports and GET /me over HTTP, under gunicorn.

    .venv/bin/python benchmarks/ingest.py                                   # SQLite, 3 rounds, medians
    .venv/bin/python benchmarks/ingest.py --postgresql URL                  # and PostgreSQL (schema RESET)
    .venv/bin/python benchmarks/ingest.py --baseline /tmp/base --quick      # "before" and "after" in one run

Absolute request rates differ two- to three-fold between machines, so every platform figure is printed as a ratio
to ``../shared/bench/reference_app.py`` (``--reference``), the least a Flask + Flask-SQLAlchemy + marshmallow app
does per request, measured in the same run on the same machine:

    self-report  POST /api/v1/actions (walking, no photo), per second   / the reference's POST /events per second
    GET /me      GET /api/v1/me per second                              / the reference's GET /balance/<id> per second
    partner      credited partner events per second (batches of 100)   / the reference's POST /events per second

The reference runs under the same gunicorn settings (``--workers`` sync workers), on its own database (a file
beside the platform's for SQLite; for PostgreSQL the database ``<name>_reference`` on the same server, created if
missing, or ``--reference-postgresql``; its table is reset), and is driven by the same client (``Client``), the same
connections and the same warm-up. The loads are interleaved: each platform load is measured straight after the
reference load it is divided by, so both see the same machine. Each round prepares fresh databases; the medians
are the medians of each round's ratio.

``--baseline PATH`` measures a second checkout of the platform (a git worktree of an older commit) in the same
rounds, started the same way: ``ingest_setup.py`` builds its database with its own code, and gunicorn serves its
own code (``PYTHONPATH`` is the checkout; its ``.venv`` is used when it has one, otherwise this one's). Both sets
of ratios are printed, so that "before" and "after" come from one run.

Each platform load also reports the CPU each item cost the app (gunicorn's processes), PostgreSQL and the load
generator, read from Linux's /proc (on 2 cores, 2 CPU-seconds a second is all there is), and each round the
database's raw batched insert rate. The load generator runs on the same machine as the servers.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import CONNECTIONS, free_port, load, start, stop  # noqa: E402
from benchmarks.ingest_setup import KEY_ID, SECRET  # noqa: E402
from carbon_platform.services.partner_auth import signature  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "bench" / "reference_app.py"
BATCH = 100
#: Rides and walks are spread over this many Beijing days (inside the rulebook's 7-day claim window): each
#: pass over the residents moves to the next day, so that nearly every ride is paid (the bus cap is 4 rides
#: a day, walking pays once a day). A capped action (credited with no points) skips the ledger, which would
#: flatter the figure.
DAYS = 6
#: Requests per connection before each load is measured (one batch, for the partner load).
WARM_UP = 10
#: The issue's targets: the platform's figure divided by the reference's.
TARGETS = {"self-report": 0.35, "GET /me": 0.7, "partner": 2.0}


PLATFORM_PORT, REFERENCE_PORT = free_port(), free_port()


@dataclass(frozen=True)
class Checkout:
    """A checkout of the platform to measure, and where its interpreter and gunicorn are."""

    label: str
    root: Path

    @property
    def bin(self) -> Path:
        own = self.root / ".venv" / "bin"
        return own if (own / "gunicorn").exists() else Path(sys.executable).parent

    def env(self, url: str) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.root), "CARBON_DATABASE_URL": url,
                "CARBON_SECRET_KEY": "benchmark-secret-key-0123456789-abcdef", "CARBON_SMS_SENDER": "memory",
                "CARBON_RATELIMIT_ENABLED": "false"}

    def prepare(self, url: str) -> dict:
        """A fresh database built by this checkout's own code: its residents' cards and tokens."""
        done = subprocess.run([str(self.bin / "python"), str(ROOT / "benchmarks" / "ingest_setup.py"), url],
                              cwd=self.root, env=self.env(url), capture_output=True, text=True)
        if done.returncode:  # the migrations' log is noise unless something failed
            sys.exit(f"preparing {self.label} failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def serve(self, url: str, workers: int) -> subprocess.Popen:
        return start([str(self.bin / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{PLATFORM_PORT}",
                      "--log-level", "warning", "carbon_platform.app:create_app()"],
                     cwd=self.root, env=self.env(url), port=PLATFORM_PORT, ready="/healthz")


class Reference:
    """``reference_app.py`` on its own database, under the same gunicorn settings as the platform."""

    def __init__(self, path: Path, url: str):
        self.path, self.env = path, {**os.environ, "REFERENCE_DB_URL": url}

    def seed(self) -> None:
        subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", self.path.name, "seed"],
                       cwd=self.path.parent, env=self.env, check=True, stdout=subprocess.DEVNULL)

    def serve(self, workers: int) -> subprocess.Popen:
        return start([str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b",
                      f"127.0.0.1:{REFERENCE_PORT}", "--log-level", "warning", f"{self.path.stem}:app"],
                     cwd=self.path.parent, env=self.env, port=REFERENCE_PORT, ready="/balance/1")


def partner_load(cards: list[str], batches_per_connection: int, size: int, first: int = 0):
    """Signed batches of bus rides; ``first`` numbers the first batch (warm-up and measured loads never share
    an event)."""
    base = datetime.now(UTC) - timedelta(hours=3)

    def work(index, client, latencies):
        credited = paid = 0
        for b in range(batches_per_connection):
            events = []
            for e in range(size):
                n = (first + index * batches_per_connection + b) * size + e
                events.append({"event_id": f"bench-{n}", "scenario": "bus_ride",
                               "binding": {"kind": "transit_card", "id": cards[n % len(cards)]},
                               "occurred_at": (base - timedelta(days=n // len(cards) % DAYS, seconds=n)).isoformat(),
                               "inputs": {"distance_km": 3 + n % 7}})
            raw = json.dumps({"events": events}).encode()
            stamp = str(int(time.time()))
            path = "/api/v1/partner/events"
            headers = {"Content-Type": "application/json", "X-Carbon-Key-Id": KEY_ID, "X-Carbon-Timestamp": stamp,
                       "X-Carbon-Signature": signature(SECRET, KEY_ID, stamp, "POST", path, raw)}
            started = time.perf_counter()
            status, content = client.request("POST", path, headers, raw)
            latencies.append((time.perf_counter() - started) * 1000)
            body = json.loads(content)
            assert status == 200, body
            credited += sum(r["status"] == "credited" for r in body["results"])
            paid += sum(r["status"] == "credited" and r["points"] > 0 for r in body["results"])
        return credited, paid

    return work


def report_load(tokens: list[str], reports_per_connection: int, first: int = 0):
    """Walking self-reports; ``first`` numbers the first one. Walking pays once a day, so report n is resident
    n's (mod the residents) on day n // residents (mod DAYS): every report is paid."""
    now = datetime.now(UTC) - timedelta(hours=1)

    def work(index, client, latencies):
        for r in range(reports_per_connection):
            n = first + index * reports_per_connection + r
            when = (now - timedelta(days=n // len(tokens) % DAYS)).isoformat()
            raw = json.dumps({"scenario": "walking", "occurred_at": when, "inputs": {"steps": 8000}}).encode()
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[n % len(tokens)]}",
                       "Idempotency-Key": secrets.token_hex(8)}
            started = time.perf_counter()
            status, content = client.request("POST", "/api/v1/actions", headers, raw)
            latencies.append((time.perf_counter() - started) * 1000)
            assert status == 201, content
        return (reports_per_connection,)

    return work


def read_load(tokens: list[str], reads_per_connection: int, first: int = 0):
    """GET /api/v1/me: the resident's balances, expiring points, household and totals."""

    def work(index, client, latencies):
        for r in range(reads_per_connection):
            token = tokens[(first + index * reads_per_connection + r) % len(tokens)]
            started = time.perf_counter()
            status, content = client.request("GET", "/api/v1/me", {"Authorization": f"Bearer {token}"})
            latencies.append((time.perf_counter() - started) * 1000)
            assert status == 200, content
        return (reads_per_connection,)

    return work


def reference_event_load(requests_per_connection: int, first: int = 0):
    """The reference's POST /events: a bus ride for one of its 1,000 accounts."""
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    def work(index, client, latencies):
        for r in range(requests_per_connection):
            n = first + index * requests_per_connection + r
            raw = json.dumps({"account_id": n % 1000 + 1, "scenario": "bus_ride", "distance_km": 3 + n % 7,
                              "occurred_at": when}).encode()
            started = time.perf_counter()
            status, content = client.request("POST", "/events", {"Content-Type": "application/json"}, raw)
            latencies.append((time.perf_counter() - started) * 1000)
            assert status == 201, content
        return (requests_per_connection,)

    return work


def reference_balance_load(requests_per_connection: int, first: int = 0):
    """The reference's GET /balance/<id>: the sum of one account's ~100 rows."""

    def work(index, client, latencies):
        for r in range(requests_per_connection):
            account = (first + index * requests_per_connection + r) % 1000 + 1
            started = time.perf_counter()
            status, content = client.request("GET", f"/balance/{account}", {})
            latencies.append((time.perf_counter() - started) * 1000)
            assert status == 200, content
        return (requests_per_connection,)

    return work


def measure_checkout(checkout: Checkout, url: str, reference: subprocess.Popen, args) -> dict[str, float]:
    """One checkout on a fresh database, each of its loads straight after the reference load it is divided by:
    its figures and ratios by name."""
    data = checkout.prepare(url)
    server = checkout.serve(url, args.workers)
    figures: dict[str, float] = {}
    warm, n = CONNECTIONS * WARM_UP, args.reports
    try:
        load(reference, REFERENCE_PORT, reference_event_load(WARM_UP), reference_event_load(n, first=warm),
             figures, "reference events for partner")
        credited, paid = load(server, PLATFORM_PORT, partner_load(data["cards"], 1, args.batch),
                              partner_load(data["cards"], args.batches, args.batch, first=CONNECTIONS), figures,
                              "events")
        assert credited, "no partner event was credited"
        figures["paid share"] = paid / credited
        load(reference, REFERENCE_PORT, reference_event_load(WARM_UP), reference_event_load(n, first=warm),
             figures, "reference events for reports")
        load(server, PLATFORM_PORT, report_load(data["tokens"], WARM_UP),
             report_load(data["tokens"], n, first=warm), figures, "reports")
        load(reference, REFERENCE_PORT, reference_balance_load(WARM_UP), reference_balance_load(n, first=warm),
             figures, "reference balance")
        load(server, PLATFORM_PORT, read_load(data["tokens"], WARM_UP), read_load(data["tokens"], n, first=warm),
             figures, "reads")
    finally:
        stop(server)
    figures["self-report"] = figures["reports"] / figures["reference events for reports"]
    figures["GET /me"] = figures["reads"] / figures["reference balance"]
    figures["partner"] = figures["events"] / figures["reference events for partner"]
    return figures


def measure_round(url: str | None, checkouts: list[Checkout], args) -> dict[str, dict[str, float]]:
    """One round: the reference seeded afresh and kept up while each checkout is measured in turn, each on a fresh
    database (``url``'s schema reset, or a new SQLite file when ``url`` is None)."""
    with tempfile.TemporaryDirectory() as tmp:
        reference_url = (f"sqlite:///{tmp}/reference.db" if url is None
                         else args.reference_postgresql or reference_database(url))
        reference = Reference(args.reference, reference_url)
        reference.seed()
        server = reference.serve(args.workers)
        try:
            result = {checkout.label: measure_checkout(checkout, url or f"sqlite:///{tmp}/{n}.db", server, args)
                      for n, checkout in enumerate(checkouts)}
        finally:
            stop(server)
        result["database"] = {"ceiling": raw_insert_rate(url or f"sqlite:///{tmp}/ceiling.db")}
    return result


def raw_insert_rate(url: str, rows: int = 50_000) -> float:
    """The database's own ceiling: one transaction of batched inserts into a scratch table."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS bench_rows")
        connection.exec_driver_sql("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, account INTEGER, grams INTEGER, "
                                   "note VARCHAR(40))")
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO bench_rows (id, account, grams, note) VALUES (:i, :a, :g, :n)"),
                           [{"i": i, "a": i % 997, "g": i % 5000, "n": "bus_ride"} for i in range(rows)])
    rate = rows / (time.perf_counter() - started)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE bench_rows")
    engine.dispose()
    return rate


def reference_database(url: str) -> str:
    """``<name>_reference`` on the same PostgreSQL server as ``url``, created if missing."""
    target = sa.make_url(url.replace("postgresql://", "postgresql+psycopg://"))
    name = f"{target.database}_reference"
    engine = sa.create_engine(target, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return target.set(database=name).render_as_string(hide_password=False).replace("+psycopg", "")


def interpreter_ms() -> float:
    """How fast this machine runs Python: ``sum(range(10**6))`` in milliseconds, the median of 5. Printed with each
    run, it tells two machines apart."""
    return statistics.median(timeit.repeat("sum(range(10**6))", repeat=5, number=1)) * 1000


def print_checkout(name: str, figures: dict[str, float], size: int) -> None:
    def cpu(phase: str) -> str:
        parties = [p for p in ("app", "database", "load generator") if figures[f"{phase} cpu {p}"] >= 0.005]
        return "CPU " + ", ".join(f"{p} {figures[f'{phase} cpu {p}']:.2f} ms" for p in parties)

    def latency(phase: str) -> str:
        return f"p50 {figures[f'{phase} p50']:.1f} ms, p99 {figures[f'{phase} p99']:.1f} ms"

    print(f"{name}  partner events credited: {figures['events']:,.0f}/s ({figures['paid share']:.0%} with points); "
          f"per {size}-event batch {latency('events')}; per event {cpu('events')}")
    print(f"{name}  self-reports: {figures['reports']:,.0f}/s; {latency('reports')}; per report {cpu('reports')}")
    print(f"{name}  GET /api/v1/me: {figures['reads']:,.0f}/s; {latency('reads')}; per read {cpu('reads')}")
    print(f"{name}  reference POST /events {figures['reference events for partner']:,.0f}/s and "
          f"{figures['reference events for reports']:,.0f}/s, GET /balance {figures['reference balance']:,.0f}/s")
    print(f"{name}  ratios: {ratios(figures)}")


def ratios(figures: dict[str, float]) -> str:
    def one(figure: str) -> str:
        verdict = "met" if figures[figure] >= TARGETS[figure] else "MISSED"
        return f"{figure} {figures[figure]:.2f}× (target ≥ {TARGETS[figure]:g}, {verdict})"

    return "; ".join(one(figure) for figure in TARGETS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgresql", metavar="URL", help="also measure PostgreSQL; its public schema is reset")
    parser.add_argument("--reference-postgresql", metavar="URL",
                        help="the reference's PostgreSQL database (its table is reset); default <name>_reference")
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="the reference app (default %(default)s)")
    parser.add_argument("--baseline", type=Path, metavar="PATH",
                        help="another checkout of the platform, measured in the same rounds")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers, for every server")
    parser.add_argument("--batches", type=int, default=8, help="partner batches per connection")
    parser.add_argument("--reports", type=int, default=100,
                        help="self-reports, reads and reference requests per connection")
    parser.add_argument("--batch", type=int, default=BATCH, help="events per partner batch (at most 500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per database, each on fresh ones; medians")
    parser.add_argument("--quick", action="store_true", help="a short check: 1 round, 2 batches, 20 requests")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.batches, args.reports = 1, 2, 20
    checkouts = [Checkout("this checkout", ROOT)]
    if args.baseline:
        checkouts.append(Checkout(f"baseline {args.baseline}", args.baseline.resolve()))
    databases = [("sqlite", None)] + ([("postgresql", args.postgresql)] if args.postgresql else [])
    print(f"machine: sum(range(10**6)) takes {interpreter_ms():.1f} ms (median of 5)")
    medians = []
    for name, url in databases:
        rounds = []
        for number in range(1, args.rounds + 1):
            rounds.append(measure_round(url, checkouts, args))
            for checkout in checkouts:
                print_checkout(f"{name} #{number} {checkout.label}", rounds[-1][checkout.label], args.batch)
            print(f"{name} #{number} raw batched insert ceiling: {rounds[-1]['database']['ceiling']:,.0f} rows/s")
        for checkout in checkouts:
            figures = [r[checkout.label] for r in rounds]
            medians.append((f"{name} {checkout.label}", {key: statistics.median(f[key] for f in figures)
                                                         for key in figures[0]}))
    print(f"\nmedians of {args.rounds} round(s); each ratio is the platform's rate over the reference's, same round:")
    for label, figures in medians:
        print(f"{label}: {ratios(figures)}")


if __name__ == "__main__":
    main()
