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

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from carbon_platform.clock import as_utc, utcnow
from carbon_platform.db import insert_ignoring_conflicts
from carbon_platform.errors import IdempotencyConflict, InvalidInput
from carbon_platform.extensions import db
from carbon_platform.models import (
    COUNTED,
    Action,
    ActionStatus,
    CampaignAward,
    CampaignBudget,
    CampaignControl,
    Enterprise,
    Resident,
)
from carbon_platform.services import ledger, rulebooks
from carbon_platform.services.journal import fingerprint, jsonable
from points_rules import CampaignUsage, Facts, Period, Rulebook, Status, Totals, Usage, evaluate, period_bounds
from points_rules.rulebook import Campaign, Scenario

_STATUS = {Status.CREDITED: ActionStatus.CREDITED, Status.REVIEW: ActionStatus.REVIEW,
           Status.REJECTED: ActionStatus.REJECTED}


@dataclass(frozen=True)
class Context:
    """What a caller awarding many actions in one transaction (a partner batch) has already done or read:
    the rows it locked (account and household, ascending), and the rulebook and stopped campaigns as of
    its ``now``. Without one, award_action locks and reads for itself."""

    rules: tuple[Any, Rulebook]
    stopped: frozenset[str]
    locked: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Award:
    action: Action
    duplicate_of: Action | None = None  # set when the fact was already credited through another report
    replayed: bool = False


def award_action(
    account_id: int,
    *,
    account_type: str,
    scenario: str,
    inputs: dict[str, Any],
    occurred_at: datetime,
    idempotency_key: str,
    channel: str = "app",
    district: str | None = None,
    household_account_id: int | None = None,
    fact_id: str | None = None,
    now: datetime | None = None,
    context: Context | None = None,
) -> Award:
    now = utcnow() if now is None else as_utc(now)
    occurred_at = as_utc(occurred_at)
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 200:
        raise InvalidInput("idempotency key must be 1 to 200 characters", field="idempotency_key")
    payload = {"account": account_id, "type": account_type, "scenario": scenario, "inputs": inputs,
               "occurred_at": occurred_at, "channel": channel, "district": district,
               "household": household_account_id, "fact": fact_id}
    digest = fingerprint(payload)

    locks = {account_id, household_account_id} - {None}
    if context is None or not locks <= context.locked:
        for locked_id in sorted(locks):
            ledger.lock_account(locked_id)
    existing = db.session.execute(sa.select(Action).where(Action.idempotency_key == idempotency_key)).scalar()
    if existing is not None:
        if existing.request_hash != digest:
            raise IdempotencyConflict(idempotency_key=idempotency_key)
        return Award(existing, replayed=True)
    natural_key = f"{scenario}:{fact_id}" if fact_id else None
    if natural_key:
        first = db.session.execute(sa.select(Action).where(Action.natural_key == natural_key)).scalar()
        if first is not None:
            return Award(first, duplicate_of=first)

    version, rulebook = context.rules if context else rulebooks.in_force(now)
    facts = Facts(scenario, inputs, account_type, occurred_at, channel=channel, district=district,
                  in_household=household_account_id is not None, received_at=now, fact_id=fact_id)
    if not rulebook.campaigns_for.get(scenario):
        stopped = frozenset()
    elif context is not None:
        stopped = context.stopped
    else:
        stopped = stopped_campaigns(facts.time)
    campaigns = _lock_budgets(rulebook, facts, stopped)
    usage = usage_for(account_id, household_account_id, rulebook, facts, campaigns, stopped)
    result = evaluate(rulebook, facts, usage)

    action = Action(
        account_id=account_id, household_account_id=household_account_id, scenario=scenario, channel=channel,
        district=district, occurred_at=occurred_at, received_at=now, inputs=jsonable(inputs),
        natural_key=natural_key, idempotency_key=idempotency_key, request_hash=digest,
        status=_STATUS[result.status], reason=result.reason, detail=(result.detail or "")[:300] or None,
        grams=result.grams, base_points=result.base_points, points=result.points,
        rulebook_version_id=version.id, receipt=result.receipt.as_dict(),
    )
    db.session.add(action)
    db.session.flush()
    if result.status is Status.CREDITED and (result.points or result.grams):
        journal = ledger.earn(account_id, points=result.points, grams=result.grams, scenario=scenario,
                              idempotency_key=f"action:{action.id}", earned_at=now, release_at=result.hold_until,
                              expires_at=result.expires_at, memo=f"{scenario} action {action.id}", now=now,
                              account_locked=True)
        action.journal_id = journal.id
    if result.status is not Status.REJECTED and (result.grams or result.base_points):
        _spend_budgets(action, campaigns, result.campaign_points)
    return Award(action)


