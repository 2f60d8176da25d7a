"""Who may do what in the console: one table, read by every view's decorator and by the tests."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, g, redirect, request, session, url_for

from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole

R = AdminRole
#: Roles of the city's own staff: every role but the bank's, whose staff see only what enterprises let them.
CITY = frozenset(R) - {R.BANK}
#: permission → roles holding it. The auditor holds every ".view" of the city's data, and changes only its own
#: password. Bank staff hold "bank.enterprises" (and their own password) alone.
PERMISSIONS: dict[str, frozenset[AdminRole]] = {
    "dashboard.view": CITY,
    "profile.manage": frozenset(R),  # one's own password
    "audit.view": frozenset({R.SUPER_ADMIN, R.AUDITOR}),
    "admins.view": frozenset({R.SUPER_ADMIN, R.AUDITOR}),
    "admins.manage": frozenset({R.SUPER_ADMIN}),  # create, deactivate and reactivate administrators
    "partners.view": frozenset({R.SUPER_ADMIN, R.OPERATOR, R.AUDITOR}),
    "partners.manage": frozenset({R.SUPER_ADMIN, R.OPERATOR}),
    "adjustments.view": frozenset({R.SUPER_ADMIN, R.OPERATOR, R.AUDITOR}),
    "adjustments.manage": frozenset({R.SUPER_ADMIN, R.OPERATOR}),  # request, and decide others' requests
    "actions.view": frozenset({R.SUPER_ADMIN, R.OPERATOR, R.REVIEWER, R.AUDITOR}),
    "review.view": frozenset({R.SUPER_ADMIN, R.REVIEWER, R.OPERATOR, R.AUDITOR}),
    "review.act": frozenset({R.SUPER_ADMIN, R.REVIEWER}),
    "merchants.view": frozenset({R.SUPER_ADMIN, R.MERCHANT_MANAGER, R.OPERATOR, R.AUDITOR}),
    "merchants.manage": frozenset({R.SUPER_ADMIN, R.MERCHANT_MANAGER}),  # merchants, staff, rewards, stock
    "vouchers.view": frozenset({R.SUPER_ADMIN, R.MERCHANT_MANAGER, R.OPERATOR, R.AUDITOR}),
    "vouchers.manage": frozenset({R.SUPER_ADMIN, R.MERCHANT_MANAGER, R.OPERATOR}),  # cancel a voucher
    "settlement.view": frozenset({R.SUPER_ADMIN, R.MERCHANT_MANAGER, R.OPERATOR, R.AUDITOR}),
    "rules.view": frozenset({R.SUPER_ADMIN, R.OPERATOR, R.REVIEWER, R.AUDITOR}),
    # draft, submit, and decide another administrator's submission (never one's own: services.rulebooks)
    "rules.manage": frozenset({R.SUPER_ADMIN, R.OPERATOR}),
    "campaigns.view": frozenset({R.SUPER_ADMIN, R.OPERATOR, R.REVIEWER, R.AUDITOR}),
    "campaigns.manage": frozenset({R.SUPER_ADMIN, R.OPERATOR}),  # drafts go through rules' dual control
    "people.view": frozenset({R.SUPER_ADMIN, R.OPERATOR, R.REVIEWER, R.AUDITOR}),
    "people.manage": frozenset({R.SUPER_ADMIN, R.OPERATOR}),  # freeze and unfreeze accounts
    "exports.view": frozenset({R.SUPER_ADMIN, R.OPERATOR, R.AUDITOR}),
    "institutions.view": frozenset({R.SUPER_ADMIN, R.AUDITOR}),
    "institutions.manage": frozenset({R.SUPER_ADMIN}),  # register financial institutions (staff: admins.manage)
    # the enterprises that granted the bank's institution access, their statements and grades (services.bank_access)
    "bank.enterprises": frozenset({R.BANK}),
}


def can(admin: Administrator | None, permission: str) -> bool:
    return admin is not None and admin.role in PERMISSIONS[permission]


def home_url(admin: Administrator | None) -> str:
    """Where an administrator's console starts: bank staff at their enterprises, everyone else at the dashboard."""
    if admin is not None and admin.role == R.BANK:
        return url_for("admin.bank_enterprises")
    return url_for("admin.dashboard")


def start_session(admin: Administrator, generation: int) -> None:
    """Make this browser's session the administrator's, valid until its generation is raised.

    ``generation`` is read in the same transaction that authenticated the administrator, so a password
    change or deactivation committed meanwhile leaves the new session already refused.
    """
    session["admin_id"] = admin.id
    session["admin_gen"] = generation


def current_admin() -> Administrator | None:
    """The administrator of this request's session, or None.

    The cookie is signed, but signing cannot take it back: the administrator's session generation, checked
    on every request, is what lets logout, a password change or deactivation end a copied cookie at once.
    """
    if "admin" not in g:
        admin_id = session.get("admin_id")
        admin = db.session.get(Administrator, admin_id) if isinstance(admin_id, int) else None
        valid = (admin is not None and admin.active
                 and session.get("admin_gen") == admin.session_generation)
        if admin_id is not None and not valid:
            session.pop("admin_id", None)  # drop the dead session from the browser too
            session.pop("admin_gen", None)
        g.admin = admin if valid else None
    return g.admin


def requires(permission: str) -> Callable:
    """Log in first (redirect), then hold ``permission`` (403)."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            admin = current_admin()
            if admin is None:
                return redirect(url_for("admin.login", next=request.full_path))
            if not can(admin, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapper.permission = permission  # read by the role-matrix test
        return wrapper

    return decorator
