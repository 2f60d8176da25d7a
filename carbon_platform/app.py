"""The application factory: a table of contents, with no I/O beyond reading configuration."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from carbon_platform import config, db, h5, health, public, sms, throttle
from carbon_platform.extensions import babel, csrf, limiter, migrate
from carbon_platform.extensions import db as sqlalchemy

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=config.instance_path(), instance_relative_config=True)
    config.load(app, test_config)
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        # Trust only as many X-Forwarded-For/-Proto entries as there are proxies of ours (off by default).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    db.init_app(app)
    migrate.init_app(app, sqlalchemy, directory=MIGRATIONS_DIR, compare_type=True)
    limiter.init_app(app)
    throttle.init_app(app)
    csrf.init_app(app)
    sms.init_app(app)
    health.init_app(app)
    h5.init_app(app)
    public.init_app(app)

    from carbon_platform.cli import init_app as init_cli

    init_cli(app)

    # The two web packages plug in last; nothing else in the core imports them.
    import admin
    import mobile_api

    mobile_api.init_app(app)
    admin.init_app(app, babel)
    return app
