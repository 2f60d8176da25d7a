"""The ``carbon-platform`` console script: the Flask CLI of the app, with one group per area."""

from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy.exc import SQLAlchemyError

#: Commands that run without the schema: ``db`` builds it; the others never touch the database (``rules`` checks and
#: simulates rulebook files).
NEEDS_NO_SCHEMA = {"db", "routes", "shell", "run", "rules"}
UPGRADE = "run `carbon-platform db upgrade`"


def init_app(app) -> None:
    from carbon_platform.cli import admins, enterprise, feeds, ledger, rules, seed, serve, vouchers

    for group in (admins.group, enterprise.group, feeds.group, ledger.group, rules.group, seed.group, vouchers.group):
        app.cli.add_command(group)
    app.cli.add_command(serve.serve)


def _create_app():
    from carbon_platform.app import create_app

    return create_app()


def database_location() -> str:
    """The configured database, as an operator would recognise it (a file path, or the URL without password)."""
    url = sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database:
        return url.database
    return url.render_as_string(hide_password=True)


def require_schema() -> None:
    """Refuse, in one line, a command against a database the migrations have not built (or not finished).

    Checked before the command runs, so a missing SQLite file is reported rather than created empty, and an
    empty database gives this sentence instead of a traceback from the first query.
    """
    from carbon_platform.health import migration_heads

    url = sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    where = database_location()
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") and not os.path.exists(
            url.database):
        raise click.ClickException(f"no database at {where} (CARBON_DATABASE_URL to use another): {UPGRADE}")
    try:
        current, heads = migration_heads()
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot reach the database at {where}: {exc.__class__.__name__}") from None
    if not current:
        raise click.ClickException(f"the database at {where} has no schema: {UPGRADE}")
    if current != heads:
        raise click.ClickException(f"the database at {where} is at revision {', '.join(sorted(current))}, the code "
                                   f"at {', '.join(sorted(heads))}: {UPGRADE}")


class PlatformGroup(FlaskGroup):
    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, command, rest = super().resolve_command(ctx, args)
        wants_help = any(arg in ctx.help_option_names for arg in rest)
        if name == "db" and not wants_help:
            click.echo(f"database: {database_location()}", err=True)  # where `db upgrade` builds the schema
        elif name not in NEEDS_NO_SCHEMA and not wants_help:
            require_schema()
        return name, command, rest


main = PlatformGroup(create_app=_create_app, help="碳惠泰安 carbon-inclusion platform.")
