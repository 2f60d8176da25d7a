"""Campaign budgets: what a campaign may still pay, locked and spent so that no race can overspend it.

Awarding (``services.earning``) locks the budget rows of the campaigns that may pay an action, reads
what they have spent, and spends through one guarded statement per campaign. Administrators' pauses
and early ends (``campaign_controls``) stop a campaign paying without a new rulebook version.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import sqlalchemy as sa

from carbon_platform.db import insert_ignoring_conflicts
from carbon_platform.extensions import db
from carbon_platform.models import Action, CampaignAward, CampaignBudget, CampaignControl
from points_rules import CampaignStops
from points_rules.rulebook import Campaign

if TYPE_CHECKING:
    from carbon_platform.services.earning import ActionRow

_controls = CampaignControl.__table__.c
#: The controls that stop a campaign paying: a pause, or an early end.
STOPPING = sa.or_(_controls.paused.is_(True), _controls.ended_at.is_not(None))
STOP_COLUMNS = (_controls.campaign_id, _controls.paused, _controls.ended_at)
_STOPS = sa.select(*STOP_COLUMNS).where(STOPPING)


def stops() -> CampaignStops:
    """The administrators' hands on running campaigns (pauses and early ends), read once."""
    return stops_from(db.session.execute(_STOPS))


def stops_from(rows) -> CampaignStops:
    """``CampaignStops`` from rows of ``STOP_COLUMNS``."""
    paused, ended = set(), []
    for campaign_id, is_paused, ended_at in rows:
        if is_paused:
            paused.add(campaign_id)
        elif ended_at is not None:
            ended.append((campaign_id, ended_at))
    return CampaignStops(frozenset(paused), tuple(ended))


_LOCK = (sa.select(CampaignBudget).where(CampaignBudget.campaign_id.in_(sa.bindparam("ids", expanding=True)))
         .order_by(CampaignBudget.campaign_id).with_for_update().execution_options(populate_existing=True))


def lock(campaigns: dict[str, Campaign]) -> dict[str, CampaignBudget]:
    """Lock (creating if needed) the budget rows of the campaigns that may pay, in id order."""
    if not campaigns:
        return {}
    ids = sorted(campaigns)
    db.session.execute(insert_ignoring_conflicts(CampaignBudget.__table__, ["campaign_id"]),
                       [{"campaign_id": i, "budget": campaigns[i].budget_points, "spent": 0} for i in ids])
    rows = {row.campaign_id: row for row in db.session.execute(_LOCK, {"ids": ids}).scalars()}
    for campaign in campaigns.values():
        row = rows[campaign.id]
        if row.budget != campaign.budget_points and campaign.budget_points >= row.spent:
            row.budget = campaign.budget_points  # a new rulebook version changed the budget
    return rows


_INSERT_AWARDS = sa.insert(CampaignAward.__table__)
_budgets = CampaignBudget.__table__
_SPEND = (sa.update(_budgets)
          .where(_budgets.c.campaign_id == sa.bindparam("campaign"),
                 _budgets.c.spent + sa.bindparam("points") <= _budgets.c.budget)
          .values(spent=_budgets.c.spent + sa.bindparam("points")))


def spend(actions: list[ActionRow], paid: list[list[tuple[str, int]]], budgets: dict[str, CampaignBudget]) -> None:
    """Record each qualifying action per campaign, then spend each campaign's total through one guarded
    statement (the engine read the budget under lock, so the guard failing is a bug, not a race)."""
    awards, totals = [], defaultdict(int)
    for action, campaigns in zip(actions, paid, strict=True):
        for campaign_id, points in campaigns:
            awards.append({"campaign_id": campaign_id, "action_id": action.id, "account_id": action.account_id,
                           "points": points, "occurred_at": action.occurred_at})
            totals[campaign_id] += points
    if awards:
        db.session.execute(_INSERT_AWARDS, awards)
    for campaign_id in sorted(totals):
        points = totals[campaign_id]
        if points:
            spent = db.session.execute(_SPEND, {"campaign": campaign_id, "points": points})
            if spent.rowcount != 1:
                raise AssertionError(f"campaign {campaign_id} budget would be overspent")
            db.session.expire(budgets[campaign_id], ["spent"])


def release(action: Action) -> None:
    """Give back the campaign budget an action had been paid or had reserved; it no longer qualifies."""
    table = CampaignBudget.__table__
    for award in db.session.execute(sa.select(CampaignAward).where(CampaignAward.action_id == action.id)).scalars():
        if award.points:
            db.session.execute(sa.update(table).where(table.c.campaign_id == award.campaign_id,
                                                      table.c.spent >= award.points)
                               .values(spent=table.c.spent - award.points))
        db.session.delete(award)
