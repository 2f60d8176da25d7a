"""The ``carbon-platform`` console script: the Flask CLI of the app, with one group per area."""

from __future__ import annotations

from flask.cli import FlaskGroup


def init_app(app) -> None:
    from carbon_platform.cli import admins, feeds, ledger, rules, seed, serve, vouchers

    for group in (admins.group, feeds.group, ledger.group, rules.group, seed.group, vouchers.group):
        app.cli.add_command(group)
    app.cli.add_command(serve.serve)


def _create_app():
    from carbon_platform.app import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="碳惠泰安 carbon-inclusion platform.")
