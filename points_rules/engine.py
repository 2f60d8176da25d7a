"""``evaluate(rulebook, facts, usage) -> Result``: one green action in, grams and points out, with a receipt.

The order is fixed and written down, so a receipt can be read top to bottom:

1. admissibility: the scenario exists and accepts this channel and account type; the action is inside
   the claim window; every input is present, numeric and within its bounds; the factors are in force
   on the action's day; no excluded scenario was earned this month; no eligibility rule says no;
2. the methodology: grams = floor(formula) (or, for an incentive, points = floor(formula)); base
   points = grams // grams_per_point. Rounding is always down: fractions go against the credit;
3. the scenario's caps, in the rulebook's order (count caps credit nothing once reached; grams caps
   limit grams and so points; points caps limit base points);
4. campaigns in the rulebook's order: their extra points, limited by each campaign's remaining budget
   and the participant's remaining allowance;
5. the annual cap per account, which takes back campaign extras first, then base points;
6. plausibility: a reading a rule finds implausible (or a scenario that always needs review) is held
   for review, never credited automatically.

Integers out. Same facts and usage, same result and receipt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import partial
from typing import Any, NamedTuple

from points_rules.periods import Period, as_utc, expiry_for
from points_rules.receipt import Adjustment, Receipt, build_receipt
from points_rules.rulebook import Campaign, Rulebook, Scenario

#: How far in the future an action's time may be (clocks on phones and devices drift).
CLOCK_SKEW = timedelta(minutes=5)


class Status(StrEnum):
    CREDITED = "credited"
    REVIEW = "review"  # computed, but held for a reviewer
    REJECTED = "rejected"


@dataclass(frozen=True)
class Facts:
    scenario: str
    inputs: Mapping[str, Any]
    account_type: str
    time: datetime  # when the action happened (aware)
    channel: str = "app"
    district: str | None = None
    in_household: bool = False
    received_at: datetime | None = None  # when the platform learned of it (default: time)
    # What the action is about, the same whichever channel reports it (a card and tap time, an
    # inverter and month): the core credits one natural key once, across all channels.
    fact_id: str | None = None


@dataclass(frozen=True)
class Totals:
    count: int = 0
    grams: int = 0
    points: int = 0


ZERO = Totals()


@dataclass(frozen=True)
class CampaignUsage:
    spent: int = 0  # points the campaign has paid so far, to everyone
    participant_points: int = 0  # points this account has had from it
    participant_actions: int = 0  # this account's qualifying actions so far (0: a first-time bonus is due)
    streak_actions: Mapping[Period, int] = field(default_factory=dict)  # … in the current day/week/month


@dataclass(frozen=True)
class Usage:
    """What the account (and its household) already earned in the periods containing the action."""

    account: Mapping[tuple[str, Period], Totals] = field(default_factory=dict)
    household: Mapping[tuple[str, Period], Totals] = field(default_factory=dict)
    account_year_points: int = 0  # all scenarios, this Beijing year
    campaigns: Mapping[str, CampaignUsage] = field(default_factory=dict)
    stopped: frozenset[str] = frozenset()  # campaigns an administrator paused or ended: they pay nothing


NO_USAGE = Usage()
_ZERO_INPUT = Decimal(0)
#: ``Adjustment`` from all ten fields at C speed (caps are hit on most busy accounts' actions).
_adjustment = partial(tuple.__new__, Adjustment)
_NO_CAMPAIGN_USAGE = CampaignUsage()


class Trace(NamedTuple):
    """What a receipt needs, kept by reference: the receipt is built only when first read."""

    rulebook: Rulebook
    scenario: Scenario | None
    values: Mapping[str, Any]  # inputs and factors as the formulas saw them
    factors: list  # the factor versions used
    formula_value: Any  # the methodology's exact value, before rounding (None if it never ran)
    base_before_caps: int
    adjustments: list[Adjustment]


class Result(NamedTuple):
    """The outcome of one evaluation.

    A named tuple: it is made 10^5 times a second, and a tuple is built in C. Equality and hashing
    cover the outcome, not the trace; the receipt is built from the trace when first read and kept.
    """

    status: Status
    reason: str | None
    detail: str | None
    scenario: str
    grams: int
    base_points: int
    campaign_points: Mapping[str, int]
    points: int
    hold_until: datetime | None
    expires_at: datetime | None
    natural_key: str | None
    trace: Trace
    receipt_box: list  # [Receipt | None]: the receipt, once built

    @property
    def receipt(self) -> Receipt:
        """Built on first use: the evaluation itself never pays for it."""
        box = self.receipt_box
        if box[0] is None:
            box[0] = build_receipt(self)
        return box[0]

    def __eq__(self, other) -> bool:
        return isinstance(other, Result) and self[:11] == other[:11]

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self):
        return hash((self.status, self.scenario, self.grams, self.points, self.natural_key))

    def __repr__(self) -> str:
        return f"Result({', '.join(f'{n}={getattr(self, n)!r}' for n in self._fields[:11])})"


#: ``Result`` from all its fields at C speed.
_result = partial(tuple.__new__, Result)


def _rejected(rulebook, facts, scenario, reason, detail=None, values=None, factors=()) -> Result:
    return _result((Status.REJECTED, reason, detail, facts.scenario, 0, 0, {}, 0, None, None, None,
                    Trace(rulebook, scenario, values or {}, list(factors), None, 0, []), [None]))


def _read_inputs(scenario: Scenario, raw: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Decimal values for every declared input, or the name of the first bad one."""
    if not scenario.input_names.issuperset(raw):
        return {}, f"unknown input {sorted(raw.keys() - scenario.input_names)[0]!r}"
    values: dict[str, Any] = {}
    for name, default, low, high, spec in scenario.input_plan:
        value = raw.get(name)
        if value is None:
            value = default
        kind = type(value)
        if kind is Decimal or kind is int:  # the common cases first; Decimal(int) is exact and finite
            number = value if kind is Decimal else Decimal(value)
        elif value is None:
            if spec.required:
                return {}, f"{name} is required"
            number = _ZERO_INPUT
        elif kind is bool or not isinstance(value, int | float | str):
            return {}, f"{name} must be a number"
        else:
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                return {}, f"{name} must be a number"
        if not number.is_finite():
            return {}, f"{name} must be a finite number"
        if number < low or number > high:
            return {}, f"{name} must be between {spec.min} and {spec.max} {spec.unit}"
        values[name] = number
    return values, None


