"""``carbon-platform ledger …``: verify the invariants, settle holds and expiry."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from carbon_platform.cli import jobs
from carbon_platform.cli.jobs import as_of
from carbon_platform.db import will_write
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
    will_write()
    now = as_of(now_text)
    settled = jobs.run(ledger.settle_due(now, release=release, expire=expire), label)
    click.echo(f"{label}: {settled} account(s) as of {now.isoformat()}")


@group.command("release")
@jobs.NOW
@with_appcontext
def release_command(now_text: str | None):
    """Make held points spendable once their hold ends. Idempotent; safe from cron at any rate."""
    _settle(now_text, release=True, expire=False, label="released")


@group.command("expire")
@jobs.NOW
@with_appcontext
def expire_command(now_text: str | None):
    """Expire points past their expiry, soonest first. Idempotent; safe from cron at any rate."""
    _settle(now_text, release=False, expire=True, label="expired")


@group.command("settle")
@jobs.NOW
@with_appcontext
def settle_command(now_text: str | None):
    """Release and expire in one pass (what a spend does for its own account)."""
    _settle(now_text, release=True, expire=True, label="settled")
