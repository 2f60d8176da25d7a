"""Enterprise statements at a city's scale (issue #18): the year's statements of N enterprises with twelve monthly
reports each, issued by the CLI job, and one statement rendered as PDF and XLSX.

    .venv/bin/python benchmarks/statements.py                          # 5,000 enterprises, SQLite
    .venv/bin/python benchmarks/statements.py --enterprises 500        # a quicker look
    .venv/bin/python benchmarks/statements.py --postgresql URL         # PostgreSQL (its schema is RESET)

The reports are written straight into the tables (each version computed by ``emissions.compute``, as a submission
would), so the set-up takes seconds rather than the minutes 60,000 API calls would. The job is the one
``carbon-platform enterprise statements --year 2025`` runs, timed end to end (queries, signing, inserts, commits).
Absolute times depend on the machine (they differ two- to three-fold here): compare figures from one run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carbon_platform import create_app, seeding  # noqa: E402
from carbon_platform.db import commit  # noqa: E402
from carbon_platform.extensions import db  # noqa: E402
from carbon_platform.models import (  # noqa: E402
    AccountKind,
    District,
    EnergyReport,
    EnergyReportVersion,
    Enterprise,
    EnterpriseOutput,
    EnterpriseSite,
    EnterpriseStatement,
)
from carbon_platform.services import energy_reports, statement_files  # noqa: E402
from carbon_platform.services.accounts import open_account  # noqa: E402
from emissions.calculate import Activity, compute  # noqa: E402

CONFIG = {"SECRET_KEY": "benchmark-secret-key-0123456789-abcdef", "SMS_SENDER": "memory",
          "RATELIMIT_ENABLED": False}
INDUSTRIES = ["30", "26", "31", "44", "13", "22", "39", "17"]
YEAR = 2025
RENDERS = 5


def make_app(url: str):
    app = create_app({**CONFIG, "DATABASE_URL": url, "SERVER_NAME": "carbon.example"})
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
        upgrade()
        seeding.load_reference()
        commit()
    return app


def populate(app, enterprises: int) -> float:
    """``enterprises`` accounts, one site each, twelve monthly reports of YEAR and an output value; seconds taken."""
    rng = random.Random(2026)
    registry = energy_reports.registry()
    started = time.perf_counter()
    with app.app_context():
        district = db.session.execute(sa.select(District.id).order_by(District.id)).scalars().first()
        now = datetime.now(UTC)
        for start in range(0, enterprises, 500):
            batch = range(start, min(start + 500, enterprises))
            accounts = [open_account(AccountKind.ENTERPRISE) for _ in batch]
            db.session.flush()
            rows = [Enterprise(name=f"泰安基准企业{i}", uscc=f"BENCH{i:013d}", industry="制造",
                               industry_code=INDUSTRIES[i % len(INDUSTRIES)], key_energy_user=True,
                               district_id=district, contact_name="王工", contact_phone=f"+86139{i:08d}",
                               account=account) for i, account in zip(batch, accounts, strict=True)]
            db.session.add_all(rows)
            db.session.flush()
            sites = [EnterpriseSite(enterprise_id=e.id, name="一号厂区") for e in rows]
            db.session.add_all(sites)
            db.session.flush()
            reports = [EnergyReport(site_id=site.id, year=YEAR, month=m, period=f"{YEAR}-{m:02d}")
                       for site in sites for m in range(1, 13)]
            db.session.add_all(reports)
            db.session.flush()
            versions = []
            for report in reports:
                inputs = energy_reports.Inputs(electricity_kwh=rng.randrange(50_000, 2_000_000),
                                               fuels={"natural_gas": Decimal(rng.randrange(0, 200_000))})
                on = date(2026, 1, 15)
                result = compute(Activity(YEAR, inputs.electricity_kwh, 0, inputs.heat_gj, inputs.fuels), registry,
                                 on=on)
                versions.append({"report_id": report.id, "number": 1, "submitted_at": now, "note": "",
                                 "inputs": inputs.stored(), "registry_version": registry.version,
                                 "computed_on": on, "scope1_kg": result.scope1_kg,
                                 "scope2_kg": result.scope2_kg, "total_kg": result.total_kg,
                                 "receipt": result.receipt})
            db.session.execute(sa.insert(EnergyReportVersion), versions)
            db.session.execute(sa.insert(EnterpriseOutput), [
                {"enterprise_id": e.id, "year": YEAR, "number": 1, "output_yuan": rng.randrange(10**7, 10**9),
                 "submitted_at": now, "note": ""} for e in rows])
            commit()
    return time.perf_counter() - started


def run_job(app) -> tuple[float, int, str]:
    """The CLI job, timed: seconds, statements issued, what it printed last."""
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["enterprise", "statements", "--year", str(YEAR)])
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(result.output)
    with app.app_context():
        issued = db.session.execute(sa.select(sa.func.count()).select_from(EnterpriseStatement)).scalar_one()
    return elapsed, issued, result.output.strip().splitlines()[-1]


def render_times(app) -> tuple[float, float]:
    """Median milliseconds to render one statement as PDF and as XLSX (the first PDF, which loads fonts, apart)."""
    with app.app_context(), app.test_request_context():
        statement = db.session.execute(sa.select(EnterpriseStatement).limit(1)).scalar_one()
        url = f"https://carbon.example/statements/{statement.serial}"
        statement_files.pdf(statement, url)  # warm-up: WeasyPrint's import and the font's first load
        pdf, xlsx = [], []
        for _ in range(RENDERS):
            started = time.perf_counter()
            statement_files.pdf(statement, url)
            pdf.append(time.perf_counter() - started)
            started = time.perf_counter()
            statement_files.xlsx(statement, url)
            xlsx.append(time.perf_counter() - started)
    return statistics.median(pdf) * 1000, statistics.median(xlsx) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=5000)
    parser.add_argument("--postgresql", metavar="URL", help="also run on this PostgreSQL database (schema RESET)")
    args = parser.parse_args()
    targets = []
    with tempfile.TemporaryDirectory() as folder:
        targets.append(("sqlite", f"sqlite:///{folder}/bench.db"))
        if args.postgresql:
            targets.append(("postgresql", args.postgresql))
        for name, url in targets:
            app = make_app(url)
            set_up = populate(app, args.enterprises)
            seconds, issued, said = run_job(app)
            pdf_ms, xlsx_ms = render_times(app)
            print(f"{name}: {args.enterprises} enterprises × 12 monthly reports (set-up {set_up:.0f} s)")
            print(f"  statements job: {seconds:.1f} s for {issued} statements = {seconds / issued * 1000:.2f} ms "
                  f"per statement   ({said})")
            print(f"  one statement rendered: PDF {pdf_ms:.0f} ms, XLSX {xlsx_ms:.0f} ms (medians of {RENDERS})")
            print(f"  one PDF costs as much as {pdf_ms / (seconds / issued * 1000):.0f} statements issued")
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
