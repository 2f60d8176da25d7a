"""The audit log writer: every administrative action records who did what to which object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.exc import NoInspectionAvailable

from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts: an administrator, a CLI operator, or the system itself (jobs)."""

    type: str
    id: int | None = None
    name: str = ""

    @classmethod
    def admin(cls, admin) -> Actor:
        return cls("admin", admin.id, admin.username)


SYSTEM = Actor("system", None, "system")
CLI = Actor("cli", None, "cli")


def _identity(target: Any) -> str:
    """A mapped object's primary key (whatever its column is called), else the value itself as text."""
    try:
        key = sa.inspect(target).mapper.primary_key_from_instance(target)
    except NoInspectionAvailable:
        return str(target)
    return ":".join(str(part) for part in key)


def record(actor: Actor, action: str, target: Any = None, **details: Any) -> AuditEvent:
    """Stage an audit row in the current transaction, so it commits (or not) with the change itself."""
    target_type = target_id = None
    if target is not None:
        target_type = getattr(target, "__tablename__", type(target).__name__.lower())
        target_id = _identity(target)[:64]
    event = AuditEvent(
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details={k: v for k, v in details.items() if v is not None},
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
