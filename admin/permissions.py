"""Who may do what in the console: one table, read by every view's decorator and by the tests."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, g, redirect, request, session, url_for

from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole

R = AdminRole
#: permission → roles holding it. The auditor holds every ".view" and nothing else.
PERMISSIONS: dict[str, frozenset[AdminRole]] = {
    "dashboard.view": frozenset(R),
    "audit.view": frozenset({R.SUPER_ADMIN, R.AUDITOR}),
    "admins.view": frozenset({R.SUPER_ADMIN, R.AUDITOR}),
    "admins.manage": frozenset({R.SUPER_ADMIN}),
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
}


def can(admin: Administrator | None, permission: str) -> bool:
    return admin is not None and admin.role in PERMISSIONS[permission]


def current_admin() -> Administrator | None:
    if "admin" not in g:
        admin_id = session.get("admin_id")
        admin = db.session.get(Administrator, admin_id) if admin_id else None
        g.admin = admin if admin is not None and admin.active else None
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
