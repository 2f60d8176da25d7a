"""``carbon-platform feeds …``: partner feed housekeeping, and each partner's legacy-signature window."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from carbon_platform.clock import utcnow
from carbon_platform.db import commit, will_write
from carbon_platform.errors import DomainError
from carbon_platform.services import audit, feeds, organisations

group = click.Group("feeds", help="Partner data feeds.")


@group.command("purge-unmatched")
@click.option("--days", type=int, help="Keep this many days (default: CARBON_UNMATCHED_RETENTION_DAYS).")
@with_appcontext
def purge_command(days: int | None):
    """Forget the data of events nobody was matched to (no binding or no consent). Safe from cron."""
    will_write()
    days = current_app.config["UNMATCHED_RETENTION_DAYS"] if days is None else days
    purged = feeds.purge_unmatched(utcnow() - timedelta(days=days))
    commit()
    click.echo(f"purged {purged} unmatched event(s) older than {days} days")


@group.command("settle-waiting")
@with_appcontext
def settle_waiting_command():
    """Credit unmatched events whose binding has been proven and consented since (within the claim window).
    Proofs and authorisations do this themselves; this catches an event that raced one. Safe from cron."""
    will_write()
    credited = feeds.settle_all_waiting()
    commit()
    click.echo(f"credited {credited} waiting event(s)")


@group.command("legacy-signatures")
@click.argument("key_id")
@click.option("--until", help="ISO 8601 time with an offset, e.g. 2027-06-30T00:00:00Z.")
@click.option("--never", is_flag=True, help="Accept only the current form from now on.")
@with_appcontext
def legacy_signatures_command(key_id: str, until: str | None, never: bool):
    """Until when partner KEY_ID may still sign the old way (without method and path)."""
    if never == (until is not None):
        raise click.UsageError("give either --until or --never")
    try:
        when = datetime.fromisoformat(until) if until else None
    except ValueError:
        raise click.BadParameter("not an ISO 8601 time", param_hint="--until") from None
    will_write()
    try:
        partner = organisations.set_legacy_signature_until(key_id, when, actor=audit.CLI)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    commit()
    shown = partner.legacy_signature_until.isoformat() if partner.legacy_signature_until else "never"
    click.echo(f"{key_id}: the old signature form is accepted until {shown}")
