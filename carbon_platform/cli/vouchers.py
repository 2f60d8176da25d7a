"""``carbon-platform vouchers …``: expire unused vouchers, settlement and points liability."""

from __future__ import annotations

import csv
import sys
from datetime import datetime

import click
from flask.cli import with_appcontext

from carbon_platform.cli import jobs
from carbon_platform.clock import as_utc
from carbon_platform.db import will_write
from carbon_platform.extensions import db
from carbon_platform.services import vouchers

group = click.Group("vouchers", help="Reward vouchers: expiry, settlement, liability.")


@group.command("expire")
@jobs.NOW
@with_appcontext
def expire_command(now_text: str | None):
    """Close vouchers past their expiry, refunding per each reward's policy. Idempotent; safe from cron."""
    will_write()
    now = jobs.as_of(now_text)
    closed = jobs.run(vouchers.expire_due(now), "vouchers expired")
    click.echo(f"vouchers expired: {closed} as of {now.isoformat()}")


def _aware(_ctx, param, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise click.BadParameter("say the time zone, e.g. 2026-06-01T00:00:00+08:00", param=param)
    return as_utc(value)


@group.command("settlement")
@click.option("--from", "start", required=True, type=datetime.fromisoformat, callback=_aware,
              help="Start (inclusive), ISO time with zone.")
@click.option("--to", "end", required=True, type=datetime.fromisoformat, callback=_aware,
              help="End (exclusive), ISO time with zone.")
@with_appcontext
def settlement_command(start: datetime, end: datetime):
    """Per merchant and funder: vouchers consumed in [--from, --to) and their face value, as CSV."""
    rows = vouchers.settlement(start, end)
    db.session.rollback()
    writer = csv.writer(sys.stdout)
    writer.writerow(["merchant_id", "funder", "vouchers", "face_value_fen"])
    for row in rows:
        writer.writerow([row["merchant_id"], row["funder"], row["vouchers"], row["face_value_fen"]])


@group.command("liability")
@with_appcontext
def liability_command():
    """Outstanding points and their ¥ value, points expiring in 30 and 90 days, vouchers outstanding."""
    figures = vouchers.liability()
    db.session.rollback()
    for name, value in figures.items():
        click.echo(f"{name}: {value}")
