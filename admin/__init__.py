"""``/admin``: the server-rendered console (session login, CSRF on every unsafe request, roles)."""

from __future__ import annotations

import os

from flask import current_app, session
from flask_babel import format_decimal

LOCALES = ("zh_CN", "en")


def select_locale() -> str:
    """Chinese unless this session switched to English.

    Deliberately not the browser's Accept-Language: the console is Chinese by default for everyone,
    and English is an explicit choice (a headless or English-language browser still starts in Chinese).
    """
    chosen = session.get("lang")
    return chosen if chosen in LOCALES else current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app, babel) -> None:
    from admin import errors
    from admin.blueprint import blueprint
    from admin.views import (  # noqa: F401 (each module adds its routes to the blueprint)
        actions,
        adjustments,
        administrators,
        audit_log,
        banks,
        campaigns,
        dashboard,
        exports,
        merchants,
        partners,
        people,
        plan,
        review,
        rulebook_forms,
        rulebooks,
        scenarios,
        session_views,
        vouchers,
    )
    from carbon_platform.services.identity import mask_phone

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(os.path.dirname(__file__), "translations"),
    )
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["mask_phone"] = mask_phone
    errors.register(app)
    app.register_blueprint(blueprint)
