"""``/healthz``: is the database reachable, and is its schema at the migrations' head?"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from carbon_platform.extensions import db

bp = Blueprint("health", __name__)


def migration_heads() -> tuple[set[str], set[str]]:
    """(revisions the database is at, revisions the code's migrations end at)."""
    migrate_ext = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate_ext.migrate.get_config(migrate_ext.directory))
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, set(script.get_heads())


@bp.get("/healthz")
def healthz():
    try:
        current, heads = migration_heads()
    except SQLAlchemyError as exc:
        current_app.logger.warning("health check: database unreachable: %s", exc)
        return jsonify(status="unavailable", database="unreachable"), 503
    migrations = "current" if current == heads else "behind"
    body = {
        "status": "ok" if migrations == "current" else "degraded",
        "database": "ok",
        "migrations": migrations,
        "revision": sorted(current),
        "head": sorted(heads),
    }
    return jsonify(body), 200 if migrations == "current" else 503


def init_app(app) -> None:
    app.register_blueprint(bp)
