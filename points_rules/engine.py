"""``evaluate(rulebook, facts, usage) -> Result``: one green action in, grams and points out, with a receipt.

``evaluate`` is a short sequence of steps, each a plain function that can be called and tested on its
own. The order is fixed and written down, so a receipt can be read top to bottom:

1. admissibility (``admit``, ``read_inputs``, ``factors_in_force``, ``check_eligibility``): the scenario
   exists and accepts this channel and account type; the action is inside the claim window; every input
   is present, numeric and within its bounds; the factors are in force on the action's day; no excluded
   scenario was earned this month; no eligibility rule says no; a report carries the photos its channel's
   declared trust rule asks for (``check_trust``; ``points_rules.trust``);
2. the methodology (``run_methodology``, ``round_down``): grams = floor(formula) (or, for an incentive,
   points = floor(formula)); base points = grams // grams_per_point. Rounding is always down: fractions
   go against the credit;
3. the scenario's caps, in the rulebook's order (``limits.apply_caps``: count caps credit nothing once reached;
   grams caps limit grams and so points; points caps limit base points);
4. campaigns in the rulebook's order (``pay_campaigns``): their extra points, limited by each campaign's
   remaining budget and the participant's remaining allowance;
5. the annual cap per account (``apply_annual_cap``), which takes back campaign extras first, then base
   points;
6. plausibility (``review``): a reading a rule finds implausible (or a scenario that always needs review)
   is held for review, never credited automatically; so is a report beyond its channel's trust bounds, or on a
   channel whose every report is reviewed (``trust_verdict``).

A step that refuses the action raises ``Refused`` with a stable reason code; ``evaluate`` turns it into a
rejected ``Result``. Integers out. Same facts and usage, same result and receipt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property
from typing import Any

from points_rules.facts import NO_USAGE, ZERO, Facts, Usage
from points_rules.formula import Formula
from points_rules.limits import Credit, apply_annual_cap, apply_caps, pay_campaigns
from points_rules.periods import Period, as_utc, expiry_for
from points_rules.receipt import Adjustment, Receipt, build_receipt
from points_rules.rulebook import Factor, Rulebook, Scenario
from points_rules.trust import Check as TrustCheck
from points_rules.trust import check as trust_check

#: How far in the future an action's time may be (clocks on phones and devices drift).
CLOCK_SKEW = timedelta(minutes=5)


class Status(StrEnum):
    CREDITED = "credited"
    REVIEW = "review"  # computed, but held for a reviewer
    REJECTED = "rejected"


class Refused(Exception):
    """A step's refusal: a stable ``reason`` code, and a ``detail`` in English for operators.

    ``factors`` are the factor versions found before a missing one, for the receipt of the refusal.
    """

    def __init__(self, reason: str, detail: str | None = None, factors: tuple[Factor, ...] = ()):
        super().__init__(reason, detail)
        self.reason, self.detail, self.factors = reason, detail, factors


@dataclass(slots=True)
class Verdict:
    """Whether a computed credit is paid at once or held for a reviewer, and why."""

    status: Status
    reason: str | None = None
    detail: str | None = None


CREDIT_AT_ONCE = Verdict(Status.CREDITED)


@dataclass
class Result:
    """The outcome of one evaluation, and what its receipt is read from.

    Equality and repr cover the outcome (``status`` to ``natural_key``). The fields after it are what the
    receipt needs beyond the outcome, kept by reference: the receipt is built from them when first read.
    Not frozen: a frozen dataclass's ``__init__`` costs 1.9 µs against 0.7 µs (a quarter of an evaluation),
    and nothing assigns to a result.
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
    # -- for the receipt, not the outcome --
    rulebook: Rulebook = field(compare=False, repr=False)
    rules: Scenario | None = field(compare=False, repr=False)  # the scenario's definition (None if unknown)
    values: Mapping[str, Any] = field(compare=False, repr=False)  # inputs and factors as the formulas saw them
    factors: tuple[Factor, ...] = field(compare=False, repr=False)  # the factor versions used
    formula_value: Any = field(compare=False, repr=False)  # the methodology's exact value (None if it never ran)
    base_before_caps: int = field(compare=False, repr=False)
    adjustments: tuple[Adjustment, ...] = field(compare=False, repr=False)  # every change to the credit
    trust: TrustCheck | None = field(default=None, compare=False, repr=False)  # how the channel's trust rule met it

    @cached_property
    def receipt(self) -> Receipt:
        """Built on first use: the evaluation itself never pays for it."""
        return build_receipt(self)


