"""The console's blueprint; each area adds its views from its own module."""

from flask import Blueprint
from flask_babel import get_locale

from admin.forms import ROLE_NAMES
from admin.permissions import can, current_admin

blueprint = Blueprint("admin", __name__, url_prefix="/admin", template_folder="../templates",
                      static_folder="../static", static_url_path="/static")


@blueprint.app_context_processor
def inject_admin():
    return {
        "current_admin": current_admin(),
        "can": lambda permission: can(current_admin(), permission),
        "locale": str(get_locale()),
        "role_name": lambda role: ROLE_NAMES[role],
    }


@blueprint.after_request
def no_store(response):
    # Console pages show personal data: browsers and proxies must not keep copies.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


from admin.views import (  # noqa: E402,F401,I001
    actions, adjustments, administrators, audit_log, campaigns, dashboard, exports, merchants, partners, people,
    review, rulebooks, session_views, vouchers,
)
