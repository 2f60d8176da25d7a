"""The review queue: actions held for a reviewer (evidence to check, implausible readings).

Approving credits what the action's receipt computed when it arrived: those points and grams already
counted against caps and budgets, so the decision cannot exceed them. Rejecting frees what it had
reserved in campaign budgets. Every decision is audited; the note is what the resident sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.errors import Conflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus
from carbon_platform.services import audit, ledger, rulebooks
from carbon_platform.services import budgets as campaign_budgets
from points_rules import expiry_for


def _pending(action_id: int) -> Action:
    action = db.session.get(Action, action_id)
    if action is None:
        raise NotFound("action not found")
    ledger.lock_account(action.account_id)  # one decision at a time per account
    db.session.refresh(action)
    if action.status is not ActionStatus.REVIEW:
        raise Conflict(f"this action is {action.status.value}, not waiting for review", code="not_in_review")
    return action


def _note(text: str | None, field: str = "note") -> str:
    text = (text or "").strip()
    if not text or len(text) > 500:
        raise InvalidInput("say why, in at most 500 characters", code="reason_required", field=field)
    return text


def approve(action_id: int, *, actor: audit.Actor, note: str | None = None) -> Action:
    action = _pending(action_id)
    now = utcnow()
    if action.points or action.grams:
        months = rulebooks.compiled_by_id(action.rulebook_version_id).expiry_months
        journal = ledger.earn(action.account_id, points=action.points, grams=action.grams, scenario=action.scenario,
                              idempotency_key=f"action:{action.id}", earned_at=now,
                              expires_at=expiry_for(now, months), now=now,
                              memo=f"{action.scenario} action {action.id} (reviewed)")
        action.journal_id = journal.id  # reviewed: spendable at once, the review was the hold
    action.status, action.reviewed_at, action.reviewed_by_id = ActionStatus.CREDITED, now, actor.id
    action.review_note = (note or "").strip()[:500] or None
    audit.record(actor, "action.approve", action, points=action.points, grams=action.grams)
    return action


def reject(action_id: int, *, actor: audit.Actor, reason: str) -> Action:
    action = _pending(action_id)
    reason = _note(reason, "reason")
    campaign_budgets.release(action)  # a rejected action never qualified
    action.status, action.reason, action.detail = ActionStatus.REJECTED, "rejected_by_reviewer", reason[:300]
    action.reviewed_at, action.reviewed_by_id, action.review_note = utcnow(), actor.id, reason
    audit.record(actor, "action.reject", action, reason=reason)
    return action


def request_evidence(action_id: int, *, actor: audit.Actor, message: str) -> Action:
    action = _pending(action_id)
    action.review_note, action.evidence_requested_at = _note(message, "message"), utcnow()
    audit.record(actor, "action.request_evidence", action, message=action.review_note)
    return action


def queue(*, scenario: str | None = None, reason: str | None = None, district: str | None = None):
    """The waiting actions, oldest first (a select to paginate)."""
    query = sa.select(Action).where(Action.status == ActionStatus.REVIEW)
    if scenario:
        query = query.where(Action.scenario == scenario)
    if reason:
        query = query.where(Action.reason == reason)
    if district:
        query = query.where(Action.district == district)
    return query.order_by(Action.received_at, Action.id)


def waiting_reasons() -> list[str]:
    """The reasons the waiting actions are held for (the queue's reason filter offers these)."""
    return list(db.session.execute(sa.select(Action.reason).distinct().where(
        Action.status == ActionStatus.REVIEW, Action.reason.is_not(None)).order_by(Action.reason)).scalars())


@dataclass(frozen=True)
class History:
    """An account's decided claims: every action no longer waiting for review, and how many were rejected
    (by a reviewer or by the rules)."""

    claims: int = 0
    rejected: int = 0

    @property
    def rejection_rate(self) -> int | None:
        """Rejected claims in whole percent, rounded half up; None before any claim was decided."""
        return (self.rejected * 200 + self.claims) // (self.claims * 2) if self.claims else None


def histories(account_ids: list[int]) -> dict[int, History]:
    """``History`` of each account, in one grouped query for the whole page (not one per row)."""
    if not account_ids:
        return {}
    rejected = sa.func.sum(sa.case((Action.status == ActionStatus.REJECTED, 1), else_=0))
    rows = db.session.execute(
        sa.select(Action.account_id, sa.func.count(), rejected)
        .where(Action.account_id.in_(set(account_ids)), Action.status != ActionStatus.REVIEW)
        .group_by(Action.account_id))
    found = {account_id: History(claims, int(refused or 0)) for account_id, claims, refused in rows}
    return {account_id: found.get(account_id, History()) for account_id in account_ids}


#: Bulk approval is for the routine: at most this many actions at once, each worth at most this much.
BULK_LIMIT, BULK_MAX_POINTS = 50, 500


def _routine(action_ids: list[int]) -> list[int]:
    """The distinct ids, sorted, if they are few enough and each small enough for one decision together."""
    ids = list(dict.fromkeys(action_ids))
    if not ids or len(ids) > BULK_LIMIT:
        raise InvalidInput(f"choose 1 to {BULK_LIMIT} actions", code="bulk_limit", field="action_ids", limit=BULK_LIMIT)
    large = db.session.execute(sa.select(Action.id).where(Action.id.in_(ids), Action.points > BULK_MAX_POINTS)
                               ).scalars().all()
    if large:
        raise InvalidInput(f"actions worth more than {BULK_MAX_POINTS} points are decided one by one",
                           code="bulk_too_large", action_ids=sorted(large), max_points=BULK_MAX_POINTS)
    return sorted(ids)


def approve_many(action_ids: list[int], *, actor: audit.Actor) -> list[Action]:
    """Approve routine actions together; anything larger needs a decision of its own."""
    return [approve(action_id, actor=actor, note="bulk") for action_id in _routine(action_ids)]


def reject_many(action_ids: list[int], *, actor: audit.Actor, reason: str) -> list[Action]:
    """Reject routine actions together, with one reason each resident sees; the same limits as approval
    (a large claim deserves a decision of its own either way)."""
    reason = _note(reason, "reason")  # before the limits: a missing reason is the first thing to say
    return [reject(action_id, actor=actor, reason=reason) for action_id in _routine(action_ids)]
