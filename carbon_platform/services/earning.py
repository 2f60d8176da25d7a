"""Awarding green actions: usage from the ledger, the rules engine, then the credit, race-free.

``award_action`` is the one path every channel (app self-reports, partner feeds, merchant check-ins)
goes through. In one transaction it:

1. locks the account's row, then its household's (ascending ids: no two awards lock in opposite
   orders), so two concurrent awards to one account cannot both slip under a cap;
2. answers a replayed idempotency key with the action it created (a changed request is a conflict),
   and a fact already credited through any channel (its natural key, or the scenario's ``same_fact`` rule:
   an app report of a fact a partner's record credited) as a duplicate; a partner's record of a fact an app
   report credited replaces the report, which is reversed first (``services.same_fact``);
3. locks the budget rows of the campaigns that could pay, so budgets are read and spent exactly;
4. reads usage for the action's periods from the actions already counted;
5. evaluates with the rulebook in force and stores the action with its receipt;
6. credits the ledger (points pending until the hold ends) and the campaigns' budgets, the latter
   through a guarded statement that can never overspend.

Actions held for review count against caps and budgets at once (the conservative choice); their
points reach the ledger when a reviewer approves them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from carbon_platform.clock import as_utc, utc_or_now
from carbon_platform.errors import AccountFrozen, DomainError, IdempotencyConflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    ActionStatus,
    Enterprise,
    Resident,
)
from carbon_platform.services import budgets as campaign_budgets
from carbon_platform.services import holders, ledger, rulebooks, same_fact, usage
from carbon_platform.services.journal import checked_key, fingerprint, jsonable, lock_accounts
from points_rules import Action as UsageAction
from points_rules import CampaignStops, Facts, Status, UsageBook, evaluate

if TYPE_CHECKING:
    from points_rules import Rulebook

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
    photos: int = 0  # evidence photos the report carries (points_rules.trust)

    @property
    def natural_key(self) -> str | None:
        return f"{self.scenario}:{self.fact_id}" if self.fact_id else None

    def fingerprint(self) -> str:
        fields = {"account": self.account_id, "type": self.account_type, "scenario": self.scenario,
                  "inputs": self.inputs, "occurred_at": self.occurred_at, "channel": self.channel,
                  "district": self.district, "household": self.household_account_id, "fact": self.fact_id}
        if self.photos:  # only then: the hashes of claims without photos stay what they were
            fields["photos"] = self.photos
        return fingerprint(fields)


@dataclass(frozen=True)
class Award:
    """What awarding a claim came to: the action (as written now, or as found for a replay or a fact
    already credited through another report)."""

    action: Action
    duplicate_of: Action | None = None  # set when the fact was already credited through another report
    replayed: bool = False
    replaced: Action | None = None  # the app report of the same fact this partner record replaced (reversed)


def award_action(account_id: int, *, account_type: str, scenario: str, inputs: dict[str, Any], occurred_at: datetime,
                 idempotency_key: str, channel: str = "app", district: str | None = None,
                 household_account_id: int | None = None, fact_id: str | None = None, now: datetime | None = None,
                 context: Context | None = None, photos: int = 0) -> Award:
    """Award one action (``award_many`` of one); a refusal raises."""
    claim = Claim(account_id, account_type, scenario, inputs, as_utc(occurred_at), idempotency_key, channel, district,
                  household_account_id, fact_id, photos)
    (outcome,) = award_many([claim], now=now, context=context)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


@dataclass(eq=False)
class _Item:
    """One claim on its way through ``award_many``: what it came to, once known."""

    claim: Claim
    digest: str
    outcome: Award | DomainError | None = None
    # A claim repeating an earlier claim of the same batch is answered as that one was: ``repeats`` is
    # the earlier claim, ``by_key`` whether it repeats its idempotency key (else its fact).
    repeats: _Item | None = None
    by_key: bool = False
    as_counted: UsageAction | None = None  # the claim as the usage book counts it (set before evaluating)
    replaces: Action | None = None  # the app report of the same fact it replaces (reversed before evaluating)


@dataclass(eq=False)
class _Judged:
    """A claim the rules judged: its action's columns, the earning to post for it (if it credits anything),
    and the points each campaign that counted it paid (its budget's share)."""

    item: _Item
    columns: dict[str, Any]
    earning: ledger.Earning | None
    campaign_points: dict[str, int]


def award_many(claims: list[Claim], *, now: datetime | None = None,
               context: Context | None = None) -> list[Award | DomainError]:
    """Award actions in order, as if one after another, with a fixed number of statements per batch.

    Each claim gets an Award, or the DomainError that refused it (nothing of it is written). The
    steps are the module's six, done once for the whole batch: usage is read from the ledger for
    exactly the periods the claims fall in, then kept in memory (a ``UsageBook``) while the claims
    are evaluated in order, so the tenth ride of a day sees the nine before it.
    """
    now = utc_or_now(now)
    items = [_Item(claim, claim.fingerprint()) for claim in claims]
    for item in items:
        try:
            checked_key(item.claim.idempotency_key)
        except InvalidInput as exc:
            item.outcome = exc

    frozen = dict(context.locked) if context else {}
    wanted = {a for c in claims for a in (c.account_id, c.household_account_id)} - {None} - set(frozen)
    frozen.update(lock_accounts(wanted))
    for item in items:
        if item.outcome is None and item.claim.account_id not in frozen:
            item.outcome = NotFound("account not found", account_id=item.claim.account_id)

    _answer_earlier(items, keys_are_new=context is not None and context.keys_are_new)
    version_id, rulebook = context.rules if context else rulebooks.rules_in_force(now)
    book = UsageBook(rulebook, context.stops if context else campaign_budgets.stops())
    todo = _same_facts([item for item in items if item.outcome is None and item.repeats is None], rulebook, frozen,
                       now)
    for item in todo:
        c = item.claim
        item.as_counted = UsageAction(c.account_id, Facts(c.scenario, c.inputs, c.account_type, as_utc(c.occurred_at),
                                                     channel=c.channel, district=c.district,
                                                     in_household=c.household_account_id is not None,
                                                     received_at=now, fact_id=c.fact_id, photos=c.photos),
                                        c.household_account_id)
    budgets = campaign_budgets.lock({c.id: c for item in todo for c in book.targeted(item.as_counted)})
    usage.seed(book, [item.as_counted for item in todo], budgets)

    judged = [j for j in (_judge(item, rulebook, version_id, book, frozen, now) for item in todo) if j is not None]
    actions = _write(judged, now, frozen)
    campaign_budgets.spend({action: j.campaign_points for j, action in zip(judged, actions, strict=True)}, budgets)
    for item in items:
        if item.repeats is not None:
            item.outcome = _as_before(item)
    return [item.outcome for item in items]


def _judge(item: _Item, rulebook: Rulebook, version_id: int, book: UsageBook, frozen: Mapping[int, bool],
           now: datetime) -> _Judged | None:
    """Evaluate one claim against the usage so far; None when it is refused (its outcome then says why, and
    the usage book does not count it)."""
    claim = item.claim
    result = evaluate(rulebook, item.as_counted.facts, book.usage(item.as_counted))
    earning = None
    if result.status is Status.CREDITED and (result.points or result.grams):
        if frozen[claim.account_id]:
            item.outcome = AccountFrozen(account_id=claim.account_id)
            return None
        try:
            # The key and memo name the action, whose id is known once it is written (``_write``).
            earning = ledger.checked_credit(ledger.Credit(claim.account_id, result.points, result.grams, "",
                                                          claim.scenario, now, result.hold_until,
                                                          result.expires_at), now)
        except DomainError as exc:
            item.outcome = exc
            return None
    book.record(item.as_counted, result)
    columns = dict(
        account_id=claim.account_id, household_account_id=claim.household_account_id, scenario=claim.scenario,
        channel=claim.channel, district=claim.district, occurred_at=item.as_counted.facts.time, received_at=now,
        inputs=jsonable(claim.inputs), natural_key=claim.natural_key, idempotency_key=claim.idempotency_key,
        request_hash=item.digest, status=_STATUS[result.status], reason=result.reason,
        detail=(result.detail or "")[:300] or None, grams=result.grams, base_points=result.base_points,
        points=result.points, rulebook_version_id=version_id, receipt=result.receipt.as_dict(), journal_id=None)
    counted = result.status is not Status.REJECTED and (result.grams or result.base_points)
    paid = {c.id: result.campaign_points.get(c.id, 0) for c in book.targeted(item.as_counted)} if counted else {}
    return _Judged(item, columns, earning, paid)


def _same_facts(todo: list[_Item], rulebook: Rulebook, frozen: Mapping[int, bool], now: datetime) -> list[_Item]:
    """The claims still to judge once each fact told by another channel is settled: an app report of a fact a
    partner's record credited is answered as a duplicate of it; a partner's record of a fact an app report
    credited reverses the report first, so that the caps and budgets it is judged under count the fact once.

    A frozen account is not matched (nothing of it is reversed). The report is reversed before the record is
    judged; the record is then written whatever the rules say of it (even rejected: the partner's word on the
    fact stands). No refusal can follow for it: its key and account were checked, its account is not frozen,
    and the credit's amounts and times come from a rulebook that bounds them."""
    matches = same_fact.find([item.claim for item in todo], rulebook, skip={a for a, cold in frozen.items() if cold})
    for item, match in zip(todo, matches, strict=True):
        if match is None:
            continue
        if not match.replaces:
            item.outcome = Award(match.action, duplicate_of=match.action)
            continue
        reverse_action(match.action, reason=same_fact.words(item.claim.channel), now=now)
        match.action.reason = same_fact.REASON
        item.replaces = match.action
    return [item for item in todo if item.outcome is None]


def _as_before(item: _Item) -> Award | DomainError:
    """The answer to a claim that repeats an earlier claim of its batch: that claim's, as a replay (a
    changed request under its key is a conflict) or as a duplicate of its fact."""
    first = item.repeats.outcome
    if isinstance(first, DomainError):
        return first
    if not item.by_key:
        return Award(first.action, duplicate_of=first.action)
    if item.digest != item.repeats.digest:
        return IdempotencyConflict(idempotency_key=item.claim.idempotency_key)
    return Award(first.action, replayed=True)


def _answer_earlier(items: list[_Item], *, keys_are_new: bool) -> None:
    """Answer replays and already-credited facts from the database (a query for each), and point the
    claims that repeat an earlier claim of the same batch at it."""
    live = [item for item in items if item.outcome is None]
    keys = set() if keys_are_new else {item.claim.idempotency_key for item in live}
    facts = {item.claim.natural_key for item in live} - {None}
    replayed = {action.idempotency_key: action for action in db.session.scalars(
        _actions_by("idempotency_key"), {"values": sorted(keys)})} if keys else {}
    credited = {action.natural_key: action for action in db.session.scalars(
        _actions_by("natural_key"), {"values": sorted(facts)})} if facts else {}
    first_key: dict[str, _Item] = {}
    first_fact: dict[str, _Item] = {}
    for item in live:
        claim = item.claim
        if claim.idempotency_key in replayed:
            action = replayed[claim.idempotency_key]
            item.outcome = IdempotencyConflict(idempotency_key=claim.idempotency_key) \
                if action.request_hash != item.digest else Award(action, replayed=True)
        elif claim.idempotency_key in first_key:
            item.repeats, item.by_key = first_key[claim.idempotency_key], True
        elif claim.natural_key in credited:
            item.outcome = Award(credited[claim.natural_key], duplicate_of=credited[claim.natural_key])
        elif claim.natural_key in first_fact:
            item.repeats = first_fact[claim.natural_key]
        else:
            first_key[claim.idempotency_key] = item
            if claim.natural_key:
                first_fact[claim.natural_key] = item


@functools.cache
def _actions_by(column: str) -> sa.Select:
    """The actions whose ``column`` is among the parameter ``values``, built once per process."""
    return sa.select(Action).where(getattr(Action, column).in_(sa.bindparam("values", expanding=True)))


@functools.cache
def _insert_actions() -> sa.Insert:
    """``_write``'s insert, built once per process: the actions written, as models."""
    return sa.insert(Action).returning(Action).execution_options(render_nulls=True)


def _write(judged: list[_Judged], now: datetime, locked: Mapping[int, bool]) -> list[Action]:
    """Write the batch's actions (one insert), post the earnings of the credited ones under keys naming
    their actions (``ledger.earn_many``), and point each of those actions at its journal (one update)."""
    if not judged:
        return []
    # RETURNING's rows come in no promised order: matched back by the unique idempotency key. (Asking for
    # the parameters' order makes SQLite insert one row at a time.)
    written = {action.idempotency_key: action for action in db.session.scalars(
        _insert_actions(), [j.columns for j in judged])}
    actions = [written[j.columns["idempotency_key"]] for j in judged]
    for j, action in zip(judged, actions, strict=True):
        j.item.outcome = Award(action, replaced=j.item.replaces)
        if j.item.replaces is not None:
            j.item.replaces.superseded_by_id = action.id
    due = [(action, j.earning) for j, action in zip(judged, actions, strict=True) if j.earning is not None]
    if due:
        journal_ids = ledger.earn_many(
            [replace(earning, idempotency_key=f"action:{action.id}", memo=f"{action.scenario} action {action.id}")
             for action, earning in due], now=now, locked=locked)
        for (action, _earning), journal_id in zip(due, journal_ids, strict=True):
            action.journal_id = journal_id
        db.session.flush()
    return actions


def self_report(holder: Resident | Enterprise, *, scenario: str, inputs: dict[str, Any],
                occurred_at: datetime, client_key: str, reference: str | None = None, now: datetime | None = None,
                rules: rulebooks.AwardingRules | None = None, photos: int = 0) -> Award:
    """A self-report from the app, by a resident or an enterprise's contact (``holder``; only its ``id`` and
    ``account_id`` are read). ``photos``: how many evidence photos the report carries, for its trust rule.

    The holder's account and its household's are locked, and its account type, district and household read,
    in one query; an enterprise reports as account type ``enterprise`` and is in no household. The client's
    Idempotency-Key is scoped to the holder, so two holders' keys never collide. ``rules``: what
    ``rulebooks.awarding_rules`` gave the caller, when it has just read them.
    """
    now = utc_or_now(now)
    locked = holders.lock(holder.account_id)
    found = locked.holder
    if found is None:
        raise NotFound("account not found", account_id=holder.account_id)
    return award_action(
        holder.account_id, account_type=found.account_type, scenario=scenario, inputs=inputs,
        occurred_at=occurred_at, idempotency_key=f"{found.account_type}:{holder.id}:{client_key}", channel="app",
        district=found.district, household_account_id=found.household_account_id, fact_id=reference, now=now,
        photos=photos, context=Context(*(rules or rulebooks.awarding_rules(now)), locked=locked.frozen),
    )


def reverse_action(action: Action, *, reason: str, now: datetime | None = None) -> None:
    """Undo an action: its ledger credit is reversed, its campaign budget freed, and its fact released
    (so a correction of the same fact can be credited)."""
    if action.journal_id is not None:
        ledger.reverse(action.journal_id, idempotency_key=f"reverse:action:{action.id}", reason=reason[:200], now=now)
    campaign_budgets.release(action)
    action.status, action.natural_key, action.detail = ActionStatus.REVERSED, None, reason[:300]
