"""Self-reporting green actions, and the resident's actions, receipts and reduction totals."""

from __future__ import annotations

from collections import defaultdict
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
from points_rules import Receipt, Rulebook, period_key, reasons
from points_rules.periods import Period

blp = Blueprint("actions", __name__, url_prefix="/api/v1", description="Green actions and their receipts.")


def action_body(action: Action, *, duplicate: bool = False,
                released: dict[int, datetime] | None = None, rulebook: Rulebook | None = None) -> dict:
    """``released``: release times of a page of actions (``ledger.release_times``); read here if not given.
    ``rulebook``: the one that judged it (looked up only when its words are needed and it is not given)."""
    if released is None:
        released = ledger.release_times([action.journal_id])
    words = None
    if action.status is not ActionStatus.CREDITED:
        words = reasons.explain(action.status.value, action.reason, action.detail, action.scenario,
                                rulebook or _judged_by(action))
    return {"release_at": released.get(action.journal_id) if action.points else None,
            "id": action.id, "scenario": action.scenario, "channel": action.channel, "status": action.status.value,
            "reason": action.reason, "detail": action.detail, "occurred_at": action.occurred_at,
            "received_at": action.received_at, "grams": action.grams, "points": action.points,
            "duplicate": duplicate, "reason_zh": words[0] if words else None, "reason_en": words[1] if words else None}


def _judged_by(action: Action) -> Rulebook | None:
    version_id = getattr(action, "rulebook_version_id", None)
    return rulebooks.compiled_by_id(version_id) if version_id is not None else None


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
    _require_evidence(rules.in_force.rulebook, body["scenario"], body["evidence"])
    for photo_id in body["evidence"]:
        evidence.owned(photo_id, g.account_id)  # someone else's photo: 404, nothing written
    award = earning.self_report(g.holder, scenario=body["scenario"], inputs=body["inputs"],
                                occurred_at=body["occurred_at"], client_key=key,
                                reference=body.get("reference"), rules=rules)
    if body["evidence"] and not award.replayed and award.duplicate_of is None:
        evidence.attach(body["evidence"], g.account_id, award.action.id)
    released = ledger.release_times([award.action.journal_id])  # in this transaction: no second one to answer
    commit()
    return action_body(award.action, duplicate=award.duplicate_of is not None, released=released,
                       rulebook=rules.in_force.rulebook)


#: How many photos each evidence requirement in the rulebook asks for.
PHOTOS_NEEDED = {"none": 0, "photo": 1, "photo_and_certificate": 2}


def _require_evidence(rulebook: Rulebook, scenario_id: str, photo_ids: list[int]) -> None:
    scenario = rulebook.scenarios.get(scenario_id)
    needed = PHOTOS_NEEDED[scenario.evidence] if scenario else 0
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
    return [action_body(a, released=released) for a in rows]


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
    return {**action_body(action), "inputs": action.inputs, "receipt": action.receipt, "evidence": photos,
            "review_note": action.review_note,
            "receipt_text": Receipt.from_dict(action.receipt).render(query["lang"])}


@blp.get("/me/reduction")
@blp.response(200, ReductionRowSchema(many=True))
@blp.doc(security=[BEARER])
@holder_required
def my_reduction():
    """My credited reduction and points by Beijing month and scenario, newest month first."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = db.session.execute(
        sa.select(Action.occurred_at, Action.scenario, Action.grams, Action.points)
        .where(Action.account_id == g.account_id, Action.status == ActionStatus.CREDITED)
    )
    for occurred_at, scenario, grams, points in rows:
        row = totals[(period_key(occurred_at, Period.MONTH), scenario)]
        row[0] += 1
        row[1] += grams
        row[2] += points
    return [{"month": month, "scenario": scenario, "actions": n, "grams": grams, "points": points}
            for (month, scenario), (n, grams, points) in sorted(totals.items(), key=lambda kv: (kv[0][0], kv[0][1]),
                                                                 reverse=True)]
