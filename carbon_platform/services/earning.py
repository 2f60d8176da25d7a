"""Awarding green actions: usage from the ledger, the rules engine, then the credit, race-free.

``award_action`` is the one path every channel (app self-reports, partner feeds, merchant check-ins)
goes through. In one transaction it:

1. locks the account's row, then its household's (ascending ids: no two awards lock in opposite
   orders), so two concurrent awards to one account cannot both slip under a cap;
2. answers a replayed idempotency key with the action it created (a changed request is a conflict),
   and a fact already credited through any channel (its natural key) as a duplicate;
3. locks the budget rows of the campaigns that could pay, so budgets are read and spent exactly;
4. reads usage for the action's periods from the actions already counted;
5. evaluates with the rulebook in force and stores the action with its receipt;
6. credits the ledger (points pending until the hold ends) and the campaigns' budgets, the latter
   through a guarded statement that can never overspend.

Actions held for review count against caps and budgets at once (the conservative choice); their
points reach the ledger when a reviewer approves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from carbon_platform.clock import as_utc, utc_or_now
from carbon_platform.db import next_ids
from carbon_platform.errors import AccountFrozen, DomainError, IdempotencyConflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    ActionStatus,
    Enterprise,
    Resident,
)
from carbon_platform.services import budgets as campaign_budgets
from carbon_platform.services import holders, ledger, rulebooks, usage
from carbon_platform.services.journal import fingerprint, jsonable, lock_accounts
from points_rules import Facts, Status, evaluate
from points_rules.simulate import Action as UsageAction
from points_rules.simulate import CampaignStops, UsageBook

_STATUS = {Status.CREDITED: ActionStatus.CREDITED, Status.REVIEW: ActionStatus.REVIEW,
           Status.REJECTED: ActionStatus.REJECTED}


@dataclass(frozen=True)
class Context:
    """What a caller awarding in one transaction has already done or read (a partner batch; a self-report,
    which locks while it reads its holder): the account rows it locked, with whether each is frozen, and the
    rulebook and campaign stops as of its ``now``. Without one, award_many locks and reads for itself."""

    rules: rulebooks.InForce
    stops: CampaignStops
    locked: Mapping[int, bool] = field(default_factory=dict)  # account id -> frozen
    # The claims' idempotency keys are new: the caller claimed what they stand for first (a partner
    # batch claims each event), so no action can hold one yet and the replay lookup is skipped.
    keys_are_new: bool = False


@dataclass(frozen=True)
class Claim:
    """One action to award: whose, what and when, and the key that makes reporting it again safe."""

    account_id: int
    account_type: str
    scenario: str
    inputs: dict[str, Any]
    occurred_at: datetime
    idempotency_key: str
    channel: str = "app"
    district: str | None = None
    household_account_id: int | None = None
    fact_id: str | None = None

    @property
    def natural_key(self) -> str | None:
        return f"{self.scenario}:{self.fact_id}" if self.fact_id else None

    def fingerprint(self) -> str:
        return fingerprint({"account": self.account_id, "type": self.account_type, "scenario": self.scenario,
                            "inputs": self.inputs, "occurred_at": self.occurred_at, "channel": self.channel,
                            "district": self.district, "household": self.household_account_id, "fact": self.fact_id})


class ActionRow(NamedTuple):
    """An action as awarding wrote it: what callers answer with, without reading the row back."""

    id: int
    account_id: int
    household_account_id: int | None
    scenario: str
    channel: str
    district: str | None
    occurred_at: datetime
    received_at: datetime
    status: ActionStatus
    reason: str | None
    detail: str | None
    grams: int
    base_points: int
    points: int
    journal_id: int | None


@dataclass(frozen=True)
class Award:
    row: Action | ActionRow  # the action: as written now, or as found (a replay, an already credited fact)
    duplicate_of: Action | ActionRow | None = None  # set when the fact was already credited through another report
    replayed: bool = False

    @property
    def action(self) -> Action:
        """The action as a mapped object (read from the database when the award has only what it wrote)."""
        return self.row if isinstance(self.row, Action) else db.session.get(Action, self.row.id)


def award_action(account_id: int, *, account_type: str, scenario: str, inputs: dict[str, Any], occurred_at: datetime,
                 idempotency_key: str, channel: str = "app", district: str | None = None,
                 household_account_id: int | None = None, fact_id: str | None = None, now: datetime | None = None,
                 context: Context | None = None) -> Award:
    """Award one action (``award_many`` of one); a refusal raises."""
    claim = Claim(account_id, account_type, scenario, inputs, as_utc(occurred_at), idempotency_key, channel, district,
                  household_account_id, fact_id)
    (outcome,) = award_many([claim], now=now, context=context)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def award_many(claims: list[Claim], *, now: datetime | None = None,
               context: Context | None = None) -> list[Award | DomainError]:
    """Award actions in order, as if one after another, with a fixed number of statements per batch.

    Each claim gets an Award, or the DomainError that refused it (nothing of it is written). The
    steps are the module's six, done once for the whole batch: usage is read from the ledger for
    exactly the periods the claims fall in, then kept in memory (a ``UsageBook``) while the claims
    are evaluated in order, so the tenth ride of a day sees the nine before it.
    """
    now = utc_or_now(now)
    outcomes: list[Award | DomainError | None] = [None] * len(claims)
    for i, claim in enumerate(claims):
        key = claim.idempotency_key
        if not isinstance(key, str) or not 1 <= len(key) <= 200:
            outcomes[i] = InvalidInput("idempotency key must be 1 to 200 characters", field="idempotency_key")
    digests = [claim.fingerprint() for claim in claims]

    frozen = dict(context.locked) if context else {}
    wanted = {a for c in claims for a in (c.account_id, c.household_account_id)} - {None} - set(frozen)
    frozen.update(lock_accounts(wanted))
    for i, claim in enumerate(claims):
        if outcomes[i] is None and claim.account_id not in frozen:
            outcomes[i] = NotFound("account not found", account_id=claim.account_id)

    earlier = _earlier(claims, outcomes, digests, context is not None and context.keys_are_new)
    version_id, rulebook = context.rules if context else rulebooks.rules_in_force(now)
    book = UsageBook(rulebook, context.stops if context else campaign_budgets.stops())
    todo = [(i, UsageAction(c.account_id, Facts(c.scenario, c.inputs, c.account_type, as_utc(c.occurred_at),
                                                  channel=c.channel, district=c.district,
                                                  in_household=c.household_account_id is not None, received_at=now,
                                                  fact_id=c.fact_id), c.household_account_id))
            for i, c in enumerate(claims) if outcomes[i] is None and i not in earlier]
    budgets = campaign_budgets.lock({c.id: c for _, action in todo for c in book.targeted(action)})
    usage.seed(book, [action for _, action in todo], budgets)

    rows, credits, paid = [], [], []
    for i, action in todo:
        claim, result = claims[i], evaluate(rulebook, action.facts, book.usage(action))
        credit = None
        if result.status is Status.CREDITED and (result.points or result.grams):
            if frozen[claim.account_id]:
                outcomes[i] = AccountFrozen(account_id=claim.account_id)
                continue
            try:
                credit = ledger.checked_credit(ledger.Credit(
                    claim.account_id, result.points, result.grams, "", claim.scenario, now, result.hold_until,
                    result.expires_at), now)
            except DomainError as exc:
                outcomes[i] = exc
                continue
        book.record(action, result)
        rows.append({
            "account_id": claim.account_id, "household_account_id": claim.household_account_id,
            "scenario": claim.scenario, "channel": claim.channel, "district": claim.district,
            "occurred_at": action.facts.time, "received_at": now, "inputs": jsonable(claim.inputs),
            "natural_key": claim.natural_key, "idempotency_key": claim.idempotency_key, "request_hash": digests[i],
            "status": _STATUS[result.status], "reason": result.reason, "detail": (result.detail or "")[:300] or None,
            "grams": result.grams, "base_points": result.base_points, "points": result.points,
            "rulebook_version_id": version_id, "receipt": result.receipt.as_dict(),
        })
        credits.append(credit)
        counted = result.status is not Status.REJECTED and (result.grams or result.base_points)
        paid.append([(c.id, result.campaign_points.get(c.id, 0)) for c in book.targeted(action)] if counted else [])
        outcomes[i] = len(rows) - 1  # placeholder: the row's position, until it has an id

    actions = _write(rows, credits, now, frozen)
    campaign_budgets.spend(actions, paid, budgets)
    for i, outcome in enumerate(outcomes):
        if type(outcome) is int:
            outcomes[i] = Award(actions[outcome])
    for i, (j, kind) in earlier.items():  # a claim repeating an earlier one in the same batch
        first = outcomes[j]
        if isinstance(first, DomainError):
            outcomes[i] = first
        elif kind == "replay":
            outcomes[i] = IdempotencyConflict(idempotency_key=claims[i].idempotency_key) \
                if digests[i] != digests[j] else Award(first.row, replayed=True)
        else:
            outcomes[i] = Award(first.row, duplicate_of=first.row)
    return outcomes


_actions = Action.__table__
#: Replays are rare: the check reads three columns of the table, and the action only when the key is taken.
_BY_KEY = (sa.select(_actions.c.idempotency_key, _actions.c.request_hash, _actions.c.id)
           .where(_actions.c.idempotency_key.in_(sa.bindparam("keys", expanding=True))))
_BY_FACT = sa.select(Action).where(Action.natural_key.in_(sa.bindparam("facts", expanding=True)))


def _earlier(claims: list[Claim], outcomes: list, digests: list[str], keys_are_new: bool) -> dict[int, tuple[int, str]]:
    """Answer replays and already-credited facts from the database (two queries, and a third to read the
    actions replayed, if any), and find the claims that repeat an earlier claim of the same batch:
    index -> (that claim's index, "replay" or "fact")."""
    live = [i for i, outcome in enumerate(outcomes) if outcome is None]
    keys = set() if keys_are_new else {claims[i].idempotency_key for i in live}
    facts = {claims[i].natural_key for i in live} - {None}
    stored = {key: (request_hash, action_id) for key, request_hash, action_id in db.session.connection().execute(
        _BY_KEY, {"keys": sorted(keys)})} if keys else {}
    replayed = {action.id: action for action in db.session.execute(
        sa.select(Action).where(Action.id.in_([action_id for _hash, action_id in stored.values()]))).scalars()} \
        if stored else {}
    credited = {action.natural_key: action for action in db.session.execute(
        _BY_FACT, {"facts": sorted(facts)}).scalars()} if facts else {}
    first_key, first_fact, earlier = {}, {}, {}
    for i in live:
        claim = claims[i]
        existing = stored.get(claim.idempotency_key)
        if existing is not None:
            request_hash, action_id = existing
            outcomes[i] = IdempotencyConflict(idempotency_key=claim.idempotency_key) \
                if request_hash != digests[i] else Award(replayed[action_id], replayed=True)
        elif claim.idempotency_key in first_key:
            earlier[i] = (first_key[claim.idempotency_key], "replay")
        elif claim.natural_key in credited:
            outcomes[i] = Award(credited[claim.natural_key], duplicate_of=credited[claim.natural_key])
        elif claim.natural_key in first_fact:
            earlier[i] = (first_fact[claim.natural_key], "fact")
        else:
            first_key[claim.idempotency_key] = i
            if claim.natural_key:
                first_fact[claim.natural_key] = i
    return earlier


_INSERT_ACTIONS = sa.insert(Action.__table__)


def _write(rows: list[dict[str, Any]], credits: list, now: datetime, locked: Mapping[int, bool]) -> list[ActionRow]:
    """Write the batch's actions and, for each credited one, its earning: ids first, so each action is
    inserted with its journal (one statement each for actions, journals, lots, entries, balances)."""
    due = []
    for row, action_id, credit in zip(rows, next_ids(Action.__table__, len(rows)), credits, strict=True):
        row["id"], row["journal_id"] = action_id, None
        if credit is not None:
            due.append((row, replace(credit, idempotency_key=f"action:{action_id}",
                                     memo=f"{row['scenario']} action {action_id}")))
    if due:
        journal_ids = ledger.earn_many([credit for _, credit in due], now=now, locked=locked)
        for (row, _credit), journal_id in zip(due, journal_ids, strict=True):
            row["journal_id"] = journal_id
    if rows:
        db.session.connection().execute(_INSERT_ACTIONS, rows)
    return [ActionRow(*(row[name] for name in ActionRow._fields)) for row in rows]


def self_report(holder: Resident | Enterprise, *, scenario: str, inputs: dict[str, Any],
                occurred_at: datetime, client_key: str, reference: str | None = None, now: datetime | None = None,
                rules: rulebooks.AwardingRules | None = None) -> Award:
    """A self-report from the app, by a resident or an enterprise's contact (``holder``; only its ``id`` and
    ``account_id`` are read).

    The holder's account and its household's are locked, and its account type, district and household read,
    in one query; an enterprise reports as account type ``enterprise`` and is in no household. The client's
    Idempotency-Key is scoped to the holder, so two holders' keys never collide. ``rules``: what
    ``rulebooks.awarding_rules`` gave the caller, when it has just read them.
    """
    now = utc_or_now(now)
    found, locked = holders.lock(holder.account_id)
    if found is None:
        raise NotFound("account not found", account_id=holder.account_id)
    account_type, district, household_account_id = found
    return award_action(
        holder.account_id, account_type=account_type, scenario=scenario, inputs=inputs, occurred_at=occurred_at,
        idempotency_key=f"{account_type}:{holder.id}:{client_key}", channel="app", district=district,
        household_account_id=household_account_id, fact_id=reference, now=now,
        context=Context(*(rules or rulebooks.awarding_rules(now)), locked=locked),
    )


def reverse_action(action: Action, *, reason: str, now: datetime | None = None) -> None:
    """Undo an action: its ledger credit is reversed, its campaign budget freed, and its fact released
    (so a correction of the same fact can be credited)."""
    if action.journal_id is not None:
        ledger.reverse(action.journal_id, idempotency_key=f"reverse:action:{action.id}", reason=reason[:200], now=now)
    campaign_budgets.release(action)
    action.status, action.natural_key, action.detail = ActionStatus.REVERSED, None, reason[:300]
