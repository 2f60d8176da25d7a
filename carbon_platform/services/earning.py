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

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from carbon_platform.clock import as_utc, utcnow
from carbon_platform.db import city_date, insert_ignoring_conflicts, next_ids
from carbon_platform.errors import AccountFrozen, DomainError, IdempotencyConflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import (
    COUNTED,
    Action,
    ActionStatus,
    CampaignAward,
    CampaignBudget,
    CampaignControl,
    CarbonAccount,
    District,
    Enterprise,
    Household,
    HouseholdMembership,
    Resident,
)
from carbon_platform.services import ledger, rulebooks
from carbon_platform.services.journal import fingerprint, jsonable, lock_accounts
from points_rules import Facts, Period, Status, Totals, evaluate, period_bounds
from points_rules.rulebook import Campaign
from points_rules.simulate import Action as UsageAction
from points_rules.simulate import CampaignStops, UsageBook

_STATUS = {Status.CREDITED: ActionStatus.CREDITED, Status.REVIEW: ActionStatus.REVIEW,
           Status.REJECTED: ActionStatus.REJECTED}


_controls = CampaignControl.__table__.c
_STOPS = sa.select(_controls.campaign_id, _controls.paused, _controls.ended_at).where(
    sa.or_(_controls.paused.is_(True), _controls.ended_at.is_not(None)))


def campaign_stops() -> CampaignStops:
    """The administrators' hands on running campaigns (pauses and early ends), read once."""
    rows = db.session.execute(_STOPS)
    paused, ended = set(), []
    for campaign_id, is_paused, ended_at in rows:
        if is_paused:
            paused.add(campaign_id)
        elif ended_at is not None:
            ended.append((campaign_id, ended_at))
    return CampaignStops(frozenset(paused), tuple(ended))


def stopped_campaigns(at: datetime) -> frozenset[str]:
    """Campaigns an administrator paused, or ended before ``at``: they pay nothing, whatever their window."""
    return campaign_stops().at(as_utc(at))


@dataclass(frozen=True)
class Context:
    """What a caller awarding many actions in one transaction (a partner batch) has already done or read:
    the account rows it locked, with whether each is frozen, and the rulebook and campaign stops as of
    its ``now``. Without one, award_many locks and reads for itself."""

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
                 context: Context | None = None, rules: rulebooks.InForce | None = None) -> Award:
    """Award one action (``award_many`` of one); a refusal raises."""
    claim = Claim(account_id, account_type, scenario, inputs, as_utc(occurred_at), idempotency_key, channel, district,
                  household_account_id, fact_id)
    (outcome,) = award_many([claim], now=now, context=context, rules=rules)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def award_many(claims: list[Claim], *, now: datetime | None = None, context: Context | None = None,
               rules: rulebooks.InForce | None = None) -> list[Award | DomainError]:
    """Award actions in order, as if one after another, with a fixed number of statements per batch.

    Each claim gets an Award, or the DomainError that refused it (nothing of it is written). The
    steps are the module's six, done once for the whole batch: usage is read from the ledger for
    exactly the periods the claims fall in, then kept in memory (a ``UsageBook``) while the claims
    are evaluated in order, so the tenth ride of a day sees the nine before it. ``rules``: the
    version in force, when the caller has just read it.
    """
    now = utcnow() if now is None else as_utc(now)
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
    version_id, rulebook = context.rules if context else rules or rulebooks.rules_in_force(now)
    book = UsageBook(rulebook, context.stops if context else campaign_stops())
    todo = [(i, UsageAction(c.account_id, Facts(c.scenario, c.inputs, c.account_type, as_utc(c.occurred_at),
                                                  channel=c.channel, district=c.district,
                                                  in_household=c.household_account_id is not None, received_at=now,
                                                  fact_id=c.fact_id), c.household_account_id))
            for i, c in enumerate(claims) if outcomes[i] is None and i not in earlier]
    budgets = _lock_budgets({c.id: c for _, action in todo for c in book.targeted(action)})
    _seed(book, [action for _, action in todo], budgets)

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
    _spend_budgets(actions, paid, budgets)
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


