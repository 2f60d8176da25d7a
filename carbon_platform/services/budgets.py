"""Campaign budgets: what a campaign may still pay, locked and spent so that no race can overspend it.

Awarding (``services.earning``) locks the budget rows of the campaigns that may pay an action, reads
what they have spent, and spends through one guarded statement per campaign. Administrators' pauses
and early ends (``campaign_controls``) stop a campaign paying without a new rulebook version.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping

import sqlalchemy as sa

from carbon_platform.db import insert_ignoring_conflicts
from carbon_platform.extensions import db
from carbon_platform.models import Action, CampaignAward, CampaignBudget, CampaignControl
from carbon_platform.services.journal import insert_rows
from points_rules import CampaignStops
from points_rules.rulebook import Campaign


def stops() -> CampaignStops:
    """The administrators' hands on running campaigns (pauses and early ends), read once."""
    paused, ended = set(), []
    for control in db.session.scalars(_stopped()):
        if control.paused:
            paused.add(control.campaign_id)
        else:
            ended.append((control.campaign_id, control.ended_at))
    return CampaignStops(frozenset(paused), tuple(ended))


@functools.cache
def _stopped() -> sa.Select:
    """``stops``' statement, built once per process (every award reads it)."""
    return sa.select(CampaignControl).where(sa.or_(CampaignControl.paused.is_(True),
                                                   CampaignControl.ended_at.is_not(None)))


def lock(campaigns: dict[str, Campaign]) -> dict[str, CampaignBudget]:
    """Lock (creating if needed) the budget rows of the campaigns that may pay, in id order."""
    if not campaigns:
        return {}
    ids = sorted(campaigns)
    db.session.execute(insert_ignoring_conflicts(CampaignBudget, ["campaign_id"]),
                       [{"campaign_id": i, "budget": campaigns[i].budget_points, "spent": 0} for i in ids])
    rows = {row.campaign_id: row for row in db.session.scalars(
        sa.select(CampaignBudget).where(CampaignBudget.campaign_id.in_(ids)).order_by(CampaignBudget.campaign_id)
        .with_for_update().execution_options(populate_existing=True))}
    for campaign in campaigns.values():
        row = rows[campaign.id]
        if row.budget != campaign.budget_points and campaign.budget_points >= row.spent:
            row.budget = campaign.budget_points  # a new rulebook version changed the budget
    return rows


def spend(paid: Mapping[Action, dict[str, int]], budgets: dict[str, CampaignBudget]) -> None:
    """Record each qualifying action per campaign (``paid``: action -> campaign id -> points), then spend
    each campaign's total through one guarded statement (the engine read the budget under lock, so the
    guard failing is a bug, not a race)."""
    awards, totals = [], defaultdict(int)
    for action, campaigns in paid.items():
        for campaign_id, points in campaigns.items():
            awards.append({"campaign_id": campaign_id, "action_id": action.id, "account_id": action.account_id,
                           "points": points, "occurred_at": action.occurred_at})
            totals[campaign_id] += points
    if awards:
        insert_rows(CampaignAward, awards)
    for campaign_id in sorted(totals):
        points = totals[campaign_id]
        if points:
            spent = db.session.execute(
                sa.update(CampaignBudget)
                .where(CampaignBudget.campaign_id == campaign_id,
                       CampaignBudget.spent + points <= CampaignBudget.budget)
                .values(spent=CampaignBudget.spent + points)
                .execution_options(synchronize_session=False))
            if spent.rowcount != 1:
                raise AssertionError(f"campaign {campaign_id} budget would be overspent")
            db.session.expire(budgets[campaign_id], ["spent"])


def release(action: Action) -> None:
    """Give back the campaign budget an action had been paid or had reserved; it no longer qualifies."""
    for award in db.session.scalars(sa.select(CampaignAward).where(CampaignAward.action_id == action.id)):
        if award.points:
            db.session.execute(sa.update(CampaignBudget)
                               .where(CampaignBudget.campaign_id == award.campaign_id,
                                      CampaignBudget.spent >= award.points)
                               .values(spent=CampaignBudget.spent - award.points)
                               .execution_options(synchronize_session=False))
        db.session.delete(award)
