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


@group.command("settle")
@click.option("--now", "now_text", help="ISO time to settle as of (default: now); for catch-up runs.")
@with_appcontext
def settle_command(now_text: str | None):
    """Release held points and expire old ones. Idempotent; safe to run from cron at any rate."""
    now = datetime.fromisoformat(now_text) if now_text else utcnow()
    settled = 0
    # Commit every 200 accounts so a long catch-up keeps its progress and holds locks briefly.
    with click.progressbar(ledger.settle_due(now), label="settling", show_pos=True) as accounts:
        for settled, _account_id in enumerate(accounts, start=1):
            if settled % 200 == 0:
                commit()
    commit()
    click.echo(f"settled {settled} account(s) as of {now.isoformat()}")
