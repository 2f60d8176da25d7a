"""A GET never changes state: every console GET route (from the URL map, its path filled with objects of
the demo data) leaves every table as it was.

The one deliberate exception is the audit trail of reads: who took which export, when, and every page a bank's
staff opened about an enterprise (the access log the enterprise reads). RFC 9110 counts such logging as compatible
with a safe method, and it changes nothing anyone acts on. The walk is done by a super admin and again by the
demo's bank staff, whose pages are the bank's own.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import (
    AdminRole,
    AuditEvent,
    CarbonAccount,
    Enterprise,
    EnterpriseStatement,
    Evidence,
    Merchant,
    Reward,
    RulebookVersion,
)
from carbon_platform.services import dashboard, rulebooks
from tests import factories as f
from tests.admin.helpers import log_in

#: Audit actions a GET may record: the download log, and a bank's access log.
DOWNLOAD_AUDIT = {"export.download", "settlement.export"}
BANK_AUDIT = {"bank.view"}
#: Session-only or not a page: logging in and switching the language, and static files.
SKIPPED = {"admin.login", "admin.set_language", "admin.static"}
#: Query strings that take a page down its other paths (what-if simulation, searches, filters).
EXTRA = ["/admin/rulebooks/{version_id}?what_if=30", "/admin/vouchers?q=13800000000", "/admin/people?kind=merchant&q=1",
         "/admin/actions?status=credited", "/admin/audit?action=admin.", "/admin/settlement.csv?from=2026-01-01",
         "/admin/exports/reduction.xlsx", "/admin/exports/certified.json"]


def snapshot() -> dict[str, list]:
    tables = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.select(table)).all()
        tables[table.name] = sorted(map(repr, rows))
    db.session.rollback()
    return tables


def test_no_console_get_changes_any_table(app):
    with app.app_context():
        seeding.load_reference()
        seeding.load_demo()
        admin = f.admin(AdminRole.SUPER_ADMIN)
        commit()
        first = {name: db.session.execute(sa.select(sa.func.min(column))).scalar() or 1 for name, column in (
            ("merchant_id", Merchant.id), ("reward_id", Reward.id), ("account_id", CarbonAccount.id),
            ("evidence_id", Evidence.id), ("version_id", RulebookVersion.id))}
        campaigns = rulebooks.in_force(utcnow())[1].campaigns
        first["campaign_id"] = campaigns[0].id if campaigns else "none"
        first["chart"] = next(iter(dashboard.CHARTS))
        first["enterprise_id"] = db.session.execute(sa.select(sa.func.min(Enterprise.id))).scalar()
        first["serial"] = db.session.execute(sa.select(EnterpriseStatement.serial)).scalars().first()
        username = admin.username
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and "GET" in rule.methods and rule.endpoint not in SKIPPED:
            url = re.sub(r"<any\(([^,)]+)[^)]*\):\w+>", lambda m: m.group(1).strip(), rule.rule)
            urls.append(re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(first[m.group(1)]), url))
    urls += [extra.format(**first) for extra in EXTRA]
    assert len(urls) > 30
    bank_urls = [url for url in urls if url.startswith("/admin/bank")]
    assert len(bank_urls) == 3  # the list, the enterprise, and a statement (as PDF)
    walk(app, username, f.PASSWORD, urls, DOWNLOAD_AUDIT)
    walk(app, "bank", "taian-demo-bank", bank_urls, BANK_AUDIT)  # the demo's bank staff


def walk(app, username: str, password: str, urls: list[str], may_log: set[str]) -> None:
    client = app.test_client()
    assert log_in(client, username, password).status_code == 302
    with app.app_context():
        before = snapshot()
        events_before = db.session.execute(sa.select(sa.func.max(AuditEvent.id))).scalar()
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
    with app.app_context():
        after = snapshot()
        logged = set(db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.id > events_before)).scalars())
    assert logged == may_log, logged  # the reads were logged (and seen): nothing else was
    changed = [name for name in before if before[name] != after[name] and name != AuditEvent.__tablename__]
    assert changed == []