def evaluate(rulebook: Rulebook, facts: Facts, usage: Usage = NO_USAGE) -> Result:
    """Judge one action: the module's six steps, in order."""
    # Every step compares UTC instants: same tzinfo, so no offset arithmetic per comparison.
    when = as_utc(facts.time)
    received = when if facts.received_at is None else as_utc(facts.received_at)
    values: dict[str, Any] = {}
    factors: tuple[Factor, ...] = ()
    try:
        scenario = admit(rulebook, facts, when, received)  # 1. admissibility
        values = read_inputs(scenario, facts.inputs)
        factors = factors_in_force(scenario, when)
        for factor in factors:
            values[factor.id] = factor.value
        check_eligibility(scenario, values, usage)
        trusted = check_trust(scenario, facts, values, usage)
        exact = run_methodology(scenario, values)  # 2. the methodology, rounded down
        methodology = round_down(rulebook, scenario, exact)
        if scenario.points_only:
            methodology = certify(scenario, methodology, values)
        capped = apply_caps(rulebook, scenario, methodology, usage, facts.in_household)  # 3.
        paid = pay_campaigns(rulebook, scenario, facts, when, capped, usage)  # 4.
        credit = apply_annual_cap(rulebook, paid, usage)  # 5.
        verdict = review(scenario, values)  # 6.
        if trusted is not None and verdict is CREDIT_AT_ONCE:
            verdict = trust_verdict(trusted)
    except Refused as refusal:
        return _refused(rulebook, facts, refusal, values, factors or refusal.factors)
    return Result(
        status=verdict.status, reason=verdict.reason, detail=verdict.detail, scenario=scenario.id,
        grams=credit.grams, base_points=credit.base_points, campaign_points=credit.campaign_points,
        points=credit.points, hold_until=received + scenario.hold if scenario.hold else None,
        expires_at=expiry_for(received, rulebook.expiry_months),
        natural_key=f"{scenario.id}:{facts.fact_id}" if facts.fact_id else None,
        rulebook=rulebook, rules=scenario, values=values, factors=factors, formula_value=exact,
        base_before_caps=methodology.base_points, adjustments=credit.adjustments, trust=trusted,
    )


def _refused(rulebook: Rulebook, facts: Facts, refusal: Refused, values: Mapping[str, Any],
             factors: tuple[Factor, ...]) -> Result:
    return Result(
        status=Status.REJECTED, reason=refusal.reason, detail=refusal.detail, scenario=facts.scenario, grams=0,
        base_points=0, campaign_points={}, points=0, hold_until=None, expires_at=None, natural_key=None,
        rulebook=rulebook, rules=rulebook.scenarios.get(facts.scenario), values=values, factors=factors,
        formula_value=None, base_before_caps=0, adjustments=(),
    )


# -- 1. admissibility --------------------------------------------------------------------------------


def admit(rulebook: Rulebook, facts: Facts, when: datetime, received: datetime) -> Scenario:
    """The scenario, if it exists, takes this channel and account type, and the action (at ``when``,
    reported at ``received``, both UTC) is inside the claim window and not in the future."""
    scenario = rulebook.scenarios.get(facts.scenario)
    if scenario is None:
        raise Refused("unknown_scenario", facts.scenario)
    if facts.channel not in scenario.channels:
        raise Refused("channel_not_accepted", facts.channel)
    if facts.account_type not in scenario.account_types:
        raise Refused("account_type_not_allowed", facts.account_type)
    if received - when > rulebook.claim_window:
        raise Refused("outside_claim_window", f"{rulebook.claim_window_days} days")
    if when - received > CLOCK_SKEW:
        raise Refused("in_the_future")
    return scenario


def read_inputs(scenario: Scenario, raw: Mapping[str, Any]) -> dict[str, Decimal]:
    """A Decimal for every declared input (its default, or 0 for an optional one left out); an unknown,
    missing, non-numeric or out-of-bounds input refuses the action."""
    if not scenario.input_names.issuperset(raw):
        raise Refused("invalid_input", f"unknown input {sorted(raw.keys() - scenario.input_names)[0]!r}")
    values: dict[str, Decimal] = {}
    for spec in scenario.inputs:
        value = raw.get(spec.name)
        number = _number(spec.name, spec.default if value is None else value, spec.required)
        if number < spec.low or number > spec.high:
            raise Refused("invalid_input", f"{spec.name} must be between {spec.min} and {spec.max} {spec.unit}")
        values[spec.name] = number
    return values


_NO_INPUT = Decimal(0)


