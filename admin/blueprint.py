"""The console's blueprint and the one unit of work around every request to it.

The view modules (``admin/views/``) add their routes to ``blueprint``; ``admin.init_app`` imports them and then
registers it, as ``mobile_api`` does with its blueprints, so nothing here imports a view and there is no cycle.

A request to the console commits once, here, and nowhere else: a request that may write (POST and the other
unsafe methods) commits when its view answered with success (below 400) and rolls back otherwise. A GET reads;
the one thing a GET records is who downloaded a file or what a bank was shown (``record_read``), and then it
commits that too. Services never commit (house style); views never call ``commit()`` either.

A service refuses by raising a ``DomainError``. A view names the page that shows the refusal (``on_refusal``):
the changes so far are rolled back, the error's message is flashed in the console's language, and the page is
rendered again with what was typed, as a 400. A view that names no page gets the console's 400 page with the
message and the way back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, current_app, flash, g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from admin.forms import PARTNER_KIND_NAMES, ROLE_NAMES
from admin.labels import channel_name, label, programme_number, reason_name, scenario_name
from admin.messages import message_for
from admin.paging import BadFilter
from admin.permissions import can, current_admin, home_url
from carbon_platform.db import SAFE_METHODS, commit
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db

blueprint = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
                      static_folder="static", static_url_path="/static")


# -- the unit of work ------------------------------------------------------------------------------


def record_read() -> None:
    """This GET wrote an audit record of what was read (an export, a bank's view of an enterprise): commit it with
    the response."""
    g.admin_read_recorded = True


def roll_back() -> None:
    """Drop what the request staged, and make sure the unit of work commits nothing of it."""
    db.session.rollback()  # before anything renders: a refused change must not show as made
    g.admin_refused = True


def refusal_status(error: DomainError) -> int:
    """Input the service refused is the form's 400, as input the form itself refused; 403, 404 and 409 say
    more (someone else must decide; it is gone; it was already decided or would overdraw) and stay."""
    return 400 if error.status == 422 else error.status


def on_refusal(page: Callable[..., object]):
    """``page(**view_args)`` answers when the view's service refuses: the form again, with its message.

    ``page`` is called with the route's arguments after the rollback; forms it builds read what was typed
    from the request, so nothing the operator entered is lost. A page it renders (a 200) gets the refusal's
    status (``refusal_status``); a redirect stays one.
    """

    def decorator(view):
        @functools.wraps(view)
        def guarded(**view_args):
            try:
                return view(**view_args)
            except DomainError as error:
                roll_back()
                flash(message_for(error), "error")
                response = current_app.make_response(page(**view_args))
                if response.status_code == 200:
                    response.status_code = refusal_status(error)
                return response

        return guarded

    return decorator


@blueprint.after_request
def finish_unit_of_work(response):
    writes = request.method not in SAFE_METHODS or g.get("admin_read_recorded", False)
    if writes and response.status_code < 400 and not g.get("admin_refused", False):
        commit()
    else:
        db.session.rollback()
    return response


@blueprint.after_request
def no_store(response):
    # Console pages show personal data: browsers and proxies must not keep copies.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


# -- what every page has ----------------------------------------------------------------------------


@blueprint.app_context_processor
def inject_admin():
    return {
        "current_admin": current_admin(),
        "can": lambda permission: can(current_admin(), permission),
        "home_url": lambda: home_url(current_admin()),
        "locale": str(get_locale()),
        "role_name": lambda role: ROLE_NAMES[role],
        "partner_kind_name": lambda kind: PARTNER_KIND_NAMES[kind],
        "label": label,
        "channel_name": channel_name,
        "programme_number": programme_number,
        "scenario_name": scenario_name,
        "reason_name": reason_name,
    }


# -- pages for what went wrong ----------------------------------------------------------------------


def bad_request(reason: str, title: str, message: str, back: str, status: int = 400):
    # A page in the console's language with the way back, rather than a bare error page or a 500.
    return render_template("admin/bad_request.html", reason=reason, title=title, message=message,
                           back=back), status


def back() -> str:
    """The page the request came from when the browser says so (and it is ours, and not this one), else the
    dashboard."""
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url + "admin/") and referrer != request.url:
        return referrer
    return home_url(current_admin())


@blueprint.errorhandler(DomainError)
def refused(error: DomainError):
    # A view that named no page for its refusals (``on_refusal``): the message, and the way back, with the
    # refusal's status (a bad month in an export's address is a 400).
    roll_back()
    return bad_request("refused", _("无法完成"), message_for(error), back(), status=refusal_status(error))


@blueprint.errorhandler(BadFilter)
def bad_filter(error: BadFilter):
    return bad_request("filter", _("筛选条件无效"),
                       _("筛选条件“%(name)s”包含无法查询的字符（空字符），未执行查询。", name=error.name),
                       request.path)


@blueprint.errorhandler(CSRFError)
def form_expired(_error: CSRFError):
    return bad_request("csrf", _("表单已过期"), _("表单已过期或无效，未做任何更改。请返回页面后重新提交。"), back())
