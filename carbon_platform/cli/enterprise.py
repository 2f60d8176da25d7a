"""``carbon-platform enterprise …``: enterprise carbon accounts (issue #18)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from carbon_platform.clock import city_day, utcnow
from carbon_platform.db import commit, will_write
from carbon_platform.services import audit, statements

group = click.Group("enterprise", help="Enterprise carbon accounts: statements.")


@group.command("statements")
@click.option("--year", type=int, default=None, help="The calendar year (default: last year, in Beijing time).")
@with_appcontext
def statements_command(year: int | None):
    """Issue a signed whole-year statement for every enterprise that reported in the year. Commits every batch of
    200; an enterprise whose statement of the year is still current is skipped, so an interrupted run is run
    again."""
    will_write()
    year = year or city_day(utcnow()).year - 1
    count, batches = statements.year_batches(year, actor=audit.CLI)
    issued = 0
    with click.progressbar(length=count, label=f"statements for {year}", show_pos=True) as bar:
        for considered, batch in batches:
            commit()
            issued += len(batch)
            bar.update(considered)
    click.echo(f"statements issued: {issued} of {count} enterprises that reported in {year} "
               f"({count - issued} already had a current one)")
