"""The console's own 403, 404, 405 and 500 pages: console-styled, in the session's language, with a way back.

Flask finds a handler registered for a status code before one registered for ``HTTPException``, so these are
app-wide; every path outside ``/admin`` is handed on to whatever handles ``HTTPException`` otherwise (the API's
JSON error shape, or Flask's plain page), untouched.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from admin.blueprint import back, roll_back  # the unit of work's own (admin/blueprint.py)

CODES = (403, 404, 405, 500)


def is_console_request() -> bool:
    return request.path == "/admin" or request.path.startswith("/admin/")


def _wording(status: int) -> tuple[str, str]:
    if status == 403:
        return _("没有权限"), _("您的角色不能打开这个页面或执行这个操作。如需权限，请联系超级管理员。")
    if status == 404:
        return _("页面不存在"), _("没有找到这个页面或记录，它可能已被删除，或者链接有误。")
    if status == 405:
        return _("请求方式不被接受"), _("这个地址不接受这种请求方式，未做任何更改。")
    return _("服务器出错"), _("处理请求时出错，未做任何更改。请稍后再试；如果问题持续，请联系技术支持。")


def error_page(status: int, title: str, message: str):
    try:
        html = render_template("admin/error.html", status=status, title=title, message=message, back=back())
    except Exception:  # the page itself failed (e.g. the database is down): a bare page, still no details
        current_app.logger.exception("the console's error page could not be rendered")
        html = f"<!doctype html><title>{status}</title><h1>{status}</h1><p><a href=\"/admin/\">/admin</a></p>"
    return html, status


def _elsewhere(error: HTTPException):
    handler = current_app.error_handler_spec.get(None, {}).get(None, {}).get(HTTPException)
    return handler(error) if handler else error


def handle_http_error(error: HTTPException):
    if not is_console_request():
        return _elsewhere(error)
    status = error.code or 500
    if status >= 500:
        roll_back()  # drop what the failed request staged; the page below can use the session again
    response = error_page(status, *_wording(status))
    if status == 405 and getattr(error, "valid_methods", None):
        return response[0], status, {"Allow": ", ".join(error.valid_methods)}
    return response


def register(app) -> None:
    for code in CODES:
        app.register_error_handler(code, handle_http_error)
