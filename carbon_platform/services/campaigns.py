"""Campaigns in the console: drafted into a new rulebook version (so what-if and dual control apply),
paused, resumed or ended by hand, and their results.

A campaign *is* part of a rulebook version: creating or changing one makes a draft of the version in
force with that campaign in it. Publishing it is the rulebook's dual control. Pausing, resuming and
ending act at once through ``campaign_controls`` (audited), without a new version.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import city_date
from carbon_platform.errors import Conflict, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Action, CampaignAward, CampaignBudget, CampaignControl, RulebookVersion
from carbon_platform.services import audit, rulebooks
from points_rules import Comparison, Rulebook, load_rulebook
from points_rules.rulebook import Campaign


def current() -> tuple[RulebookVersion, Rulebook]:
    return rulebooks.in_force(utcnow())


def find(campaign_id: str) -> Campaign:
    _version, rulebook = current()
    for campaign in rulebook.campaigns:
        if campaign.id == campaign_id:
            return campaign
    raise NotFound("no campaign with that id in the rulebook in force", campaign_id=campaign_id)


def controls() -> dict[str, CampaignControl]:
    return {c.campaign_id: c for c in db.session.execute(sa.select(CampaignControl)).scalars()}


def state(campaign: Campaign, control: CampaignControl | None, now: datetime | None = None) -> str:
    """scheduled, running, paused, ended (early, by hand) or finished (its window is over)."""
    now = utcnow() if now is None else now
    if control is not None and control.ended_at is not None and control.ended_at <= now:
        return "ended"
    if now >= campaign.ends_at:
        return "finished"
    if control is not None and control.paused:
        return "paused"
    return "scheduled" if now < campaign.starts_at else "running"


def spent() -> dict[str, int]:
    return dict(db.session.execute(sa.select(CampaignBudget.campaign_id, CampaignBudget.spent)).all())


def _control(campaign_id: str, admin_id: int | None) -> CampaignControl:
    control = db.session.get(CampaignControl, campaign_id, with_for_update=True)
    if control is None:
        control = CampaignControl(campaign_id=campaign_id, paused=False, updated_at=utcnow())
        db.session.add(control)
    control.updated_at, control.updated_by_id = utcnow(), admin_id
    return control


def pause(campaign_id: str, *, admin_id: int | None, actor: audit.Actor) -> CampaignControl:
    return _set_paused(campaign_id, True, admin_id=admin_id, actor=actor)


def resume(campaign_id: str, *, admin_id: int | None, actor: audit.Actor) -> CampaignControl:
    return _set_paused(campaign_id, False, admin_id=admin_id, actor=actor)


def _set_paused(campaign_id: str, paused: bool, *, admin_id: int | None, actor: audit.Actor) -> CampaignControl:
    campaign = find(campaign_id)
    if state(campaign, db.session.get(CampaignControl, campaign_id)) in ("ended", "finished"):
        raise Conflict("this campaign is over", code="campaign_over")
    control = _control(campaign_id, admin_id)
    control.paused = paused
    audit.record(actor, "campaign.pause" if paused else "campaign.resume", control)
    return control


def end(campaign_id: str, *, admin_id: int | None, actor: audit.Actor) -> CampaignControl:
    """End now: actions from this moment on earn nothing from it (earlier ones still may)."""
    find(campaign_id)
    control = _control(campaign_id, admin_id)
    control.ended_at = control.ended_at or utcnow()
    audit.record(actor, "campaign.end", control, ended_at=control.ended_at.isoformat())
    return control


def draft_with(campaign: dict[str, Any], *, admin_id: int, actor: audit.Actor, note: str = "") -> RulebookVersion:
    """A draft of the latest published version (the one in force, unless a later one is scheduled) with
    ``campaign`` added (or replacing the one with its id). Built on the latest so approving it undoes
    nothing (``rulebooks.check_base``)."""
    version = rulebooks.latest_published() or current()[0]
    document = copy.deepcopy(version.document)
    others = [c for c in document.get("campaigns", []) if c.get("id") != campaign["id"]]
    document["campaigns"] = [*others, campaign]
    document["version"] = _next_version(version.version, campaign["id"])
    source = rulebooks.yaml_of(document)
    return rulebooks.save_draft(source, admin_id=admin_id, actor=actor, based_on_id=version.id,
                                note=note or f"campaign {campaign['id']}")


def _next_version(base: str, campaign_id: str) -> str:
    """A version name no version has: the base, the campaign and the time (at most 32 characters)."""
    stamp = utcnow().strftime("%m%d%H%M%S")
    return f"{base[:10]}+{campaign_id[:10]}.{stamp}"[:32]


def changed_campaigns(active: RulebookVersion, other: RulebookVersion) -> list[str]:
    """Ids of the campaigns ``other`` adds or changes relative to ``active``."""
    before = {c.get("id"): c for c in active.document.get("campaigns", [])}
    return [c.get("id") for c in other.document.get("campaigns", []) if before.get(c.get("id")) != c]


@dataclass(frozen=True)
class Forecast:
    """A changed campaign's pace on the replayed behaviour, set against its own window and budget, so that
    nothing it says can outrun the campaign: not a budget lasting longer than the campaign runs, nor a payout
    above what is left of the budget."""

    campaign: str
    budget: int
    spent: int
    extra_points: int  # what the replayed period would have paid, the campaign running throughout
    days: int  # the length of that period
    scenarios: list[tuple[str, int]]
    districts: list[tuple[str, int]]
    starts_at: datetime | None = None  # the campaign's window; what is left of it is what the forecast covers
    ends_at: datetime | None = None
    now: datetime | None = None

    @property
    def per_day(self) -> float:
        return self.extra_points / self.days if self.days else 0.0

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.spent)

    @property
    def window_days(self) -> float:
        """The days the campaign still runs: from its start (or now, if it has started) to its end."""
        if self.ends_at is None or self.now is None:
            return float(self.days)
        start = max(self.starts_at, self.now) if self.starts_at else self.now
        return max(0.0, (self.ends_at - start).total_seconds() / 86400)

    @property
    def days_until_exhausted(self) -> float | None:
        """At the replayed pace, the days until the budget is gone (None: it never pays anything)."""
        return round(self.remaining / self.per_day, 1) if self.per_day else None

    @property
    def runs_out(self) -> bool:
        """Whether, at this pace, the budget is gone before the campaign ends."""
        exhausted = self.days_until_exhausted
        return exhausted is not None and exhausted < self.window_days

    @property
    def expected_points(self) -> int:
        """What the campaign would pay over what is left of its window at this pace, never more than what is
        left of its budget (rounded down)."""
        return min(self.remaining, int(self.per_day * self.window_days))


def forecast(comparison: Comparison, candidate: Rulebook, campaign_ids: list[str], days: int) -> list[Forecast]:
    """Per changed campaign: its pace in ``comparison`` (run on ``widened``) against its real budget."""
    paid, now = spent(), utcnow()
    campaigns = {c.id: c for c in candidate.campaigns}
    return [Forecast(cid, campaigns[cid].budget_points, paid.get(cid, 0), comparison.other.campaign_points.get(cid, 0),
                     days, comparison.scenario_moves(), comparison.district_moves(),
                     starts_at=campaigns[cid].starts_at, ends_at=campaigns[cid].ends_at, now=now)
            for cid in campaign_ids if cid in campaigns]


def widened(document: dict[str, Any], campaign_ids: list[str], start: datetime, end: datetime) -> Rulebook:
    """The rulebook with those campaigns running over [start, end) on an unlimited budget: to measure how
    fast each would pay on the replayed behaviour, whatever its own window and budget."""
    trial = copy.deepcopy(document)
    for campaign in trial.get("campaigns", []):
        if campaign.get("id") in campaign_ids:
            campaign["starts_at"], campaign["ends_at"] = start.isoformat(), end.isoformat()
            campaign["budget_points"] = UNLIMITED
    return load_rulebook(trial)


UNLIMITED = 10**15


def replay_start(other: Rulebook, campaign_ids: list[str]) -> datetime | None:
    """When to replay the recent past from: the earliest start among changed campaigns still ahead."""
    now = utcnow()
    starts = [c.starts_at for c in other.campaigns if c.id in campaign_ids and c.starts_at > now]
    return min(starts) if starts else None


def results(campaign_id: str) -> dict[str, Any]:
    """What a campaign has done: points paid, participants, qualifying actions, by scenario and district."""
    awards = sa.select(CampaignAward).where(CampaignAward.campaign_id == campaign_id).subquery()
    paid, participants, actions = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(awards.c.points), 0), sa.func.count(sa.distinct(awards.c.account_id)),
                  sa.func.count())
    ).one()
    by = {}
    for name, column in (("scenario", Action.scenario), ("district", Action.district)):
        by[name] = [(key or "—", int(points or 0), int(n)) for key, points, n in db.session.execute(
            sa.select(column, sa.func.sum(awards.c.points), sa.func.count())
            .join(Action, Action.id == awards.c.action_id).group_by(column)
            .order_by(sa.func.sum(awards.c.points).desc())
        ).all()]
    day = city_date(awards.c.occurred_at)
    daily = db.session.execute(
        sa.select(day, sa.func.sum(awards.c.points)).group_by(day).order_by(day)
    ).all()
    return {"paid": int(paid), "participants": int(participants), "actions": int(actions), **by,
            "daily": [(day, int(points or 0)) for day, points in daily]}


