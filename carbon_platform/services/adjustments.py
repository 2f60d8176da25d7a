"""Manual adjustments under dual control.

Up to CARBON_ADJUSTMENT_DUAL_CONTROL_POINTS either way, an administrator's adjustment applies at once.
Above it, the adjustment waits until a second administrator approves it; the one who asked can never
approve their own request. Every step is audited; applying is an idempotent ledger journal.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from carbon_platform.clock import utcnow
from carbon_platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import AdjustmentRequest, AdjustmentStatus, CarbonAccount
from carbon_platform.services import audit, ledger


def _reason(text: str | None, field: str = "reason") -> str:
    text = (text or "").strip()
    if not 4 <= len(text) <= 500:
        raise InvalidInput("say why, in 4 to 500 characters", code="reason_length", field=field, minimum=4, maximum=500)
    return text


def request(account_id: int, points: int, reason: str, *, actor: audit.Actor) -> AdjustmentRequest:
    """Ask for an adjustment; small ones are applied straight away."""
    if type(points) is not int or points == 0:
        raise InvalidInput("points must be a whole number other than 0", code="adjustment_points", field="points")
    ledger.checked_amount(abs(points))
    if db.session.get(CarbonAccount, account_id) is None:
        raise NotFound("account not found")
    adjustment = AdjustmentRequest(account_id=account_id, points=points, reason=_reason(reason),
                                   status=AdjustmentStatus.PENDING, requested_by_id=actor.id, requested_at=utcnow())
    db.session.add(adjustment)
    db.session.flush()
    audit.record(actor, "adjustment.request", adjustment, account_id=account_id, points=points, reason=reason)
    if abs(points) <= current_app.config["ADJUSTMENT_DUAL_CONTROL_POINTS"]:
        _apply(adjustment, actor)
    return adjustment


def approve(adjustment_id: int, *, actor: audit.Actor) -> AdjustmentRequest:
    adjustment = _pending(adjustment_id)
    if adjustment.requested_by_id == actor.id:
        raise Forbidden("a second administrator must approve this adjustment", code="self_approval")
    _apply(adjustment, actor)
    return adjustment


def reject(adjustment_id: int, *, actor: audit.Actor, note: str) -> AdjustmentRequest:
    adjustment = _pending(adjustment_id)
    adjustment.status, adjustment.decided_by_id, adjustment.decided_at = AdjustmentStatus.REJECTED, actor.id, utcnow()
    adjustment.decision_note = _reason(note, "note")
    audit.record(actor, "adjustment.reject", adjustment, note=adjustment.decision_note)
    return adjustment


def pending():
    return sa.select(AdjustmentRequest).where(AdjustmentRequest.status == AdjustmentStatus.PENDING).order_by(
        AdjustmentRequest.requested_at)


def _pending(adjustment_id: int) -> AdjustmentRequest:
    adjustment = db.session.execute(
        sa.select(AdjustmentRequest).where(AdjustmentRequest.id == adjustment_id).with_for_update()
    ).scalar_one_or_none()
    if adjustment is None:
        raise NotFound("adjustment not found")
    if adjustment.status is not AdjustmentStatus.PENDING:
        raise Conflict(f"this adjustment is {adjustment.status.value}", code="already_decided")
    return adjustment


def _apply(adjustment: AdjustmentRequest, actor: audit.Actor) -> None:
    journal = ledger.adjust(adjustment.account_id, points=adjustment.points, reason=adjustment.reason,
                            idempotency_key=f"adjustment:{adjustment.id}")
    adjustment.status, adjustment.journal_id = AdjustmentStatus.APPLIED, journal.id
    adjustment.decided_by_id, adjustment.decided_at = actor.id, utcnow()
    audit.record(actor, "adjustment.apply", adjustment, journal_id=journal.id, points=adjustment.points)
