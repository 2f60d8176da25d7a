"""Ingest figures: signed partner batches and app self-reports over HTTP, to the app under gunicorn.

    .venv/bin/python benchmarks/ingest.py                                   # SQLite, 3 rounds, medians
    .venv/bin/python benchmarks/ingest.py --postgresql URL                  # and PostgreSQL (schema RESET)

For each database: credited events per second with p50/p99 per batch (16 connections, 100-event
batches), self-reports per second with p50/p99 (16 connections), a light authenticated read for
reference (what the same harness gets from GET /api/v1/me), and the database's raw batched insert rate
as the ceiling. Each load also reports the CPU each item cost the app (gunicorn's processes),
PostgreSQL and the load generator, read from Linux's /proc: on 2 cores, 2 CPU-seconds a second is all
there is. The load generator (a minimal HTTP/1.1 client, ``Client``) runs on the same machine as the
server, so the figures are a floor for a real deployment, and comparable only within one run. Each load
is measured after a warm-up of its own (``WARM_UP`` requests per connection).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carbon_platform import create_app, seeding  # noqa: E402
from carbon_platform.db import commit  # noqa: E402
from carbon_platform.extensions import db  # noqa: E402
from carbon_platform.models import Audience, BindingKind, Partner, PartnerKind, PartnerSecret  # noqa: E402
from carbon_platform.services import accounts, auth, consent  # noqa: E402
from carbon_platform.services.partner_auth import signature  # noqa: E402

PORT = 8077
CONNECTIONS, BATCH, RESIDENTS = 16, 100, 1000
#: Rides and walks are spread over this many Beijing days (inside the rulebook's 7-day claim window): each
#: pass over the residents moves to the next day, so that nearly every ride is paid (the bus cap is 4 rides
#: a day, walking pays once a day). A capped action (credited with no points) skips the ledger, which would
#: flatter the figure.
DAYS = 6
#: Requests per connection before each load is measured (one batch, for the partner load).
WARM_UP = 10
SECRET = "ps_benchmark_" + "x" * 24
CONFIG = {"SECRET_KEY": "benchmark-secret-key-0123456789-abcdef", "SMS_SENDER": "memory"}


#: Residents live in the city's districts, as real ones do (awarding reads each holder's district).
DISTRICTS = ("370902", "370911", "370921", "370923", "370982", "370983")


def prepare(url: str) -> dict:
    """A fresh database with a partner and residents bound and consenting; access tokens for reports."""
    app = create_app({**CONFIG, "DATABASE_URL": url})
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        from flask_migrate import upgrade

        upgrade()
        seeding.load_reference()
        partner = Partner(name="bench bus", kind=PartnerKind.TRANSIT, key_id="pk_bench",
                          rate_limit="10000000 per minute")
        db.session.add(partner)
        db.session.add(PartnerSecret(partner=partner, secret=SECRET))
        db.session.flush()
        cards, tokens = [], []
        for n in range(RESIDENTS):
            resident = accounts.register_resident(f"1370{n:07d}", district_code=DISTRICTS[n % len(DISTRICTS)])
            # Proven as a resident proves a card: entered in the app, confirmed by the partner shown a code.
            consent.add_binding(resident.account_id, BindingKind.TRANSIT_CARD, f"CARD{n:08d}")
            _record, code = consent.issue_binding_code(resident.account_id)
            consent.confirm_by_partner(partner, code, BindingKind.TRANSIT_CARD, f"CARD{n:08d}")
            consent.grant(resident.account_id, partner, "bus_ride", frozenset({"partner:transit"}))
            cards.append(f"CARD{n:08d}")
            tokens.append(auth.issue_tokens(Audience.RESIDENT, resident.id).access_token)
        commit()
        db.engine.dispose()
    return {"cards": cards, "tokens": tokens}


def serve(url: str, workers: int) -> subprocess.Popen:
    env = {**os.environ, "CARBON_DATABASE_URL": url, "CARBON_SECRET_KEY": CONFIG["SECRET_KEY"],
           "CARBON_SMS_SENDER": "memory", "CARBON_RATELIMIT_ENABLED": "false"}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{PORT}", "--log-level",
         "warning", "carbon_platform.app:create_app()"], env=env, cwd=ROOT, start_new_session=True)
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)


class Client:
    """A minimal HTTP/1.1 client for the load: prebuilt requests over one socket, reopened when the server
    closes it (gunicorn's sync workers close after each response). ``http.client`` costs about twice the
    CPU per request, and that CPU comes out of the same two cores the server runs on."""

    def __init__(self):
        self.sock: socket.socket | None = None

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        raw = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Content-Length: {len(body)}\r\n\r\n"
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=120)
        self.sock.sendall(raw.encode() + body)
        received = b""
        while b"\r\n\r\n" not in received:
            received += self._recv()
        head, _, content = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        length = int(fields["content-length"])  # Flask answers with a length, never chunked
        while len(content) < length:
            content += self._recv()
        if fields.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return int(lines[0].split()[1]), content

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-response")
        return chunk


def run_clients(work) -> tuple[float, list[float], int]:
    """Run ``work(index, connection, latencies)`` on CONNECTIONS threads: (seconds, latencies, the column sums of
    what ``work`` returned)."""
    latencies, counts, lock = [], [], threading.Lock()
    barrier = threading.Barrier(CONNECTIONS + 1)

    def worker(index):
        connection = Client()
        mine: list[float] = []
        barrier.wait()
        items = work(index, connection, mine)
        with lock:
            latencies.extend(mine)
            counts.append(items)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies, [sum(column) for column in zip(*counts, strict=True)]


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time used so far (Linux ``/proc``): by the app (gunicorn's process group), by PostgreSQL's processes
    (SQLite works inside the app), and by this load generator."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"app": 0.0, "database": 0.0}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                stat = handle.read()
        except OSError:  # the process has gone
            continue
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime and stime; fields[2] is the process group
        if int(fields[2]) == server_pid:
            used["app"] += seconds
        elif name.startswith("postgres"):
            used["database"] += seconds
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {**used, "load generator": own.ru_utime + own.ru_stime}


def measured(server: subprocess.Popen, work, figures: dict[str, float], phase: str) -> tuple[float, list[float], list]:
    """``run_clients(work)``, adding to ``figures`` the CPU milliseconds each item cost each party."""
    before = cpu_seconds(server.pid)
    seconds, latencies, counts = run_clients(work)
    after = cpu_seconds(server.pid)
    for party in after:
        figures[f"{phase} cpu {party}"] = (after[party] - before[party]) * 1000 / counts[0]
    return seconds, latencies, counts


def partner_load(cards: list[str], batches_per_connection: int, size: int, first: int = 0):
    """Signed batches of bus rides; ``first`` numbers the first batch (warm-up and measured loads never share
    an event)."""
    base = datetime.now(UTC) - timedelta(hours=3)

    def work(index, connection, latencies):
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
            headers = {"Content-Type": "application/json", "X-Carbon-Key-Id": "pk_bench", "X-Carbon-Timestamp": stamp,
                       "X-Carbon-Signature": signature(SECRET, "pk_bench", stamp, "POST", path, raw)}
            start = time.perf_counter()
            status, content = connection.request("POST", path, headers, raw)
            latencies.append((time.perf_counter() - start) * 1000)
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

    def work(index, connection, latencies):
        done = 0
        for r in range(reports_per_connection):
            n = first + index * reports_per_connection + r
            token = tokens[n % len(tokens)]
            when = (now - timedelta(days=n // len(tokens) % DAYS)).isoformat()
            raw = json.dumps({"scenario": "walking", "occurred_at": when, "inputs": {"steps": 8000}}).encode()
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                       "Idempotency-Key": secrets.token_hex(8)}
            start = time.perf_counter()
            status, content = connection.request("POST", "/api/v1/actions", headers, raw)
            latencies.append((time.perf_counter() - start) * 1000)
            assert status == 201, content
            done += 1
        return (done,)

    return work


def read_load(tokens: list[str], reads_per_connection: int, first: int = 0):
    """GET /api/v1/me (balances and totals, a few reads): what this harness gets from a light authenticated read."""

    def work(index, connection, latencies):
        for r in range(reads_per_connection):
            token = tokens[(first + index * reads_per_connection + r) % len(tokens)]
            start = time.perf_counter()
            status, content = connection.request("GET", "/api/v1/me", {"Authorization": f"Bearer {token}"})
            latencies.append((time.perf_counter() - start) * 1000)
            assert status == 200, content
        return (reads_per_connection,)

    return work


def raw_insert_rate(url: str, rows: int = 50_000) -> float:
    """The database's own ceiling: one transaction of batched inserts into a scratch table."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS bench_rows")
        connection.exec_driver_sql("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, account INTEGER, grams INTEGER, "
                                   "note VARCHAR(40))")
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO bench_rows (id, account, grams, note) VALUES (:i, :a, :g, :n)"),
                           [{"i": i, "a": i % 997, "g": i % 5000, "n": "bus_ride"} for i in range(rows)])
    rate = rows / (time.perf_counter() - start)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE bench_rows")
    engine.dispose()
    return rate


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(url: str, workers: int, batches: int, reports: int, size: int = BATCH) -> dict[str, float]:
    """One round on a fresh database: each figure by name. Each load is measured after a warm-up of its own
    (not counted): a worker's first requests compile statements and fill caches, and psycopg prepares a
    statement on its fifth use."""
    data = prepare(url)
    server = serve(url, workers)
    figures = {}
    warm = CONNECTIONS * WARM_UP
    try:
        run_clients(partner_load(data["cards"], 1, size))
        seconds, latencies, (credited, paid) = measured(
            server, partner_load(data["cards"], batches, size, first=CONNECTIONS), figures, "event")
        figures.update(events=credited / seconds, paid_share=paid / credited, batch_p50=statistics.median(latencies),
                       batch_p99=percentile(latencies, 0.99))
        run_clients(report_load(data["tokens"], WARM_UP))
        seconds, latencies, (done,) = measured(server, report_load(data["tokens"], reports, first=warm), figures,
                                               "report")
        figures.update(reports=done / seconds, report_p50=statistics.median(latencies),
                       report_p99=percentile(latencies, 0.99))
        run_clients(read_load(data["tokens"], WARM_UP))
        seconds, latencies, (done,) = measured(server, read_load(data["tokens"], reports, first=warm), figures, "read")
        figures.update(reads=done / seconds, read_p50=statistics.median(latencies),
                       read_p99=percentile(latencies, 0.99))
    finally:
        stop(server)
    figures["ceiling"] = raw_insert_rate(url)
    return figures


