"""``carbon-platform seed …``: reference data and the demo data set."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from carbon_platform import seeding
from carbon_platform.db import commit, will_write

group = click.Group("seed", help="Reference and demo data from seeds/.")


@group.command("reference")
@with_appcontext
def reference_command():
    """Load or refresh the districts (and, later, factors and the rulebook)."""
    will_write()
    report = seeding.load_reference()
    commit()
    click.echo(f"reference data: {report}")


@group.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing unless nobody has signed up yet.")
@with_appcontext
def demo_command(if_empty: bool):
    """Load the deterministic demo data set (public passwords: never on a real deployment)."""
    will_write()
    if if_empty and not seeding.is_empty():
        click.echo("demo data: database already has people in it; left alone")
        return
    report = seeding.load_reference()
    seeding.load_demo(report)
    commit()
    click.echo(f"demo data: {report}")
