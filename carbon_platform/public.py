"""``/``: the public, read-only site for residents, journalists and auditors, and its open data.

No login and nothing personal: the city's certified reduction and participants with their breakdowns (the
console's own figures, ``dashboard.city_figures``, through ``services.open_data``), every methodology and factor
of every stored rulebook version with a worked example computed live by the rules engine, how points, caps,
holds and expiry work, how personal data is used, and ``/open-data/aggregates.csv`` / ``.json`` with small cells
suppressed. Chinese first; ``?lang=en`` (remembered in a cookie) for English. Plain HTML and CSS, no script.

A phone gets this page too (it no longer jumps to ``/h5/``): its first button opens the residents' client.
It lives in the core, beside ``h5.py``, because it reads only core services, and neither web package (the
console needs a login, the API speaks JSON) is the place for a public HTML page.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import force_locale, format_decimal

from carbon_platform.clock import CITY_TZ, as_utc
from carbon_platform.errors import NotFound
from carbon_platform.services import open_data, statements

bp = Blueprint("public", __name__)

LOCALES = {"zh_CN": "zh-CN", "en": "en"}
COOKIE = "public_lang"


def chosen_locale() -> str:
    """``?lang=``, else the cookie a previous ``?lang=`` left, else Chinese (never the browser's language)."""
    for value in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if value in LOCALES:
            return value
    return "zh_CN"


@bp.get("/")
def home():
    locale = chosen_locale()
    english = locale == "en"
    figures = open_data.published()
    in_force = figures.in_force
    examples = {sid: result.receipt.render(locale) for sid, result in figures.examples.items()}
    with force_locale(locale):
        html = render_template(
            "public/index.html", locale=locale, html_lang=LOCALES[locale], english=english, doc=figures.document,
            versions=figures.versions, in_force=in_force, examples=examples, min_accounts=open_data.MIN_ACCOUNTS,
            cache_seconds=figures.document["cache_seconds"], number=format_decimal, city_tz=CITY_TZ,
            retention_days=current_app.config["UNMATCHED_RETENTION_DAYS"],
            name=lambda row: row["name_en"] if english else row["name_zh"])
    response = Response(html, mimetype="text/html")
    if request.args.get("lang") in LOCALES:
        response.set_cookie(COOKIE, locale, max_age=365 * 86400, samesite="Lax", httponly=True)
    response.headers["Cache-Control"] = f"public, max-age={min(figures.document['cache_seconds'], 60)}"
    response.vary.add("Cookie")
    return response


@bp.get("/open-data/aggregates.json")
def aggregates_json():
    body = json.dumps(open_data.published().document, ensure_ascii=False, indent=1)
    return _download(body, "application/json", "aggregates.json")


@bp.get("/open-data/aggregates.csv")
def aggregates_csv():
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=open_data.CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(open_data.csv_rows(open_data.published().document))
    # A byte-order mark so that spreadsheet programs read the Chinese names as UTF-8.
    return _download("\ufeff" + out.getvalue(), "text/csv", "aggregates.csv")


def _download(body: str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"inline; filename={filename}", "Access-Control-Allow-Origin": "*",
        "Cache-Control": "public, max-age=60"})


@bp.get("/statements")
def statement_lookup():
    """The check page's form: a serial typed in goes to its page."""
    serial = (request.args.get("serial") or "").strip().upper()
    return statement_check(serial) if serial else _check_page(None, None)


@bp.get("/statements/<serial>")
def statement_check(serial: str):
    """Whether an enterprise's statement is genuine and current: what its QR code opens (no login)."""
    try:
        statement = statements.by_serial(serial)
    except NotFound:
        return _check_page(serial, None, status=404)
    return _check_page(serial, statement)


def _check_page(serial: str | None, statement, *, status: int = 200) -> Response:
    locale = chosen_locale()
    context = {}
    if statement is not None:
        kg = statement.document["emissions"]["total_kg"]
        context = {"status": statements.status(statement), "tonnes": format_decimal(Decimal(kg) / 1000, "#,##0.000"),
                   "issued": as_utc(statement.issued_at).astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M")}
    with force_locale(locale):
        html = render_template("public/statement_check.html", locale=locale, html_lang=LOCALES[locale],
                               english=locale == "en", serial=serial, statement=statement, **context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"  # a correction supersedes a statement at once
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