def interpreter_ms() -> float:
    """How fast this machine runs Python: ``sum(range(10**6))`` in milliseconds, the median of 5. The targets are
    for "this machine", and the same code's figures differ 2–3× between the shared machines; this number, printed
    with each run, tells two machines apart (``docs/performance.md``, "Is this machine fast enough?")."""
    return statistics.median(timeit.repeat("sum(range(10**6))", repeat=5, number=1)) * 1000


def report(name: str, figures: dict[str, float], size: int) -> None:
    def cpu(phase: str) -> str:
        parties = [p for p in ("app", "database", "load generator") if figures[f"{phase} cpu {p}"] >= 0.005]
        return "CPU " + ", ".join(f"{p} {figures[f'{phase} cpu {p}']:.2f} ms" for p in parties)

    print(f"{name:<10} partner events credited: {figures['events']:,.0f}/s ({figures['paid_share']:.0%} with points); "
          f"per {size}-event batch p50 {figures['batch_p50']:.0f} ms, p99 {figures['batch_p99']:.0f} ms; "
          f"per event {cpu('event')}")
    print(f"{name:<10} self-reports: {figures['reports']:,.0f}/s; p50 {figures['report_p50']:.1f} ms, "
          f"p99 {figures['report_p99']:.1f} ms ({CONNECTIONS} connections); per report {cpu('report')}")
    print(f"{name:<10} for reference, GET /api/v1/me: {figures['reads']:,.0f}/s; p50 {figures['read_p50']:.1f} ms, "
          f"p99 {figures['read_p99']:.1f} ms; per read {cpu('read')}")
    print(f"{name:<10} raw batched insert ceiling: {figures['ceiling']:,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgresql", metavar="URL", help="also measure PostgreSQL; its public schema is reset")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batches", type=int, default=8, help="batches per connection")
    parser.add_argument("--reports", type=int, default=100, help="self-reports (and reads) per connection")
    parser.add_argument("--batch", type=int, default=BATCH, help="events per partner batch (at most 500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per database, each on a fresh one; medians")
    args = parser.parse_args()
    databases = [("sqlite", None)] + ([("postgresql", args.postgresql)] if args.postgresql else [])
    print(f"machine: sum(range(10**6)) takes {interpreter_ms():.1f} ms (median of 5)")
    for name, url in databases:
        rounds = []
        for number in range(1, args.rounds + 1):
            with tempfile.TemporaryDirectory() as tmp:
                rounds.append(measure(url or f"sqlite:///{tmp}/ingest.db", args.workers, args.batches, args.reports,
                                      args.batch))
            report(f"{name} #{number}", rounds[-1], args.batch)
        if args.rounds > 1:
            report(f"{name} median", {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}, args.batch)


if __name__ == "__main__":
    main()