_BY_KEY = sa.select(Action).where(Action.idempotency_key.in_(sa.bindparam("keys", expanding=True)))
_BY_FACT = sa.select(Action).where(Action.natural_key.in_(sa.bindparam("facts", expanding=True)))


def _earlier(claims: list[Claim], outcomes: list, digests: list[str], keys_are_new: bool) -> dict[int, tuple[int, str]]:
    """Answer replays and already-credited facts from the database (two queries), and find the claims
    that repeat an earlier claim of the same batch: index -> (that claim's index, "replay" or "fact")."""
    live = [i for i, outcome in enumerate(outcomes) if outcome is None]
    keys = set() if keys_are_new else {claims[i].idempotency_key for i in live}
    facts = {claims[i].natural_key for i in live} - {None}
    stored = {action.idempotency_key: action for action in db.session.execute(
        _BY_KEY, {"keys": sorted(keys)}).scalars()} if keys else {}
    credited = {action.natural_key: action for action in db.session.execute(
        _BY_FACT, {"facts": sorted(facts)}).scalars()} if facts else {}
    first_key, first_fact, earlier = {}, {}, {}
    for i in live:
        claim = claims[i]
        existing = stored.get(claim.idempotency_key)
        if existing is not None:
            outcomes[i] = IdempotencyConflict(idempotency_key=claim.idempotency_key) \
                if existing.request_hash != digests[i] else Award(existing, replayed=True)
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


def _lock_budgets(campaigns: dict[str, Campaign]) -> dict[str, CampaignBudget]:
    """Lock (creating if needed) the budget rows of the campaigns that may pay, in id order."""
    if not campaigns:
        return {}
    ids = sorted(campaigns)
    db.session.execute(insert_ignoring_conflicts(CampaignBudget, ["campaign_id"]).values(
        [{"campaign_id": i, "budget": campaigns[i].budget_points, "spent": 0} for i in ids]))
    rows = {
        row.campaign_id: row
        for row in db.session.execute(
            sa.select(CampaignBudget).where(CampaignBudget.campaign_id.in_(ids)).order_by(CampaignBudget.campaign_id)
            .with_for_update().execution_options(populate_existing=True)
        ).scalars()
    }
    for campaign in campaigns.values():
        row = rows[campaign.id]
        if row.budget != campaign.budget_points and campaign.budget_points >= row.spent:
            row.budget = campaign.budget_points  # a new rulebook version changed the budget
    return rows


def _seed(book: UsageBook, actions: list[UsageAction], budgets: dict[str, CampaignBudget]) -> None:
    """Fill the book with what the ledger has counted for exactly the entries these actions will read:
    one grouped query per kind of entry and period, whatever the number of accounts. Daily caps are
    read for all the batch's days at once (a feed often sends a few days of rides)."""
    wanted: dict[tuple, set] = defaultdict(set)  # (book, scenario or campaign, period, period key) -> owners
    moments: dict[tuple, datetime] = {}
    for action in actions:
        for name, key, per in book.reads(action):
            if name == "campaign_spent":
                continue
            group = _group(name, key, per)
            wanted[group].add(key)
            moments[group] = action.facts.time
    for campaign_id, row in budgets.items():
        book.campaign_spent[campaign_id] = row.spent
    days: dict[tuple[str, str], list] = {}  # (book, scenario) -> [owners, first day's start, last day's end]
    for group in [g for g in wanted if g[0] in ("account", "household") and g[2] is Period.DAY]:
        start, end = period_bounds(moments[group], Period.DAY)
        span = days.setdefault(group[:2], [set(), start, end])
        span[0] |= {key[0] for key in wanted.pop(group)}
        span[1], span[2] = min(span[1], start), max(span[2], end)
    for (name, subject), (owners, start, end) in days.items():
        target = book.account if name == "account" else book.household
        for owner, day, count, grams, points in db.session.execute(
                _USAGE[f"{name}_days"], {"owners": sorted(owners), "subject": subject, "start": start, "end": end}):
            target[(owner, subject, day)] = Totals(int(count), int(grams), int(points))
    for group, keys in wanted.items():
        name, subject, per, period = group
        start, end = period_bounds(moments[group], per)
        params = {"subject": subject, "start": start, "end": end or _END_OF_TIME}
        if name in ("account", "household"):
            params["owners"] = sorted({key[0] for key in keys})
            target = book.account if name == "account" else book.household
            for owner, count, grams, points in db.session.execute(_USAGE[name], params):
                target[(owner, subject, period)] = Totals(int(count), int(grams), int(points))
        elif name == "year_points":
            params["owners"] = sorted({key[0] for key in keys})
            for owner, points in db.session.execute(_USAGE[name], params):
                book.year_points[(owner, period)] = int(points)
        else:  # the campaign's own rows: all of them ("participant"), or the current period's ("streaks")
            params["owners"] = sorted({key[1] for key in keys})
            for owner, count, points in db.session.execute(_USAGE[name], params):
                if name == "participant":
                    book.participant_actions[(subject, owner)] = int(count)
                    book.participant_points[(subject, owner)] = int(points)
                else:
                    book.streaks[(subject, owner, per, period)] = int(count)


