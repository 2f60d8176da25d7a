"""The console's blueprint; each area adds its views from its own module."""

from flask import Blueprint, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from admin.errors import handle_domain_error
from admin.forms import PARTNER_KIND_NAMES, ROLE_NAMES
from admin.labels import channel_name, column_name, dashboard_cell, label, programme_number, scenario_name
from admin.paging import BadFilter
from admin.permissions import can, current_admin
from carbon_platform.errors import DomainError

blueprint = Blueprint("admin", __name__, url_prefix="/admin", template_folder="../templates",
                      static_folder="../static", static_url_path="/static")


@blueprint.app_context_processor
def inject_admin():
    return {
        "current_admin": current_admin(),
        "can": lambda permission: can(current_admin(), permission),
        "locale": str(get_locale()),
        "role_name": lambda role: ROLE_NAMES[role],
        "partner_kind_name": lambda kind: PARTNER_KIND_NAMES[kind],
        "label": label,
        "channel_name": channel_name,
        "column_name": column_name,
        "dashboard_cell": dashboard_cell,
        "programme_number": programme_number,
        "scenario_name": scenario_name,
    }


def _bad_request(reason: str, title: str, message: str, back: str):
    # A page in the console's language with the way back, rather than a bare error page or a 500.
    return render_template("admin/bad_request.html", reason=reason, title=title, message=message, back=back), 400


@blueprint.errorhandler(BadFilter)
def bad_filter(error: BadFilter):
    return _bad_request("filter", _("筛选条件无效"),
                        _("筛选条件“%(name)s”包含无法查询的字符（空字符），未执行查询。", name=error.name),
                        request.path)


@blueprint.errorhandler(CSRFError)
def form_expired(_error: CSRFError):
    # Back to the page the form was on when the browser says so (and it is ours), else the dashboard.
    referrer = request.referrer or ""
    back = referrer if referrer.startswith(request.host_url + "admin/") else url_for("admin.dashboard")
    return _bad_request("csrf", _("表单已过期"), _("表单已过期或无效，未做任何更改。请返回页面后重新提交。"), back)


# A domain error no view caught is a console page with the console's wording (the API's handler would make it a
# bare page); 403/404/405/500 are app-wide (admin/errors.py) because routing errors reach no blueprint.
blueprint.register_error_handler(DomainError, handle_domain_error)


@blueprint.after_request
def no_store(response):
    # Console pages show personal data: browsers and proxies must not keep copies.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


from admin.views import (  # noqa: E402,F401,I001
    actions, adjustments, administrators, audit_log, campaigns, dashboard, exports, merchants, partners, people,
    plan, review, rulebooks, scenarios, session_views, vouchers,
)
