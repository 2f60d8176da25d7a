"""Steps 3 to 5 of ``evaluate`` (``points_rules.engine``), what limits and adds to a computed credit: the scenario's
caps, the campaigns' extra points within their budgets, and the annual cap per account. Each takes a ``Credit`` and
returns the credit it leaves, with an ``Adjustment`` for every change, so the receipt can show each one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from points_rules.facts import ZERO, CampaignUsage, Facts, Usage
from points_rules.periods import Period
from points_rules.receipt import Adjustment
from points_rules.rulebook import Campaign, Rulebook, Scenario

_NO_CAMPAIGN_USAGE = CampaignUsage()


@dataclass(slots=True)
class Credit:
    """The credit as the steps shape it: grams, base points, campaign extras, and every change made to it."""

    grams: int
    base_points: int
    campaign_points: Mapping[str, int] = field(default_factory=dict)
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def points(self) -> int:
        return self.base_points + sum(self.campaign_points.values())



# -- 3. the scenario's caps --------------------------------------------------------------------------


def apply_caps(rulebook: Rulebook, scenario: Scenario, credit: Credit, usage: Usage, in_household: bool) -> Credit:
    """The credit after each of the scenario's caps in turn, given what the account (and, for a household
    cap, its household) already counted in the cap's period."""
    grams, base = credit.grams, credit.base_points
    adjustments = credit.adjustments
    for cap in scenario.caps:
        if cap.for_household and not in_household:
            continue
        used = (usage.household if cap.for_household else usage.account).get(cap.usage_key, ZERO)
        if cap.unit == "count":
            if used.count >= cap.limit and (grams or base):
                adjustments += (Adjustment(kind="cap", ref=cap.ref, limit=cap.limit, used=used.count, before=base,
                                           after=0, per=cap.per, scope=cap.scope, unit=cap.unit, grams_after=0),)
                grams = base = 0
        elif cap.unit == "grams":
            room = max(0, cap.limit - used.grams)
            if grams > room:
                new_base = min(base, room // rulebook.grams_per_point) if scenario.certifies_grams else base
                adjustments += (Adjustment(kind="cap", ref=cap.ref, limit=cap.limit, used=used.grams, before=base,
                                           after=new_base, per=cap.per, scope=cap.scope, unit=cap.unit,
                                           grams_after=room),)
                grams, base = room, new_base
        else:
            room = max(0, cap.limit - used.points)
            if base > room:
                adjustments += (Adjustment(kind="cap", ref=cap.ref, limit=cap.limit, used=used.points, before=base,
                                           after=room, per=cap.per, scope=cap.scope, unit=cap.unit),)
                base = room
    if adjustments is credit.adjustments:  # no cap reached
        return credit
    return Credit(grams=grams, base_points=base, campaign_points=credit.campaign_points, adjustments=adjustments)


# -- 4. campaigns ------------------------------------------------------------------------------------


def pay_campaigns(rulebook: Rulebook, scenario: Scenario, facts: Facts, when: datetime, credit: Credit,
                  usage: Usage) -> Credit:
    """The credit with the extra points of every running campaign that targets the action (at ``when``,
    UTC), each limited by its remaining budget and the participant's allowance. A capped-out action
    (nothing left to credit) earns no extras."""
    campaigns = rulebook.campaigns_for[scenario.id]
    if not campaigns or not (credit.grams or credit.base_points):
        return credit
    extras: dict[str, int] = {}
    adjustments = credit.adjustments
    for campaign in campaigns:
        if campaign.id in usage.stopped or not campaign.targets(scenario.id, facts.district, facts.account_type,
                                                                 when):
            continue
        extra = campaign_extra(campaign, credit.base_points, usage.campaigns.get(campaign.id, _NO_CAMPAIGN_USAGE))
        if extra.adjustments:
            adjustments += extra.adjustments
        if extra.base_points:
            extras[campaign.id] = extra.base_points
    if adjustments is credit.adjustments:  # no campaign paid or was limited
        return credit
    return Credit(grams=credit.grams, base_points=credit.base_points, campaign_points=extras,
                  adjustments=adjustments)


def campaign_extra(campaign: Campaign, base_points: int, used: CampaignUsage) -> Credit:
    """One campaign's extra points on an action worth ``base_points``, as a credit of its own (no grams):
    the sum of its effects, then limited by its budget and the participant's allowance."""
    extra = 0
    for effect in campaign.effects:
        if effect.type == "multiplier":
            extra += int(base_points * (effect.factor - 1))  # floor: base points and factor are non-negative
        elif effect.type == "fixed_bonus":
            extra += effect.points
        elif effect.type == "first_time_bonus" and used.participant_actions == 0:
            extra += effect.points
        elif effect.type == "streak_bonus" and used.streak_actions.get(effect.per, 0) + 1 == effect.actions:
            extra += effect.points
    adjustments = []
    limits = {"budget": (campaign.budget_points, used.spent)}
    if campaign.per_participant_points is not None:
        limits["participant_limit"] = (campaign.per_participant_points, used.participant_points)
    for kind, (limit, spent) in limits.items():
        room = max(0, limit - spent)
        if extra > room:
            adjustments.append(Adjustment(kind=kind, ref=campaign.id, limit=limit, used=spent, before=extra,
                                          after=room))
            extra = room
    if extra:
        adjustments.append(Adjustment(kind="campaign", ref=campaign.id, limit=None, used=None, before=0, after=extra))
    return Credit(grams=0, base_points=extra, adjustments=tuple(adjustments))


# -- 5. the annual cap -------------------------------------------------------------------------------


def apply_annual_cap(rulebook: Rulebook, credit: Credit, usage: Usage) -> Credit:
    """The credit limited to what the account may still earn this Beijing year: campaign extras are taken
    back first, the last campaign's first, then base points."""
    if rulebook.annual_cap_points is None:
        return credit
    room = max(0, rulebook.annual_cap_points - usage.account_year_points)
    total = credit.points
    if total <= room:
        return credit
    excess = total - room
    extras = dict(credit.campaign_points)
    for campaign_id in reversed(list(extras)):
        taken = min(excess, extras[campaign_id])
        extras[campaign_id] -= taken
        excess -= taken
        if not extras[campaign_id]:
            del extras[campaign_id]
    cap = Adjustment(kind="annual_cap", ref="points.annual_cap_points", limit=rulebook.annual_cap_points,
                     used=usage.account_year_points, before=total, after=room, per=Period.YEAR, scope="account",
                     unit="points")
    return Credit(grams=credit.grams, base_points=credit.base_points - excess, campaign_points=extras,
                  adjustments=(*credit.adjustments, cap))