def _lock_budgets(rulebook: Rulebook, facts: Facts, stopped: frozenset[str]) -> list[tuple[Campaign, CampaignBudget]]:
    """Lock (creating if needed) the budget rows of campaigns that target this action, in id order."""
    targeted = [c for c in rulebook.campaigns_for.get(facts.scenario, ())
                if c.id not in stopped and c.targets(facts.scenario, facts.district, facts.account_type, facts.time)]
    if not targeted:
        return []
    for campaign in targeted:
        db.session.execute(insert_ignoring_conflicts(CampaignBudget, ["campaign_id"]).values(
            campaign_id=campaign.id, budget=campaign.budget_points, spent=0))
    rows = {
        row.campaign_id: row
        for row in db.session.execute(
            sa.select(CampaignBudget)
            .where(CampaignBudget.campaign_id.in_([c.id for c in targeted]))
            .order_by(CampaignBudget.campaign_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    }
    locked = []
    for campaign in targeted:
        row = rows[campaign.id]
        if row.budget != campaign.budget_points and campaign.budget_points >= row.spent:
            row.budget = campaign.budget_points  # a new rulebook version changed the budget
        locked.append((campaign, row))
    return locked


def usage_for(account_id: int, household_account_id: int | None, rulebook: Rulebook, facts: Facts,
              campaigns: list[tuple[Campaign, CampaignBudget]], stopped: frozenset[str] = frozenset()) -> Usage:
    """What the account (and household) already has counted in the periods containing the action."""
    scenario: Scenario | None = rulebook.scenarios.get(facts.scenario)
    if scenario is None:
        return Usage()
    wanted = {(scenario.id, cap.per, cap.scope) for cap in scenario.caps}
    wanted |= {(other, Period.MONTH, "account") for other in scenario.excludes}
    account, household = {}, {}
    for scenario_id, per, scope in wanted:
        owner = account_id if scope == "account" else household_account_id
        if owner is None:
            continue
        (account if scope == "account" else household)[(scenario_id, per)] = _totals(
            Action.account_id if scope == "account" else Action.household_account_id, owner, scenario_id,
            facts.time, per)
    year_start, year_end = period_bounds(facts.time, Period.YEAR)
    year_points = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Action.points), 0)).where(
            Action.account_id == account_id, Action.status.in_(COUNTED),
            Action.occurred_at >= year_start, Action.occurred_at < year_end)
    ).scalar_one()
    return Usage(account, household, int(year_points),
                 {c.id: _campaign_usage(c, budget, account_id, facts) for c, budget in campaigns}, stopped)


def stopped_campaigns(at: datetime) -> frozenset[str]:
    """Campaigns an administrator paused, or ended before ``at``: they pay nothing, whatever their window."""
    return frozenset(db.session.execute(
        sa.select(CampaignControl.campaign_id).where(
            sa.or_(CampaignControl.paused.is_(True), CampaignControl.ended_at <= at))
    ).scalars())


def _totals(column, owner: int, scenario_id: str, moment: datetime, per: Period) -> Totals:
    start, end = period_bounds(moment, per)
    conditions = [column == owner, Action.scenario == scenario_id, Action.status.in_(COUNTED),
                  Action.occurred_at >= start]
    if end is not None:
        conditions.append(Action.occurred_at < end)
    count, grams, points = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Action.grams), 0),
                  sa.func.coalesce(sa.func.sum(Action.base_points), 0)).where(*conditions)
    ).one()
    return Totals(int(count), int(grams), int(points))


def _campaign_usage(campaign: Campaign, budget: CampaignBudget, account_id: int, facts: Facts) -> CampaignUsage:
    mine = sa.and_(CampaignAward.campaign_id == campaign.id, CampaignAward.account_id == account_id)
    points, actions = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(CampaignAward.points), 0), sa.func.count()).where(mine)
    ).one()
    streaks = {}
    for effect in campaign.effects:
        if effect.per:
            start, end = period_bounds(facts.time, effect.per)
            streaks[effect.per] = db.session.execute(
                sa.select(sa.func.count()).where(mine, CampaignAward.occurred_at >= start,
                                                 CampaignAward.occurred_at < end)
            ).scalar_one()
    return CampaignUsage(budget.spent, int(points), int(actions), streaks)


def _spend_budgets(action: Action, campaigns: list[tuple[Campaign, CampaignBudget]], paid: dict[str, int]) -> None:
    table = CampaignBudget.__table__
    for campaign, _budget in campaigns:
        points = paid.get(campaign.id, 0)
        db.session.add(CampaignAward(campaign_id=campaign.id, action_id=action.id, account_id=action.account_id,
                                     points=points, occurred_at=action.occurred_at))
        if points:
            spent = db.session.execute(
                sa.update(table)
                .where(table.c.campaign_id == campaign.id, table.c.spent + points <= table.c.budget)
                .values(spent=table.c.spent + points)
            )
            if spent.rowcount != 1:  # the engine read the budget under lock: this is a bug, not a race
                raise AssertionError(f"campaign {campaign.id} budget would be overspent")


def self_report(holder: Resident | Enterprise, *, scenario: str, inputs: dict[str, Any], occurred_at: datetime,
                client_key: str, reference: str | None = None, now: datetime | None = None) -> Award:
    """A self-report from the app, by a resident or an enterprise's contact.

    District and household come from the holder's profile; an enterprise reports as account type
    ``enterprise`` and is in no household. The client's Idempotency-Key is scoped to the holder, so
    two holders' keys never collide.
    """
    from carbon_platform.services.households import membership_of

    if isinstance(holder, Enterprise):
        account_type, household_account_id = "enterprise", None
    else:
        membership = membership_of(holder)
        account_type = "resident"
        household_account_id = membership.household.account_id if membership else None
    return award_action(
        holder.account_id, account_type=account_type, scenario=scenario, inputs=inputs, occurred_at=occurred_at,
        idempotency_key=f"{account_type}:{holder.id}:{client_key}", channel="app",
        district=holder.district.code if holder.district else None,
        household_account_id=household_account_id, fact_id=reference, now=now,
    )


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
