"""Self-reporting green actions, and the resident's actions, receipts and reduction totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import g

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.errors import InvalidInput, NotFound
from carbon_platform.extensions import db, limiter
from carbon_platform.models import Action, ActionStatus, Evidence
from carbon_platform.services import earning, evidence, ledger, rulebooks
from mobile_api import idempotency
from mobile_api.auth import BEARER, holder_required
from mobile_api.blueprint import Blueprint
from mobile_api.paging import page
from mobile_api.schemas.actions import (
    ActionDetailSchema,
    ActionQuerySchema,
    ActionReportSchema,
    ActionSchema,
    ReceiptQuerySchema,
    ReductionRowSchema,
)
from mobile_api.schemas.common import Shown
from points_rules import Receipt, Rulebook, period_key
from points_rules.periods import Period

blp = Blueprint("actions", __name__, url_prefix="/api/v1", description="Green actions and their receipts.")


def shown(action: Action, released: dict[int, datetime], **extra) -> Shown:
    """The action with its release time, from ``released`` (``ledger.release_times`` of its page)."""
    return Shown(action, release_at=released.get(action.journal_id) if action.points else None, **extra)


@blp.post("/actions")
@blp.arguments(ActionReportSchema)
@blp.response(201, ActionSchema)
@blp.doc(security=[BEARER], parameters=[idempotency.PARAMETER])
@holder_required
@limiter.limit("120 per hour", key_func=lambda: f"report:{g.account_id}")  # inside: the account is known
def report(body):
    """Report a green action. The rules decide at once: credited, held for review, or not credited (with why).

    Send an ``Idempotency-Key`` header: a retry with the same key returns the same action; the same key
    with a different body is refused (409).
    """
    key = idempotency.idempotency_key()
    rules = rulebooks.awarding_rules(utcnow())
    photos = list(dict.fromkeys(body["evidence"]))  # one photo sent twice is one photo
    for photo_id in photos:
        evidence.owned(photo_id, g.account_id)  # someone else's photo: 404, nothing written
    _require_evidence(rules.in_force.rulebook, body["scenario"], photos)
    award = earning.self_report(g.holder, scenario=body["scenario"], inputs=body["inputs"],
                                occurred_at=body["occurred_at"], client_key=key,
                                reference=body.get("reference"), rules=rules, photos=len(photos))
    if body["evidence"] and not award.replayed and award.duplicate_of is None:
        evidence.attach(body["evidence"], g.account_id, award.action.id)
    released = ledger.release_times([award.action.journal_id])  # in this transaction: no second one to answer
    commit()
    return shown(award.action, released, duplicate=award.duplicate_of is not None, rulebook=rules.in_force.rulebook)


def _require_evidence(rulebook: Rulebook, scenario_id: str, photo_ids: list[int]) -> None:
    """Refuse, before anything is written, a report without the photos its app channel asks for (the catalogue's
    ``trust``). The engine refuses the same report (``evidence_missing``); this says so as a 422 instead."""
    scenario = rulebook.scenarios.get(scenario_id)
    needed = scenario.trust_for("app").photos if scenario else 0
    if len(photo_ids) < needed:
        raise InvalidInput(f"{scenario_id} needs {needed} photo(s): upload to /api/v1/evidence first",
                           code="evidence_required", needed=needed)


@blp.get("/me/actions")
@blp.arguments(ActionQuerySchema, location="query")
@blp.response(200, ActionSchema(many=True))
@blp.paginate()
@blp.doc(security=[BEARER])
@holder_required
def my_actions(query, pagination_parameters):
    """My actions, newest first, filterable by status and scenario."""
    conditions = [Action.account_id == g.account_id]
    if "status" in query:
        conditions.append(Action.status == ActionStatus(query["status"]))
    if "scenario" in query:
        conditions.append(Action.scenario == query["scenario"])
    rows = page(sa.select(Action).where(*conditions).order_by(Action.occurred_at.desc(), Action.id.desc()),
                pagination_parameters)
    released = ledger.release_times(a.journal_id for a in rows)
    return [shown(a, released) for a in rows]


@blp.get("/me/actions/<bigint:action_id>")
@blp.arguments(ReceiptQuerySchema, location="query")
@blp.response(200, ActionDetailSchema)
@blp.doc(security=[BEARER])
@holder_required
def my_action(query, action_id: int):
    """One of my actions with its receipt (Chinese by default; ``?lang=en`` for English)."""
    action = db.session.get(Action, action_id)
    if action is None or action.account_id != g.account_id:
        raise NotFound("action not found")
    photos = db.session.execute(sa.select(Evidence.id).where(Evidence.action_id == action.id)
                                .order_by(Evidence.id)).scalars().all()
    return shown(action, ledger.release_times([action.journal_id]), evidence=photos,
                 receipt_text=Receipt.from_dict(action.receipt).render(query["lang"]))


@blp.get("/me/reduction")
@blp.response(200, ReductionRowSchema(many=True))
@blp.doc(security=[BEARER])
@holder_required
def my_reduction():
    """My credited reduction and points by Beijing month and scenario, newest month first."""
    rows: dict[tuple[str, str], ReductionRow] = {}
    credited = db.session.execute(
        sa.select(Action.occurred_at, Action.scenario, Action.grams, Action.points)
        .where(Action.account_id == g.account_id, Action.status == ActionStatus.CREDITED)
    )
    for occurred_at, scenario, grams, points in credited:
        month = period_key(occurred_at, Period.MONTH)
        row = rows.setdefault((month, scenario), ReductionRow(month, scenario))
        row.actions += 1
        row.grams += grams
        row.points += points
    return [rows[key] for key in sorted(rows, reverse=True)]


@dataclass(slots=True)
class ReductionRow:
    """One Beijing month's credited actions of one scenario."""

    month: str
    scenario: str
    actions: int = 0
    grams: int = 0
    points: int = 0
