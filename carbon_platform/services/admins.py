"""Administrators: creation and password login (constant-time for unknown and known names)."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from carbon_platform.clock import utcnow
from carbon_platform.errors import AuthenticationFailed, Conflict, InvalidInput
from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole
from carbon_platform.services import audit

MIN_PASSWORD_LENGTH = 10
# Checked when the username is unknown, so both paths cost one password hash.
_DUMMY_HASH = generate_password_hash("not-a-real-password-at-all")


def create_admin(*, username: str, password: str, role: AdminRole, actor: audit.Actor,
                 display_name: str | None = None) -> Administrator:
    username = (username or "").strip().lower()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("username: letters, digits, '.' and '_' only", field="username")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if db.session.execute(sa.select(Administrator.id).where(Administrator.username == username)).first():
        raise Conflict("that username is taken", field="username")
    admin = Administrator(username=username, display_name=(display_name or username)[:64],
                          password_hash=generate_password_hash(password), role=AdminRole(role))
    db.session.add(admin)
    db.session.flush()
    audit.record(actor, "admin.create", admin, username=username, role=admin.role.value)
    return admin


def authenticate(username: str, password: str) -> Administrator:
    """Return the administrator or raise AuthenticationFailed; the same work either way."""
    admin = db.session.execute(
        sa.select(Administrator).where(Administrator.username == (username or "").strip().lower())
    ).scalar_one_or_none()
    valid = check_password_hash(admin.password_hash if admin else _DUMMY_HASH, password or "")
    if admin is None or not valid or not admin.active:
        raise AuthenticationFailed("wrong username or password")
    admin.last_login_at = utcnow()
    audit.record(audit.Actor.admin(admin), "admin.login", admin)
    return admin
