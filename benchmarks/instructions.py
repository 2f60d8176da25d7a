"""Machine instructions per self-report, counted by Valgrind's callgrind: a figure the machine's noise leaves alone.

    .venv/bin/python benchmarks/instructions.py                      # SQLite
    .venv/bin/python benchmarks/instructions.py --postgresql URL     # PostgreSQL (its public schema is RESET)

Timings on the shared 2-core machines move by 10% between rounds and by 2× between days, which hides a 5%
change. Instructions do not: two runs of the same code agree within about 1%. This counts the app's
instructions for ``POST /api/v1/actions`` (a walking report, paid, as in ``ingest.py``) through Flask's test
client in one process: the view, SQLAlchemy, the driver, and the test client's own small share; not the database
server's work, and not gunicorn's. Compare two checkouts by running this in each, and confirm what it shows with
``ingest.py``, which measures the whole system.

The database is prepared natively (``ingest_setup.prepare``, 100 residents); then a child process runs under callgrind,
warms up with 50 reports, and counts only inside ``operator.call`` (``--toggle-collect=_operator_call``), which
wraps the measured reports and which nothing else here calls. Needs ``valgrind`` (Debian's package).
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ingest_setup  # noqa: E402
from ingest import DAYS  # noqa: E402

RESIDENTS, WARM_UP = 100, 50


def child(url: str, tokens: list[str], reports: int) -> None:
    """Runs under callgrind: warm up, then the measured reports inside ``operator.call``."""
    from carbon_platform import create_app

    client = create_app({**ingest_setup.CONFIG, "DATABASE_URL": url, "RATELIMIT_ENABLED": False}).test_client()
    now = datetime.now(UTC) - timedelta(hours=1)

    def report(n: int) -> None:  # report n is resident n's (mod the residents), one day back per pass: all paid
        when = (now - timedelta(days=n // len(tokens) % DAYS)).isoformat()
        response = client.post("/api/v1/actions", json={"scenario": "walking", "occurred_at": when,
                                                        "inputs": {"steps": 8000}},
                               headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}",
                                        "Idempotency-Key": secrets.token_hex(8)})
        assert response.status_code == 201 and response.json["points"] > 0, response.json

    for n in range(WARM_UP):
        report(n)
    operator.call(lambda: [report(n) for n in range(WARM_UP, WARM_UP + reports)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgresql", metavar="URL", help="measure PostgreSQL; its public schema is reset")
    parser.add_argument("--reports", type=int, default=200, help="measured self-reports")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        setup = json.loads(Path(args.child).read_text())
        child(setup["url"], setup["tokens"], args.reports)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgresql or f"sqlite:///{tmp}/instructions.db"
        ingest_setup.RESIDENTS = RESIDENTS
        setup = Path(tmp) / "setup.json"
        setup.write_text(json.dumps({"url": url, "tokens": ingest_setup.prepare(url)["tokens"]}))
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--toggle-collect=_operator_call",
             f"--callgrind-out-file={tmp}/callgrind.out", sys.executable, __file__, "--child", str(setup),
             "--reports", str(args.reports)],
            capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    collected = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or collected is None:
        sys.exit(f"the measured run failed:\n{run.stderr[-3000:]}")
    name = "postgresql" if args.postgresql else "sqlite"
    print(f"{name:<10} POST /api/v1/actions: {int(collected.group(1)) / args.reports / 1e6:.2f} M instructions per "
          f"self-report (in-process, {args.reports} reports)")


if __name__ == "__main__":
    main()
