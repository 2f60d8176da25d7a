"""The audit log writer: every administrative action records who did what to which object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
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


def _plain(value: Any) -> Any:
    """A value as JSON holds it: enums by value, times in ISO 8601, decimals as text (never a float)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``before=…, after=…`` of the fields whose value differs, for ``record(…, **changes(old, new))``: the
    audit log shows each as field, before, after. Nothing changed: no keys."""
    old, new = {k: _plain(v) for k, v in before.items()}, {k: _plain(v) for k, v in after.items()}
    differ = [k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]
    if not differ:
        return {}
    return {"before": {k: old.get(k) for k in differ}, "after": {k: new.get(k) for k in differ}}