def evaluate(rulebook: Rulebook, facts: Facts, usage: Usage = NO_USAGE) -> Result:
    scenario = rulebook.scenarios.get(facts.scenario)
    if scenario is None:
        return _rejected(rulebook, facts, None, "unknown_scenario", facts.scenario)
    if facts.channel not in scenario.channels:
        return _rejected(rulebook, facts, scenario, "channel_not_accepted", facts.channel)
    if facts.account_type not in scenario.account_types:
        return _rejected(rulebook, facts, scenario, "account_type_not_allowed", facts.account_type)
    # Everything below compares UTC instants: same tzinfo, so no offset arithmetic per comparison.
    when = as_utc(facts.time)
    received = when if facts.received_at is None else as_utc(facts.received_at)
    if received - when > rulebook.claim_window:
        return _rejected(rulebook, facts, scenario, "outside_claim_window", f"{rulebook.claim_window_days} days")
    if when - received > CLOCK_SKEW:
        return _rejected(rulebook, facts, scenario, "in_the_future")
    values, problem = _read_inputs(scenario, facts.inputs)
    if problem:
        return _rejected(rulebook, facts, scenario, "invalid_input", problem)
    factors = []
    for factor_id, versions in scenario.factor_versions:  # Rulebook.factor_on, inlined: it runs per factor
        for start, end, factor in versions:  # noqa: B007 - used after the break
            if start <= when < end:
                break
        else:
            return _rejected(rulebook, facts, scenario, "no_factor_in_force", factor_id, values, factors)
        values[factor_id] = factor.value
        factors.append(factor)
    for other in scenario.excludes:
        if usage.account.get((other, Period.MONTH), ZERO).count:
            return _rejected(rulebook, facts, scenario, "excluded_by_other_scenario", other, values, factors)
    try:
        for condition in scenario.eligibility:
            if condition.formula.run(values):
                return _rejected(rulebook, facts, scenario, "ineligible", condition.reason_en, values, factors)
        raw = scenario.formula.run(values)
        implausible = None
        for condition in scenario.plausibility:
            if condition.formula.run(values):
                implausible = condition
                break
    except (ArithmeticError, TypeError) as exc:  # e.g. a division by an input that is zero
        return _rejected(rulebook, facts, scenario, "calculation_failed", type(exc).__name__, values, factors)

    gpp = rulebook.grams_per_point
    whole = int(raw) if raw > 0 else 0  # int() truncates, which is floor for positive values
    grams, base = (whole, whole // gpp) if scenario.certifies_grams else (0, whole)
    base_before_caps = base
    adjustments: list[Adjustment] = []

    for cap in scenario.caps:
        if cap.for_household:
            if not facts.in_household:
                continue
            used = usage.household.get(cap.usage_key, ZERO)
        else:
            used = usage.account.get(cap.usage_key, ZERO)
        if cap.unit == "count":
            if used.count >= cap.limit and (grams or base):
                adjustments.append(_adjustment(("cap", cap.ref, cap.limit, used.count, base, 0,
                                                cap.per, cap.scope, cap.unit, 0)))
                grams = base = 0
        elif cap.unit == "grams":
            room = max(0, cap.limit - used.grams)
            if grams > room:
                new_base = min(base, room // gpp) if scenario.certifies_grams else base
                adjustments.append(_adjustment(("cap", cap.ref, cap.limit, used.grams, base, new_base,
                                                cap.per, cap.scope, cap.unit, room)))
                grams, base = room, new_base
        else:
            room = max(0, cap.limit - used.points)
            if base > room:
                adjustments.append(_adjustment(("cap", cap.ref, cap.limit, used.points, base, room,
                                                cap.per, cap.scope, cap.unit, None)))
                base = room

    campaign_points: dict[str, int] = {}
    if grams or base:
        for campaign in rulebook.campaigns_for[scenario.id]:
            if campaign.id in usage.stopped:
                continue
            if campaign.targets(scenario.id, facts.district, facts.account_type, when):
                extra = _campaign_extra(campaign, base, usage.campaigns.get(campaign.id, _NO_CAMPAIGN_USAGE),
                                        adjustments)
                if extra:
                    campaign_points[campaign.id] = extra

    total = base + sum(campaign_points.values())
    if rulebook.annual_cap_points is not None:
        room = max(0, rulebook.annual_cap_points - usage.account_year_points)
        if total > room:
            adjustments.append(Adjustment("annual_cap", "points.annual_cap_points", rulebook.annual_cap_points,
                                          usage.account_year_points, total, room, Period.YEAR, "account", "points"))
            excess = total - room
            for campaign_id in reversed(list(campaign_points)):  # campaign extras go first
                taken = min(excess, campaign_points[campaign_id])
                campaign_points[campaign_id] -= taken
                excess -= taken
                if not campaign_points[campaign_id]:
                    del campaign_points[campaign_id]
            base -= excess
            total = room

    if implausible is not None:
        status, reason, detail = Status.REVIEW, "implausible", implausible.reason_en
    elif scenario.review:
        status, reason, detail = Status.REVIEW, "review_required", scenario.evidence
    else:
        status, reason, detail = Status.CREDITED, None, None
    natural_key = f"{scenario.id}:{facts.fact_id}" if facts.fact_id else None
    return _result((
        status, reason, detail, scenario.id, grams, base, campaign_points, total,
        received + scenario.hold if scenario.hold else None,
        expiry_for(received, rulebook.expiry_months), natural_key,
        Trace(rulebook, scenario, values, factors, raw, base_before_caps, adjustments), [None],
    ))


def _campaign_extra(campaign: Campaign, base: int, used: CampaignUsage, adjustments: list[Adjustment]) -> int:
    extra = 0
    for effect in campaign.effects:
        if effect.type == "multiplier":
            extra += int(base * (effect.factor - 1))  # floor: base and factor are non-negative
        elif effect.type == "fixed_bonus":
            extra += effect.points
        elif effect.type == "first_time_bonus" and used.participant_actions == 0:
            extra += effect.points
        elif effect.type == "streak_bonus" and used.streak_actions.get(effect.per, 0) + 1 == effect.actions:
            extra += effect.points
    limits = [("budget", campaign.budget_points, used.spent)]
    if campaign.per_participant_points is not None:
        limits.append(("participant_limit", campaign.per_participant_points, used.participant_points))
    for kind, limit, spent in limits:
        room = max(0, limit - spent)
        if extra > room:
            adjustments.append(Adjustment(kind, campaign.id, limit, spent, extra, room))
            extra = room
    if extra:
        adjustments.append(Adjustment("campaign", campaign.id, None, None, 0, extra))
    return extra
