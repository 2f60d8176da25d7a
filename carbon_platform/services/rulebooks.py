"""Stored rulebook versions: publishing one, and finding (compiled, cached) the one in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from carbon_platform.errors import Conflict, InvalidInput
from carbon_platform.extensions import db
from carbon_platform.models import RulebookStatus, RulebookVersion
from carbon_platform.services import audit
from points_rules import Rulebook, RulebookError, load_rulebook


class NoRulebookInForce(Conflict):
    code, message = "no_rulebook", "No published rulebook is in force."


_compiled: dict[tuple, Rulebook] = {}


def compiled(version: RulebookVersion) -> Rulebook:
    """The rulebook of a stored version, compiled once per process.

    Published versions never change, so the version's identity is the cache key (with its creation
    time, because a test database reuses ids).
    """
    key = (version.id, version.rulebook, version.version, version.created_at)
    rulebook = _compiled.get(key)
    if rulebook is None:
        if len(_compiled) > 64:
            _compiled.clear()
        rulebook = _compiled[key] = load_rulebook(version.document)
    return rulebook


def publish(document: dict[str, Any], *, effective_from: datetime, actor: audit.Actor) -> RulebookVersion:
    """Validate and store a version that takes effect at ``effective_from`` (now, or scheduled)."""
    try:
        rulebook = load_rulebook(document)
    except RulebookError as exc:
        raise InvalidInput("the rulebook is not valid", errors=exc.describe()) from None
    exists = db.session.execute(
        sa.select(RulebookVersion.id).where(RulebookVersion.rulebook == rulebook.id,
                                            RulebookVersion.version == rulebook.version)
    ).first()
    if exists:
        raise Conflict(f"version {rulebook.version} of {rulebook.id} exists; give the change a new version")
    version = RulebookVersion(rulebook=rulebook.id, version=rulebook.version, document=document,
                              status=RulebookStatus.PUBLISHED, effective_from=effective_from)
    db.session.add(version)
    db.session.flush()
    audit.record(actor, "rulebook.publish", version, rulebook=rulebook.id, version=rulebook.version,
                 effective_from=effective_from.isoformat())
    return version


def in_force(at: datetime) -> tuple[RulebookVersion, Rulebook]:
    """The published version with the latest effective_from not after ``at``."""
    version = db.session.execute(
        sa.select(RulebookVersion)
        .where(RulebookVersion.status == RulebookStatus.PUBLISHED, RulebookVersion.effective_from <= at)
        .order_by(RulebookVersion.effective_from.desc(), RulebookVersion.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if version is None:
        raise NoRulebookInForce()
    return version, compiled(version)
