"""The load harness of ``ingest.py``: servers started on free ports in their own process groups, a minimal HTTP/1.1
client, CONNECTIONS threads driving it, and the CPU each party spent (Linux ``/proc``)."""

from __future__ import annotations

import os
import resource
import signal
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

#: Connections (threads) every load uses, the platform's and the reference's alike.
CONNECTIONS = 16


def free_port() -> int:
    """A port nobody listens on: the machine is shared, and another checkout's benchmark may hold a fixed one."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], *, cwd: Path, env: dict[str, str], port: int, ready: str) -> subprocess.Popen:
    """Start a server in its own process group and wait until ``GET ready`` answers 200."""
    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    for _ in range(150):
        if process.poll() is not None:
            break
        try:
            if Client(port).request("GET", ready, {"Connection": "close"})[0] == 200:
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{command[0]} did not start on port {port}")


def stop(process: subprocess.Popen) -> None:
    """Stop a server started by ``start``, with its workers (its own process group, and only that)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)


class Client:
    """A minimal HTTP/1.1 client for the load: prebuilt requests over one socket, reopened when the server
    closes it (gunicorn's sync workers close after each response). ``http.client`` costs about twice the
    CPU per request, and that CPU comes out of the same two cores the server runs on."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        raw = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Content-Length: {len(body)}\r\n\r\n"
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=120)
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


def run_clients(work, port: int) -> tuple[float, list[float], list[int]]:
    """Run ``work(index, client, latencies)`` on CONNECTIONS threads against ``port``: (seconds, latencies, the
    column sums of what ``work`` returned)."""
    latencies, counts, lock = [], [], threading.Lock()
    barrier = threading.Barrier(CONNECTIONS + 1)

    def worker(index):
        client = Client(port)
        mine: list[float] = []
        barrier.wait()
        items = work(index, client, mine)
        with lock:
            latencies.extend(mine)
            counts.append(items)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start_time = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start_time, latencies, [sum(column) for column in zip(*counts, strict=True)]


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


def load(server: subprocess.Popen, port: int, warm_up, work, figures: dict[str, float], phase: str) -> list[int]:
    """Run ``warm_up`` (not counted), then ``work``; add to ``figures`` the rate of the first column ``work``
    returns (``phase``), its p50/p99 latency, and the CPU milliseconds each item cost each party."""
    run_clients(warm_up, port)
    before = cpu_seconds(server.pid)
    seconds, latencies, counts = run_clients(work, port)
    after = cpu_seconds(server.pid)
    figures[phase] = counts[0] / seconds
    figures[f"{phase} p50"], figures[f"{phase} p99"] = statistics.median(latencies), percentile(latencies, 0.99)
    for party in after:
        figures[f"{phase} cpu {party}"] = (after[party] - before[party]) * 1000 / counts[0]
    return counts


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