def _number(name: str, value: Any, required: bool) -> Decimal:
    kind = type(value)
    if kind is Decimal or kind is int:  # the common cases first; Decimal(int) is exact and finite
        number = value if kind is Decimal else Decimal(value)
    elif value is None:
        if required:
            raise Refused("invalid_input", f"{name} is required")
        return _NO_INPUT
    elif kind is bool or not isinstance(value, int | float | str):
        raise Refused("invalid_input", f"{name} must be a number")
    else:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise Refused("invalid_input", f"{name} must be a number") from None
    if not number.is_finite():
        raise Refused("invalid_input", f"{name} must be a finite number")
    return number


def factors_in_force(scenario: Scenario, when: datetime) -> tuple[Factor, ...]:
    """The version of each factor the scenario reads that is in force at ``when`` (UTC)."""
    found: list[Factor] = []
    for factor_id, versions in scenario.factor_versions.items():
        for factor in versions:
            start, end = factor.in_force
            if start <= when < end:
                found.append(factor)
                break
        else:
            raise Refused("no_factor_in_force", factor_id, tuple(found))
    return tuple(found)


def check_eligibility(scenario: Scenario, values: Mapping[str, Any], usage: Usage) -> None:
    """Refuse the action if the account earned a scenario this one excludes this month, or an
    eligibility rule holds for these values."""
    for other in scenario.excludes:
        if usage.account.get((other, Period.MONTH), ZERO).count:
            raise Refused("excluded_by_other_scenario", other)
    for condition in scenario.eligibility:
        if _run(condition.formula, values):
            raise Refused("ineligible", condition.reason_en)


def _run(formula: Formula, values: Mapping[str, Any]) -> Any:
    """A rulebook formula's value; one that cannot be computed (a division by an input that is zero)
    refuses the action."""
    try:
        return formula.run(values)
    except (ArithmeticError, TypeError) as exc:
        raise Refused("calculation_failed", type(exc).__name__) from None


def check_trust(scenario: Scenario, facts: Facts, values: Mapping[str, Any], usage: Usage) -> TrustCheck | None:
    """How the report meets its channel's declared trust rule (``points_rules.trust``), refused without the photos it
    declares; None where the rulebook declares none (before 2026.3), which changes nothing."""
    if (trust := scenario.trust.get(facts.channel)) is None:
        return None
    if facts.photos < trust.photos:
        raise Refused("evidence_missing", trust.evidence)
    today = usage.channel_day.get((scenario.id, facts.channel), ZERO).count if trust.count_per_day else 0
    return trust_check(trust, facts.photos, values, today)


def trust_verdict(trusted: TrustCheck) -> Verdict:
    """Held for review beyond a bound (``over_bound``, naming each bound) or when every report is; else at once."""
    if trusted.over:
        return Verdict(Status.REVIEW, "over_bound", trusted.detail())
    if trusted.trust.review_always:
        return Verdict(Status.REVIEW, "review_required", trusted.trust.evidence)
    return CREDIT_AT_ONCE


# -- 2. the methodology ------------------------------------------------------------------------------


def run_methodology(scenario: Scenario, values: Mapping[str, Any]) -> Decimal:
    """The methodology's exact value: grams CO2e for a reduction, points for an incentive."""
    return _run(scenario.formula, values)


def round_down(rulebook: Rulebook, scenario: Scenario, exact: Decimal) -> Credit:
    """Whole grams (never below zero), and base points = grams // grams_per_point; an incentive's value is
    its points. Both roundings go against the credit."""
    whole = int(exact) if exact > 0 else 0  # int() truncates, which is floor for positive values
    if scenario.certifies_grams:
        return Credit(grams=whole, base_points=whole // rulebook.grams_per_point)
    return Credit(grams=0, base_points=whole)


def certify(scenario: Scenario, credit: Credit, values: Mapping[str, Any]) -> Credit:
    """No grams where a ``points_only`` rule holds: they are certified elsewhere (generation that earned a green
    certificate), and counting them here would count them twice. The action keeps the points its grams earn."""
    for index, condition in enumerate(scenario.points_only):
        if _run(condition.formula, values):
            kept = credit.base_points
            return Credit(grams=0, base_points=kept, adjustments=(
                Adjustment(kind="points_only", ref=f"points_only[{index}]", limit=None, used=None, before=kept,
                           after=kept, grams_after=0),))
    return credit


# -- 6. plausibility ---------------------------------------------------------------------------------


def review(scenario: Scenario, values: Mapping[str, Any]) -> Verdict:
    """Held for review if a plausibility rule finds the reading implausible, or the scenario always needs a
    reviewer; otherwise credited at once."""
    for condition in scenario.plausibility:
        if _run(condition.formula, values):
            return Verdict(Status.REVIEW, "implausible", condition.reason_en)
    if scenario.review:
        return Verdict(Status.REVIEW, "review_required", scenario.evidence)
    return CREDIT_AT_ONCE
