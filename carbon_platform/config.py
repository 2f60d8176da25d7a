"""Configuration defaults; overridden by CARBON_* environment variables, then by the test mapping."""

from __future__ import annotations

import os
from datetime import timedelta

#: The development secret. Production refuses to start with it (see ``check_production``).
DEV_SECRET_KEY = "dev-only-not-secret"


class Defaults:
    """Every setting the platform reads, with its development default.

    Each one can be set from the environment as ``CARBON_<NAME>`` (JSON values are parsed, so
    ``CARBON_OTP_TTL_SECONDS=600`` is an int). ``docs/configuration.md`` lists them for operators.
    """

    ENV = "development"  # "production" turns on the start-up refusals and Secure cookies
    SECRET_KEY = DEV_SECRET_KEY
    # Empty means "sqlite:///<instance>/carbon.db", resolved in create_app; <instance> is ``instance_path()``.
    DATABASE_URL = ""
    SQLITE_BUSY_TIMEOUT_MS = 30_000
    REDIS_URL = ""  # empty: rate limits kept in process memory (fine for one worker)
    RATELIMIT_STORAGE_URI = ""  # overrides REDIS_URL for Flask-Limiter when set
    SMS_SENDER = "log"  # "log" (prints codes; development), "memory" (tests) or "module:Class"
    UPLOAD_FOLDER = ""  # empty means "<instance>/uploads"
    H5_DIST = ""  # the built H5 client; empty means the checkout's h5/dist (make h5)
    # The public page (``/``) and its open data: how long one worker keeps the figures it computed (seconds;
    # 0 computes them on every request). Readers see figures at most this old.
    PUBLIC_CACHE_SECONDS = 60
    # Reverse proxies in front of the app that append to X-Forwarded-For / X-Forwarded-Proto. 0: none, the
    # headers are ignored (anyone could send them). Behind one nginx, 1; otherwise every client shares the
    # proxy's address, so each per-address limit becomes one global bucket.
    TRUSTED_PROXY_HOPS = 0
    # Login by one-time code.
    OTP_TTL_SECONDS = 300
    OTP_MAX_ATTEMPTS = 5
    OTP_SEND_LIMIT = "5 per hour;1 per minute"  # per phone number
    OTP_SEND_LIMIT_PER_IP = "30 per hour"
    OTP_VERIFY_LIMIT_PER_IP = "60 per hour"
    ACCESS_TOKEN_TTL_SECONDS = 3600
    REFRESH_TOKEN_TTL_DAYS = 30
    # Partner events matched to nobody (no binding or no consent) keep their data this long.
    UNMATCHED_RETENTION_DAYS = 30
    # Manual adjustments larger than this (points, either way) need a second administrator's approval.
    ADJUSTMENT_DUAL_CONTROL_POINTS = 1000
    # Points policy defaults until the rulebook (points_rules) says otherwise.
    POINTS_EXPIRY_MONTHS = 24
    EXPIRING_SOON_DAYS = 30
    # The reward mall: what one point is worth for the liability report (fen; 1 fen = ¥0.01), and how
    # many unknown voucher codes one staff member may try before being throttled (and an alert raised).
    POINT_VALUE_FEN = 1
    VOUCHER_SCAN_FAILURE_LIMIT = "10 per 10 minutes"
    # Request bodies: JSON API bodies are small; uploads get the larger limit.
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    MAX_JSON_BYTES = 1024 * 1024
    # Admin console.
    ADMIN_LOGIN_LIMIT = "10 per 15 minutes"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # forced on in production
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    # flask-smorest / OpenAPI.
    API_TITLE = "碳惠泰安 API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "v1/openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/static/vendor/swagger-ui/"  # our own copy, never a CDN
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Enterprise carbon-account statements are signed with Ed25519 (services.statements): the private key, 32
    # bytes in base64. Empty outside production: derived from SECRET_KEY. Public keys of retired signing keys
    # (base64, a JSON list) keep statements signed before a rotation verifiable.
    STATEMENT_SIGNING_KEY = ""
    STATEMENT_RETIRED_KEYS: tuple[str, ...] = ()
    STATEMENT_CHECK_LIMIT = "120 per hour"  # the public check of a statement, per address


def instance_path() -> str:
    """The folder of the default SQLite database and uploads: ``CARBON_INSTANCE_PATH``, else
    ``$XDG_DATA_HOME/carbon-platform`` (``~/.local/share/carbon-platform``).

    One place whatever the current directory and however the package was installed: Flask's own default
    depends on the install (the checkout's ``instance/`` for an editable install, ``<venv>/var/…`` for a
    wheel), so ``make run`` and a ``carbon-platform`` installed another way used two different databases.
    Read when the app is created, never at import time.
    """
    if explicit := os.environ.get("CARBON_INSTANCE_PATH"):
        return os.path.abspath(os.path.expanduser(explicit))
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(os.path.abspath(data_home), "carbon-platform")


def load(app, test_config: dict | None) -> None:
    """Fill ``app.config``: defaults, then the environment, then the test mapping."""
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("CARBON")
    if test_config:
        app.config.update(test_config)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)  # SQLite makes the file, not its folder
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "carbon.db")
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])
    app.config["RATELIMIT_STORAGE_URI"] = (
        app.config["RATELIMIT_STORAGE_URI"] or app.config["REDIS_URL"] or "memory://"
    )
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= 10:
        raise RuntimeError(f"CARBON_TRUSTED_PROXY_HOPS must be a whole number from 0 to 10, not {hops!r}.")
    if app.config["ENV"] == "production":
        check_production(app.config)
        app.config["SESSION_COOKIE_SECURE"] = True


def check_production(config) -> None:
    """Refuse to serve real residents with development settings."""
    key = config.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY or len(key) < 32:
        raise RuntimeError(
            "CARBON_SECRET_KEY must be set to a random value of at least 32 characters in production "
            '(python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )
    if config.get("SMS_SENDER") in ("log", "memory"):
        raise RuntimeError("CARBON_SMS_SENDER must name a real SMS gateway in production.")
    if not config.get("STATEMENT_SIGNING_KEY"):
        raise RuntimeError(
            "CARBON_STATEMENT_SIGNING_KEY must be set in production: the Ed25519 key enterprise statements are "
            "signed with (python -c \"import base64, os; print(base64.b64encode(os.urandom(32)).decode())\").")


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the operator's URL names."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
