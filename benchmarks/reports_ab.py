"""Self-reports per second of two checkouts measured at the same time, so that both meet the same machine.

    .venv/bin/python benchmarks/reports_ab.py /path/to/other/checkout \\
        --postgresql postgresql://postgres@127.0.0.1:5432/bench_a postgresql://postgres@127.0.0.1:5432/bench_b

On the shared machines, two runs minutes apart can differ by 1.5× (``ingest.py``'s raw insert ceiling shows it),
so a before/after pair measured one after the other says little. Here each checkout serves on its own port and
database (both schemas are RESET), prepares and warms up as ``ingest.py`` does, and starts its measured load when
the other is ready; the two loads share the two cores. Each prints its self-reports per second and the CPU its
gunicorn workers spent per report, for each round. The ratio of the two is the figure; each rate alone is about
half of what the machine gives one server. The database CPU is left out: both servers' PostgreSQL processes would
be counted.

The other checkout runs this same script with its own code (``--side``), found by path; it needs the file too.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ingest  # noqa: E402


def side(name: str, peer: str, url: str, port: int, sync: Path, rounds: int, reports: int) -> None:
    """One checkout's rounds, each load started when the peer's is ready to start too."""

    def barrier(tag: str) -> None:
        (sync / f"{name}.{tag}").touch()
        while not (sync / f"{peer}.{tag}").exists():
            time.sleep(0.05)

    ingest.PORT = port
    for number in range(1, rounds + 1):
        data = ingest.prepare(url)
        server = ingest.serve(url, 4)
        figures: dict[str, float] = {}
        try:
            ingest.run_clients(ingest.report_load(data["tokens"], ingest.WARM_UP))
            barrier(f"start{number}")
            seconds, latencies, (done,) = ingest.measured(
                server, ingest.report_load(data["tokens"], reports, first=ingest.CONNECTIONS * ingest.WARM_UP),
                figures, "report")
        finally:
            ingest.stop(server)
        print(f"{name} ({Path.cwd()}) round {number}: {done / seconds:,.0f} self-reports/s, "
              f"p99 {ingest.percentile(latencies, 0.99):.1f} ms, app CPU {figures['report cpu app']:.2f} ms per report",
              flush=True)
        barrier(f"done{number}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("other", help="the other checkout (its benchmarks/reports_ab.py runs its code)")
    parser.add_argument("--postgresql", nargs=2, metavar=("URL_HERE", "URL_OTHER"), required=True,
                        help="two databases, one for each checkout; their public schemas are reset")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reports", type=int, default=100, help="self-reports per connection")
    parser.add_argument("--side", nargs=4, metavar=("NAME", "PEER", "PORT", "SYNC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        name, peer, port, sync = args.side
        side(name, peer, args.postgresql[0], int(port), Path(sync), args.rounds, args.reports)
        return
    here, other = Path(__file__).resolve().parent.parent, Path(args.other).resolve()
    with tempfile.TemporaryDirectory() as sync:
        common = ["--rounds", str(args.rounds), "--reports", str(args.reports)]
        peers = [subprocess.Popen([sys.executable, str(root / "benchmarks" / "reports_ab.py"), str(root),
                                   "--postgresql", url, url, "--side", name, peer, port, sync, *common],
                                  cwd=root, stderr=subprocess.DEVNULL)
                 for root, url, name, peer, port in ((here, args.postgresql[0], "here", "other", "8077"),
                                                     (other, args.postgresql[1], "other", "here", "8078"))]
        if any(peer.wait() for peer in peers):
            sys.exit("a side failed; run it alone with ingest.py to see why")


if __name__ == "__main__":
    main()
