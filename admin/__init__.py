"""``/admin``: the server-rendered console (session login, CSRF on every unsafe request, roles)."""

from __future__ import annotations

import os

from flask import current_app, request, session
from flask_babel import format_decimal

LOCALES = ("zh_CN", "en")


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app, babel) -> None:
    from admin.views import blueprint

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(os.path.dirname(__file__), "translations"),
    )
    app.jinja_env.filters["number"] = format_decimal
    app.register_blueprint(blueprint)
