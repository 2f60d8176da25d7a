"""The audit log writer: every administrative action records who did what to which object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request

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


def record(actor: Actor, action: str, target: Any = None, **details: Any) -> AuditEvent:
    """Stage an audit row in the current transaction, so it commits (or not) with the change itself."""
    target_type = target_id = None
    if target is not None:
        target_type = getattr(target, "__tablename__", type(target).__name__.lower())
        target_id = str(getattr(target, "id", target))
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
