"""Energy reports under real concurrency (threads, one connection each, real commits), each race 20 times: one
site's submissions for one year never leave both a monthly and a yearly report or two of one period, and two
corrections of one report never share a version number."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import EnergyReport, EnergyReportVersion, Enterprise, EnterpriseSite
from carbon_platform.services import audit, energy_reports
from tests import factories as f
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.concurrency

REPETITIONS = 20
WORKERS = 6
INPUTS = energy_reports.Inputs(electricity_kwh=1000, fuels={"diesel": Decimal("1")})


def a_site(app) -> tuple[int, int]:
    with app.app_context():
        seeding.load_reference()
        enterprise = f.enterprise()
        energy_reports.classify(enterprise, code="30", key_energy_user=True, actor=audit.SYSTEM)
        site = energy_reports.add_site(enterprise, name="厂区", actor=audit.SYSTEM)
        commit()
        return enterprise.id, site.id


def submit(enterprise_id: int, site_id: int, month: int | None):
    enterprise, site = db.session.get(Enterprise, enterprise_id), db.session.get(EnterpriseSite, site_id)
    return energy_reports.submit(enterprise, site, year=2025, month=month, inputs=INPUTS, actor=audit.SYSTEM).id


def test_racing_submissions_for_one_year_keep_one_kind_of_period(app):
    for repetition in range(REPETITIONS):
        enterprise_id, site_id = a_site(app)
        # workers 0, 2, 4 report the whole of 2025; 1, 3, 5 report March 2025
        outcomes = run_concurrently(
            app, lambda i, e=enterprise_id, s=site_id: submit(e, s, None if i % 2 == 0 else 3), WORKERS)
        assert not outcomes.errors, f"repetition {repetition}: {outcomes.errors[:3]}"
        with app.app_context():
            periods = db.session.execute(sa.select(EnergyReport.period).where(EnergyReport.site_id == site_id)).all()
        assert len(outcomes.ok) == 1 and len(periods) == 1, f"repetition {repetition}: {periods}"
        assert set(outcomes.refused_codes) <= {"report_exists", "report_period_mixed"}
        assert sum(outcomes.refused_codes.values()) == WORKERS - 1


def test_racing_corrections_number_their_versions_one_after_another(app):
    for repetition in range(REPETITIONS):
        enterprise_id, site_id = a_site(app)
        with app.app_context():
            report_id = submit(enterprise_id, site_id, 3)
            commit()

        def correct(i: int, enterprise_id=enterprise_id, report_id=report_id):
            enterprise, report = db.session.get(Enterprise, enterprise_id), db.session.get(EnergyReport, report_id)
            changed = energy_reports.Inputs(electricity_kwh=2000 + i, fuels={"diesel": Decimal("1")})
            return energy_reports.correct(enterprise, report, inputs=changed, note=f"更正 {i}",
                                          actor=audit.SYSTEM).current.number

        outcomes = run_concurrently(app, correct, WORKERS)
        assert not outcomes.errors and not outcomes.refused, f"repetition {repetition}: {outcomes.errors[:3]}"
        with app.app_context():
            numbers = db.session.execute(sa.select(EnergyReportVersion.number)
                                         .where(EnergyReportVersion.report_id == report_id)
                                         .order_by(EnergyReportVersion.number)).scalars().all()
        assert numbers == list(range(1, WORKERS + 2)), f"repetition {repetition}: {numbers}"
        assert sorted(outcomes.ok) == list(range(2, WORKERS + 2))


def test_statements_issued_while_a_report_is_corrected_are_current_only_if_made_from_the_current_versions(app):
    """Workers 0, 2, 4 issue a statement of March while 1, 3, 5 correct March's report: whatever the order, a
    statement that the check calls current was made from the version that is current, and of the statements of
    the period at most one is current (the last)."""
    from carbon_platform.models import EnterpriseStatement
    from carbon_platform.services import statements

    for repetition in range(REPETITIONS):
        enterprise_id, site_id = a_site(app)
        with app.app_context():
            report_id = submit(enterprise_id, site_id, 3)
            commit()

        def work(i: int, enterprise_id=enterprise_id, report_id=report_id):
            enterprise = db.session.get(Enterprise, enterprise_id)
            if i % 2 == 0:
                return statements.issue(enterprise, period_from="2025-03", period_to="2025-03",
                                        actor=audit.SYSTEM).serial
            changed = energy_reports.Inputs(electricity_kwh=2000 + i, fuels={"diesel": Decimal("1")})
            report = db.session.get(EnergyReport, report_id)
            return energy_reports.correct(enterprise, report, inputs=changed, note=f"更正 {i}",
                                          actor=audit.SYSTEM).current.number

        outcomes = run_concurrently(app, work, WORKERS)
        assert not outcomes.errors and not outcomes.refused, f"repetition {repetition}: {outcomes.errors[:3]}"
        with app.app_context():
            latest = db.session.execute(sa.select(sa.func.max(EnergyReportVersion.number))
                                        .where(EnergyReportVersion.report_id == report_id)).scalar_one()
            issued = db.session.execute(sa.select(EnterpriseStatement).where(
                EnterpriseStatement.enterprise_id == enterprise_id).order_by(EnterpriseStatement.id)).scalars().all()
            current = [s for s in issued if statements.status(s).current]
            assert len(issued) == WORKERS // 2 and len(current) <= 1, f"repetition {repetition}"
            for statement in issued:
                made_from = statement.sources["reports"][str(report_id)]
                assert statement.document["sources"][0]["version"] == made_from
                assert statements.status(statement).current == (made_from == latest and statement is issued[-1])