def _usage_statements() -> dict[str, sa.Select]:
    """The seeding queries, built once: each groups one kind of usage by owner, for a set of owners."""
    owners, subject = sa.bindparam("owners", expanding=True), sa.bindparam("subject")
    start, end = sa.bindparam("start"), sa.bindparam("end")
    actions, awards = Action.__table__.c, CampaignAward.__table__.c
    counted = (actions.status.in_(COUNTED), actions.occurred_at >= start, actions.occurred_at < end)
    statements = {
        name: sa.select(column, sa.func.count(), sa.func.sum(actions.grams), sa.func.sum(actions.base_points))
        .where(column.in_(owners), actions.scenario == subject, *counted).group_by(column)
        for name, column in (("account", actions.account_id), ("household", actions.household_account_id))
    }
    for name, column in (("account", actions.account_id), ("household", actions.household_account_id)):
        day = city_date(actions.occurred_at)  # the same text as period_key(…, Period.DAY)
        statements[f"{name}_days"] = (
            sa.select(column, day, sa.func.count(), sa.func.sum(actions.grams), sa.func.sum(actions.base_points))
            .where(column.in_(owners), actions.scenario == subject, *counted).group_by(column, day))
    statements["year_points"] = (sa.select(actions.account_id, sa.func.sum(actions.points))
                                 .where(actions.account_id.in_(owners), *counted).group_by(actions.account_id))
    mine = (awards.campaign_id == subject, awards.account_id.in_(owners))
    statements["participant"] = (sa.select(awards.account_id, sa.func.count(), sa.func.sum(awards.points))
                                 .where(*mine).group_by(awards.account_id))
    statements["streaks"] = (sa.select(awards.account_id, sa.func.count(), sa.func.sum(awards.points))
                             .where(*mine, awards.occurred_at >= start, awards.occurred_at < end)
                             .group_by(awards.account_id))
    return statements


_USAGE = _usage_statements()
_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)  # the end of the period "ever"


def _group(name: str, key: tuple, per: Period) -> tuple:
    """The query that answers an entry: its book, scenario or campaign, period and period key."""
    if name in ("account", "household"):
        return name, key[1], per, key[2]
    if name == "year_points":
        return name, None, per, key[1]
    if name == "participant":
        return name, key[0], per, None
    return name, key[0], per, key[3]  # streaks


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
        db.session.execute(_INSERT_ACTIONS, rows)
    return [ActionRow(*(row[name] for name in ActionRow._fields)) for row in rows]


