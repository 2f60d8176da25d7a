"""Administrators: creation, password login (constant-time for unknown and known names), password
changes, deactivation, and ending an administrator's console sessions."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from carbon_platform.clock import utcnow
from carbon_platform.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole, FinancialInstitution
from carbon_platform.services import audit

MIN_PASSWORD_LENGTH = 10
# Checked when the username is unknown, so both paths cost one password hash.
_DUMMY_HASH = generate_password_hash("not-a-real-password-at-all")


def create_admin(*, username: str, password: str, role: AdminRole, actor: audit.Actor,
                 display_name: str | None = None, institution_id: int | None = None) -> Administrator:
    """A console administrator. Bank staff (role ``bank``) belong to a financial institution, and only they do."""
    role = AdminRole(role)
    if (role == AdminRole.BANK) != (institution_id is not None):
        raise InvalidInput("bank staff, and only bank staff, belong to a financial institution",
                           code="institution_required" if role == AdminRole.BANK else "institution_not_allowed",
                           field="institution")
    if institution_id is not None and db.session.get(FinancialInstitution, institution_id) is None:
        raise NotFound("no financial institution with this id", code="institution_not_found", field="institution")
    username = (username or "").strip().lower()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("username: letters, digits, '.' and '_' only", code="username_invalid", field="username")
    _check_new_password(password, "password")
    if db.session.execute(sa.select(Administrator.id).where(Administrator.username == username)).first():
        raise Conflict("that username is taken", code="username_taken", field="username")
    admin = Administrator(username=username, display_name=(display_name or username)[:64],
                          password_hash=generate_password_hash(password), role=role, institution_id=institution_id)
    db.session.add(admin)
    db.session.flush()
    audit.record(actor, "admin.create", admin, username=username, role=admin.role.value,
                 institution_id=institution_id)
    return admin


def _check_new_password(password: str | None, field: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters", code="password_too_short",
                           field=field, minimum=MIN_PASSWORD_LENGTH)


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


def end_sessions(admin: Administrator) -> int:
    """Refuse every console session this administrator holds; return the new generation.

    One guarded increment in SQL rather than read-then-write: two revocations at once (logout on two
    devices, a password change during a deactivation) must both move the counter past every cookie issued
    so far, and a lost update could leave a session issued in between alive.
    """
    db.session.execute(
        sa.update(Administrator).where(Administrator.id == admin.id)
        .values(session_generation=Administrator.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(admin, ["session_generation"])
    return admin.session_generation


def log_out(admin: Administrator) -> None:
    """End all of the administrator's sessions (a copied cookie dies with the one logged out)."""
    end_sessions(admin)
    audit.record(audit.Actor.admin(admin), "admin.logout", admin)


def change_password(admin: Administrator, *, current_password: str, new_password: str) -> int:
    """The administrator's own password change; ends every session, and returns the generation that the
    session making the change carries on with."""
    if not check_password_hash(admin.password_hash, current_password or ""):
        raise AuthenticationFailed("the current password is wrong", field="current_password")
    _check_new_password(new_password, "new_password")
    if check_password_hash(admin.password_hash, new_password):
        raise InvalidInput("choose a password different from the current one", field="new_password",
                           code="password_unchanged")
    admin.password_hash = generate_password_hash(new_password)
    audit.record(audit.Actor.admin(admin), "admin.password_change", admin)
    return end_sessions(admin)


def set_active(admin: Administrator, active: bool, *, actor: audit.Actor) -> Administrator:
    """Deactivate (ending the administrator's sessions at once) or reactivate another administrator."""
    if actor.type == "admin" and actor.id == admin.id:
        # Nobody locks themselves out; and so a super admin always remains to undo a mistake.
        raise Conflict("you cannot deactivate or reactivate yourself", code="self_deactivation")
    if admin.active == active:
        return admin
    admin.active = active
    if not active:
        end_sessions(admin)
    audit.record(actor, "admin.activate" if active else "admin.deactivate", admin, username=admin.username)
    return admin
