"""``carbon-platform feeds …``: partner feed housekeeping."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.services import feeds

group = click.Group("feeds", help="Partner data feeds.")


@group.command("purge-unmatched")
@click.option("--days", type=int, help="Keep this many days (default: CARBON_UNMATCHED_RETENTION_DAYS).")
@with_appcontext
def purge_command(days: int | None):
    """Forget the data of events nobody was matched to (no binding or no consent). Safe from cron."""
    days = current_app.config["UNMATCHED_RETENTION_DAYS"] if days is None else days
    purged = feeds.purge_unmatched(utcnow() - timedelta(days=days))
    commit()
    click.echo(f"purged {purged} unmatched event(s) older than {days} days")


@group.command("settle-waiting")
@with_appcontext
def settle_waiting_command():
    """Credit unmatched events whose binding has been proven and consented since (within the claim window).
    Proofs and authorisations do this themselves; this catches an event that raced one. Safe from cron."""
    credited = feeds.settle_all_waiting()
    commit()
    click.echo(f"credited {credited} waiting event(s)")
