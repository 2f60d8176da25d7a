"""A logged-in console client for a role."""

from __future__ import annotations

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.models import AdminRole
from tests import factories as f
from tests.admin.test_console import csrf_token, log_in

__all__ = ["console", "csrf_token", "log_in"]


def console(app, role=AdminRole.OPERATOR):
    with app.app_context():
        seeding.load_reference()
        admin = f.admin(role)
        commit()
        username = admin.username
    client = app.test_client()
    log_in(client, username)
    return client
