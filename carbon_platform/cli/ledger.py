"""``carbon-platform ledger …``: verify the invariants, settle holds and expiry."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.services import invariants, ledger

group = click.Group("ledger", help="The points and reduction ledgers.")


@group.command("verify")
@with_appcontext
def verify_command():
    """Check every invariant; print each drift and exit 1 if there is any."""
    drifts = invariants.verify()
    db.session.rollback()
    for drift in drifts:
        click.echo(str(drift), err=True)
    if drifts:
        raise click.ClickException(f"{len(drifts)} drift(s) found")
    click.echo(f"ledger ok: {len(invariants.CHECKS)} checks, no drift")


def _settle(now_text: str | None, *, release: bool, expire: bool, label: str) -> None:
    now = datetime.fromisoformat(now_text) if now_text else utcnow()
    settled = 0
    # Commit every 200 accounts so a long catch-up keeps its progress and holds locks briefly.
    with click.progressbar(ledger.settle_due(now, release=release, expire=expire), label=label,
                           show_pos=True) as accounts:
        for settled, _account_id in enumerate(accounts, start=1):
            if settled % 200 == 0:
                commit()
    commit()
    click.echo(f"{label}: {settled} account(s) as of {now.isoformat()}")


NOW = click.option("--now", "now_text", help="ISO time to act as of (default: now); for catch-up runs.")


@group.command("release")
@NOW
@with_appcontext
def release_command(now_text: str | None):
    """Make held points spendable once their hold ends. Idempotent; safe from cron at any rate."""
    _settle(now_text, release=True, expire=False, label="released")


@group.command("expire")
@NOW
@with_appcontext
def expire_command(now_text: str | None):
    """Expire points past their expiry, soonest first. Idempotent; safe from cron at any rate."""
    _settle(now_text, release=False, expire=True, label="expired")


@group.command("settle")
@NOW
@with_appcontext
def settle_command(now_text: str | None):
    """Release and expire in one pass (what a spend does for its own account)."""
    _settle(now_text, release=True, expire=True, label="settled")
