"""``carbon-platform admin …``: console administrators."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from carbon_platform.db import commit, will_write
from carbon_platform.errors import DomainError
from carbon_platform.models import AdminRole
from carbon_platform.services import admins, audit

group = click.Group("admin", help="Console administrators.")


@group.command("create")
@click.option("--username", prompt=True)
@click.option("--role", type=click.Choice([r.value for r in AdminRole]), default=AdminRole.SUPER_ADMIN.value,
              show_default=True)
@click.option("--display-name")
@click.password_option(envvar="CARBON_ADMIN_PASSWORD", help="Prompted for, or read from CARBON_ADMIN_PASSWORD.")
@with_appcontext
def create_command(username: str, role: str, display_name: str | None, password: str):
    """Create an administrator (the first one is how a new installation is opened)."""
    will_write()
    try:
        admin = admins.create_admin(username=username, password=password, role=AdminRole(role),
                                    display_name=display_name, actor=audit.CLI)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    commit()
    click.echo(f"administrator {admin.username} ({admin.role.value}) created")