def _spend_budgets(actions: list[ActionRow], paid: list[list[tuple[str, int]]],
                   budgets: dict[str, CampaignBudget]) -> None:
    """Record each qualifying action per campaign, then spend each campaign's total through one guarded
    statement (the engine read the budget under lock, so the guard failing is a bug, not a race)."""
    awards, totals = [], defaultdict(int)
    for action, campaigns in zip(actions, paid, strict=True):
        for campaign_id, points in campaigns:
            awards.append({"campaign_id": campaign_id, "action_id": action.id, "account_id": action.account_id,
                           "points": points, "occurred_at": action.occurred_at})
            totals[campaign_id] += points
    if awards:
        db.session.execute(sa.insert(CampaignAward.__table__), awards)
    table = CampaignBudget.__table__
    for campaign_id in sorted(totals):
        points = totals[campaign_id]
        if points:
            spent = db.session.execute(
                sa.update(table).where(table.c.campaign_id == campaign_id, table.c.spent + points <= table.c.budget)
                .values(spent=table.c.spent + points))
            if spent.rowcount != 1:
                raise AssertionError(f"campaign {campaign_id} budget would be overspent")
            db.session.expire(budgets[campaign_id], ["spent"])


def self_report(holder: Resident | Enterprise, *, scenario: str, inputs: dict[str, Any], occurred_at: datetime,
                client_key: str, reference: str | None = None, now: datetime | None = None,
                rules: rulebooks.InForce | None = None) -> Award:
    """A self-report from the app, by a resident or an enterprise's contact.

    Account type, district and household come from the holder's profile (one query); an enterprise
    reports as account type ``enterprise`` and is in no household. The client's Idempotency-Key is
    scoped to the holder, so two holders' keys never collide.
    """
    account_type, district, household_account_id = holder_contexts({holder.account_id})[holder.account_id]
    return award_action(
        holder.account_id, account_type=account_type, scenario=scenario, inputs=inputs, occurred_at=occurred_at,
        idempotency_key=f"{account_type}:{holder.id}:{client_key}", channel="app", district=district,
        household_account_id=household_account_id, fact_id=reference, now=now, rules=rules,
    )


def holder_contexts(account_ids: set[int]) -> dict[int, tuple[str, str | None, int | None]]:
    """(account type, district code, household account id) of whoever holds each account, in one query."""
    if not account_ids:
        return {}
    return {account_id: (kind.value, district, household) for account_id, kind, district, household
            in db.session.execute(_HOLDERS, {"ids": sorted(account_ids)})}


def _holders_statement() -> sa.Select:
    accounts = CarbonAccount.__table__.c
    resident, household, enterprise = Resident.__table__, Household.__table__, Enterprise.__table__
    membership, theirs = HouseholdMembership.__table__, Household.__table__.alias("theirs")
    district = District.__table__
    return (
        sa.select(accounts.id, accounts.kind, district.c.code, theirs.c.account_id)
        .select_from(CarbonAccount.__table__)
        .outerjoin(resident, resident.c.account_id == accounts.id)
        .outerjoin(household, household.c.account_id == accounts.id)
        .outerjoin(enterprise, enterprise.c.account_id == accounts.id)
        .outerjoin(district, district.c.id == sa.func.coalesce(resident.c.district_id, household.c.district_id,
                                                               enterprise.c.district_id))
        .outerjoin(membership, membership.c.resident_id == resident.c.id)
        .outerjoin(theirs, theirs.c.id == membership.c.household_id)
        .where(accounts.id.in_(sa.bindparam("ids", expanding=True)))
    )


_HOLDERS = _holders_statement()


def release_campaign_awards(action: Action) -> None:
    """Give back the campaign budget an action had been paid or had reserved; it no longer qualifies."""
    table = CampaignBudget.__table__
    for award in db.session.execute(sa.select(CampaignAward).where(CampaignAward.action_id == action.id)).scalars():
        if award.points:
            db.session.execute(sa.update(table).where(table.c.campaign_id == award.campaign_id,
                                                      table.c.spent >= award.points)
                               .values(spent=table.c.spent - award.points))
        db.session.delete(award)


def reverse_action(action: Action, *, reason: str, now: datetime | None = None) -> None:
    """Undo an action: its ledger credit is reversed, its campaign budget freed, and its fact released
    (so a correction of the same fact can be credited)."""
    if action.journal_id is not None:
        ledger.reverse(action.journal_id, idempotency_key=f"reverse:action:{action.id}", reason=reason[:200], now=now)
    release_campaign_awards(action)
    action.status, action.natural_key, action.detail = ActionStatus.REVERSED, None, reason[:300]
