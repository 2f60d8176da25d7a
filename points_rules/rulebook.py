"""A validated rulebook: factors, scenarios with compiled formulas, caps, campaigns.

The model only; ``loading`` builds it from a document (YAML text or the JSON stored in the database) and
raises ``RulebookError`` listing every problem with its path and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from points_rules.formula import Formula
from points_rules.periods import Period, city_day_start
from points_rules.same_fact import SameFact
from points_rules.trust import Trust
from points_rules.trust import legacy as legacy_trust

_LOWEST, _HIGHEST = Decimal("-Infinity"), Decimal("Infinity")
_DAWN = datetime.min.replace(tzinfo=UTC)
_DUSK = datetime.max.replace(tzinfo=UTC)


class RulebookError(ValueError):
    """Everything wrong with a rulebook document: a list of (path, message[, line])."""

    def __init__(self, errors: list[tuple[str, str]], lines: Mapping[str, int] | None = None):
        self.errors = sorted(errors)
        self.lines = dict(lines or {})
        super().__init__("\n".join(self.describe()))

    def line_of(self, path: str) -> int | None:
        """The YAML line of ``path`` or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path.rsplit(".", 1)[0] if "." in path else path.rsplit("[", 1)[0] if "[" in path else ""
        return None

    def describe(self) -> list[str]:
        out = []
        for path, message in self.errors:
            line = self.line_of(path)
            out.append(f"{'line ' + str(line) + ': ' if line else ''}{path}: {message}")
        return out


@dataclass(frozen=True)
class Factor:
    id: str
    value: Decimal
    unit: str
    source: str
    year: int
    valid_from: date | None
    valid_to: date | None  # exclusive
    #: When the value was published (None in rulebooks that did not record it). A factor applies to actions
    #: from its publication, never before: ``valid_from`` may not precede it.
    published: date | None = None

    @cached_property
    def receipt_entry(self) -> dict[str, Any]:
        """How the factor appears on every receipt; made once, since factors never change."""
        return {"id": self.id, "value": format(self.value.normalize(), "f"), "unit": self.unit,
                "source": self.source, "year": self.year}

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)

    @cached_property
    def in_force(self) -> tuple[datetime, datetime]:
        """[start, end) as instants: Beijing midnights of valid_from and valid_to, open ends at the extremes.

        The engine compares an action's time with these directly, with no calendar arithmetic per action.
        """
        return (city_day_start(self.valid_from) if self.valid_from else _DAWN,
                city_day_start(self.valid_to) if self.valid_to else _DUSK)


@dataclass(frozen=True)
class Input:
    name: str
    unit: str
    min: Decimal | None
    max: Decimal | None
    required: bool
    default: Decimal | None
    label_zh: str | None = None  # None in rulebooks published before labels existed
    label_en: str | None = None

    @cached_property
    def low(self) -> Decimal:
        """The smallest value accepted: ``min``, or no bound."""
        return _LOWEST if self.min is None else self.min

    @cached_property
    def high(self) -> Decimal:
        """The largest value accepted: ``max``, or no bound."""
        return _HIGHEST if self.max is None else self.max


@dataclass(frozen=True)
class Condition:
    formula: Formula
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class Cap:
    index: int
    per: Period
    scope: str  # account | household
    unit: str  # count | grams | points
    limit: int
    usage_key: tuple[str, Period] = ("", Period.EVER)  # (scenario id, per): where Usage keeps what it counts
    for_household: bool = False

    @cached_property
    def ref(self) -> str:
        """How a receipt names it."""
        return f"caps[{self.index}]"


@dataclass(frozen=True)
class Scenario:
    id: str
    name_zh: str
    name_en: str
    programme: str
    kind: str  # reduction | incentive
    channels: frozenset[str]
    evidence: str
    review: bool
    account_types: frozenset[str]
    inputs: tuple[Input, ...]
    formula: Formula  # grams CO2e for a reduction, points for an incentive
    methodology_version: str | None
    methodology_source: str | None
    eligibility: tuple[Condition, ...]
    plausibility: tuple[Condition, ...]
    caps: tuple[Cap, ...]
    hold_days: int | None
    excludes: tuple[str, ...]
    factor_ids: tuple[str, ...]  # the factors any of its formulas read
    input_names: frozenset[str] = frozenset()
    #: factor id → its versions, for every factor its formulas read.
    factor_versions: Mapping[str, tuple[Factor, ...]] = field(default_factory=dict, compare=False)
    hold: timedelta = timedelta(0)  # this scenario's hold (its own hold_days, else the rulebook's)
    description_zh: str | None = None  # None in rulebooks published before descriptions existed
    description_en: str | None = None
    #: Conditions under which a reduction earns its points but certifies no grams (already certified elsewhere).
    points_only: tuple[Condition, ...] = ()
    # -- trust per channel (issue #17 item 8; points_rules/trust.py) --
    #: channel → its declared rule; empty in rulebooks before 2026.3, which say evidence and review scenario-wide.
    trust: Mapping[str, Trust] = field(default_factory=dict, compare=False)
    #: When an app report and a partner's record are one fact (points_rules/same_fact.py); None: never matched.
    same_fact: SameFact | None = field(default=None, compare=False)

    def trust_for(self, channel: str) -> Trust:
        """What ``channel`` trusts: its declared rule, or the scenario-wide evidence and review keys (legacy)."""
        return self.trust.get(channel) or legacy_trust(channel, self.evidence, self.review)

    @cached_property
    def certifies_grams(self) -> bool:
        return self.kind == "reduction"


@dataclass(frozen=True)
class Effect:
    type: str
    factor: Decimal | None = None
    points: int | None = None
    actions: int | None = None
    per: Period | None = None


@dataclass(frozen=True)
class Campaign:
    id: str
    name_zh: str
    name_en: str
    starts_at: datetime
    ends_at: datetime
    scenarios: frozenset[str]
    districts: frozenset[str]
    account_types: frozenset[str]
    effects: tuple[Effect, ...]
    budget_points: int
    per_participant_points: int | None

    def targets(self, scenario: str, district: str | None, account_type: str, moment: datetime) -> bool:
        """In its window [starts_at, ends_at) and aimed at this scenario, district and account type."""
        return (
            self.starts_at <= moment < self.ends_at
            and (not self.scenarios or scenario in self.scenarios)
            and (not self.districts or district in self.districts)
            and (not self.account_types or account_type in self.account_types)
        )


@dataclass(frozen=True)
class Rulebook:
    id: str
    version: str
    name_zh: str
    name_en: str
    grams_per_point: int
    hold_days: int
    expiry_months: int
    claim_window_days: int
    annual_cap_points: int | None
    programmes: Mapping[str, Mapping[str, str]]
    factors: Mapping[str, tuple[Factor, ...]]
    scenarios: Mapping[str, Scenario]
    campaigns: tuple[Campaign, ...]
    document: Mapping[str, Any] = field(repr=False, compare=False)
    claim_window: timedelta = timedelta(0)
    #: scenario id → the campaigns that could ever apply to it (targeting by scenario is decided once).
    campaigns_for: Mapping[str, tuple[Campaign, ...]] = field(default_factory=dict, repr=False, compare=False)

    def factor_on(self, factor_id: str, moment: datetime | date) -> Factor | None:
        """The version of a factor in force on the Beijing day of ``moment`` (or on that date)."""
        if isinstance(moment, datetime):
            for factor in self.factors[factor_id]:
                start, end = factor.in_force
                if start <= moment < end:
                    return factor
            return None
        return next((f for f in self.factors[factor_id] if f.valid_on(moment)), None)
