"""The rulebook document's shape (marshmallow). Unknown fields are errors; every error has a path.

Our own messages are ``Problem``s (worded in both languages by ``points_rules.problems``); marshmallow's and the
validators' ``error=`` texts are recognised there by their English."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from points_rules.periods import Period
from points_rules.problems import WORDS, Problem
from points_rules.same_fact import MAX_WINDOW_MINUTES

IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
IDENTIFIER = validate.Regexp(IDENTIFIER_RE, error=WORDS["identifier"][1])
ACCOUNT_TYPES = ("resident", "household", "enterprise", "merchant")
#: app = self-report in the mobile app; merchant_checkin = scanning a shop's code; partner:<kind> = a data feed.
CHANNEL = validate.Regexp(r"^(app|merchant_checkin|partner:[a-z_]+)$", error=WORDS["channel"][1])


class Strict(Schema):
    class Meta:
        unknown = RAISE


def text(**kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=kwargs.pop("max", 500)), **kwargs)


def count(minimum: int = 0, **kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=minimum), **kwargs)


def number(**kwargs) -> fields.Decimal:
    return fields.Decimal(allow_nan=False, **kwargs)


class ProgrammeSchema(Strict):
    id = text(required=True, max=8)
    name_zh = text(required=True)
    name_en = text(required=True)


class FactorSchema(Strict):
    id = fields.String(required=True, validate=IDENTIFIER)
    value = number(required=True)
    unit = text(required=True, max=40)
    source = text(required=True, max=1000)
    year = fields.Integer(strict=True, required=True, validate=validate.Range(min=1990, max=2100))
    valid_from = fields.Date(load_default=None)
    valid_to = fields.Date(load_default=None, metadata={"description": "exclusive"})
    published = fields.Date(load_default=None, metadata={
        "description": "When the value was published; a version never applies before it (valid_from ≥ published)"})


class InputSchema(Strict):
    name = fields.String(required=True, validate=IDENTIFIER)
    unit = text(required=True, max=40)
    min = number(load_default=None)
    max = number(load_default=None)
    required = fields.Boolean(load_default=True)
    default = number(load_default=None)
    # What the client shows beside the field. Optional: rulebooks published before labels existed still load
    # (clients fall back to the input's name); the seed's test requires them for every input.
    label_zh = text(load_default=None, max=64)
    label_en = text(load_default=None, max=64)


class MethodologySchema(Strict):
    version = text(required=True, max=64)
    formula = text(required=True, max=2000, metadata={"description": "grams CO2e"})
    source = text(load_default=None, max=1000)


class IncentiveSchema(Strict):
    points = text(required=True, max=2000, metadata={"description": "points formula"})


class ConditionSchema(Strict):
    when = text(required=True, max=2000)
    reason_zh = text(required=True)
    reason_en = text(required=True)


class CapSchema(Strict):
    per = fields.String(required=True, validate=validate.OneOf([p.value for p in Period]))
    scope = fields.String(load_default="account", validate=validate.OneOf(["account", "household"]))
    unit = fields.String(required=True, validate=validate.OneOf(["count", "grams", "points"]))
    limit = count(required=True)


# -- trust per channel (issue #17 item 8) ------------------------------------------------------------------


class TrustBoundsSchema(Strict):
    """``below``: count_per_day and, by input name, the most a report may say (checked against the inputs later)."""

    class Meta:
        unknown = "include"  # input names; each checked below and against the scenario by trust.build

    count_per_day = count(1, load_default=None)

    @validates_schema(pass_original=True)
    def bounds_are_numbers(self, data, original, **_kwargs):
        errors = {}
        for name, value in original.items():
            if name == "count_per_day":
                continue
            if IDENTIFIER_RE.match(str(name)) is None:
                errors[name] = [Problem("bound_name")]
            elif isinstance(value, bool) or not isinstance(value, int | float | str):
                errors[name] = [Problem("bound_number")]
            else:
                try:
                    number = Decimal(str(value))
                except InvalidOperation:
                    errors[name] = [Problem("bound_number")]
                    continue
                if not number.is_finite() or number <= 0:
                    errors[name] = [Problem("bound_positive")]
                else:
                    data[name] = number
        if errors:
            raise ValidationError(errors)


class TrustRuleSchema(Strict):
    evidence = fields.String(load_default=None, validate=validate.OneOf(["photo", "photo_and_certificate"]))
    below = fields.Nested(TrustBoundsSchema, load_default=None)
    review = fields.String(load_default=None, validate=validate.OneOf(["always"]))

    @validates_schema
    def below_says_something(self, data, **_kwargs):
        below = data.get("below")
        if below is not None and not {k: v for k, v in below.items() if v is not None}:
            raise ValidationError(Problem("below_empty"), "below")


class TrustRuleField(fields.Field):
    """``as_reported``, or a mapping loaded by TrustRuleSchema."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "as_reported":
            return value
        if not isinstance(value, Mapping):
            raise ValidationError(Problem("trust_rule_shape"))
        result = TrustRuleSchema().load(value)
        if result.get("below") is not None:
            result["below"] = {k: v for k, v in result["below"].items() if v is not None}
        return result


# -- one fact, one credit across channels (issue #17 item 9; points_rules/same_fact.py) -------------------------


class SameFactQuantitySchema(Strict):
    input = fields.String(required=True, validate=IDENTIFIER)
    within = number(required=True, validate=validate.Range(min=0, max=1), metadata={
        "description": "how far apart the two quantities may be, as a share of the larger (0.5: half)"})


class SameFactSchema(Strict):
    window_minutes = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_WINDOW_MINUTES),
        metadata={"description": "how far apart in time an app report and a partner's record of one fact may be"})
    quantity = fields.Nested(SameFactQuantitySchema, load_default=None)


class ScenarioSchema(Strict):
    id = fields.String(required=True, validate=IDENTIFIER)
    name_zh = text(required=True)
    name_en = text(required=True)
    programme = text(required=True, max=8)
    kind = fields.String(required=True, validate=validate.OneOf(["reduction", "incentive"]))
    channels = fields.List(fields.String(validate=CHANNEL), required=True, validate=validate.Length(min=1))
    # Scenario-wide evidence and review: how 2026.1 and 2026.2 say it. From 2026.3, ``trust`` says it per channel
    # (and a scenario with ``trust`` may not have these). None when not given; the builder defaults them.
    evidence = fields.String(load_default=None, validate=validate.OneOf(["none", "photo", "photo_and_certificate"]))
    review = fields.Boolean(load_default=None)
    account_types = fields.List(fields.String(validate=validate.OneOf(ACCOUNT_TYPES)), required=True,
                                validate=validate.Length(min=1))
    inputs = fields.List(fields.Nested(InputSchema), load_default=list)
    methodology = fields.Nested(MethodologySchema, load_default=None)
    incentive = fields.Nested(IncentiveSchema, load_default=None)
    eligibility = fields.List(fields.Nested(ConditionSchema), load_default=list,
                              metadata={"description": "any true: not credited (rejected)"})
    plausibility = fields.List(fields.Nested(ConditionSchema), load_default=list,
                               metadata={"description": "any true: held for review, never auto-credited"})
    points_only = fields.List(fields.Nested(ConditionSchema), load_default=list, metadata={
        "description": "any true: the action earns its points but certifies no grams (they are certified "
                       "elsewhere, such as generation with a green certificate)"})
    caps = fields.List(fields.Nested(CapSchema), load_default=list)
    hold_days = count(load_default=None)
    excludes = fields.List(fields.String(validate=IDENTIFIER), load_default=list,
                           metadata={"description": "scenarios the same account cannot also earn in a month"})
    notes = text(load_default=None, max=2000)
    # What counts, in one or two plain sentences for residents. Optional for the same reason as input labels.
    description_zh = text(load_default=None, max=500)
    description_en = text(load_default=None, max=1000)
    # -- trust per channel (issue #17 item 8; points_rules/trust.py) --
    trust = fields.Dict(keys=fields.String(validate=CHANNEL), values=TrustRuleField(), load_default=None,
                        validate=validate.Length(min=1), metadata={
                            "description": "channel → as_reported, or {evidence, below, review}"})
    same_fact = fields.Nested(SameFactSchema, load_default=None, metadata={
        "description": "when an app report and a partner's record are one fact: the partner's stands"})

    @validates_schema
    def kind_has_its_rule(self, data, **_kwargs):
        if data["kind"] == "reduction" and data.get("methodology") is None:
            raise ValidationError(Problem("reduction_needs_methodology"), "methodology")
        if data["kind"] == "incentive" and data.get("incentive") is None:
            raise ValidationError(Problem("incentive_needs_incentive"), "incentive")
        if data["kind"] == "incentive" and data.get("methodology") is not None:
            raise ValidationError(Problem("incentive_has_methodology"), "methodology")
        if data["kind"] == "incentive" and data.get("points_only"):
            raise ValidationError(Problem("incentive_points_only"), "points_only")


class PointsSchema(Strict):
    grams_per_point = count(1, required=True)
    rounding = fields.String(load_default="floor", validate=validate.OneOf(["floor"]),
                             metadata={"description": "floor: fractions go against the credit"})
    hold_days = count(required=True)
    expiry_months = count(1, required=True)
    claim_window_days = count(1, required=True)
    annual_cap_points = count(load_default=None)


class EffectSchema(Strict):
    type = fields.String(required=True,
                         validate=validate.OneOf(["multiplier", "fixed_bonus", "first_time_bonus", "streak_bonus"]))
    factor = number(load_default=None, validate=validate.Range(min=1, max=10))
    points = count(load_default=None)
    actions = count(2, load_default=None)
    per = fields.String(load_default=None, validate=validate.OneOf([p.value for p in Period if p is not Period.EVER]))

    @validates_schema
    def has_its_fields(self, data, **_kwargs):
        needed = {"multiplier": ["factor"], "fixed_bonus": ["points"], "first_time_bonus": ["points"],
                  "streak_bonus": ["points", "actions", "per"]}[data["type"]]
        missing = {name: [Problem("effect_needs_field")] for name in needed if data.get(name) is None}
        if missing:
            raise ValidationError(missing)


class TargetSchema(Strict):
    scenarios = fields.List(fields.String(validate=IDENTIFIER), load_default=list)
    districts = fields.List(text(max=32), load_default=list)
    account_types = fields.List(fields.String(validate=validate.OneOf(ACCOUNT_TYPES)), load_default=list)


class CampaignSchema(Strict):
    id = fields.String(required=True, validate=IDENTIFIER)
    name_zh = text(required=True)
    name_en = text(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    target = fields.Nested(TargetSchema, load_default=dict)
    effects = fields.List(fields.Nested(EffectSchema), required=True, validate=validate.Length(min=1))
    budget_points = count(required=True)
    per_participant_points = count(load_default=None)

    @validates_schema(skip_on_field_errors=False)  # report a backwards window beside any other error
    def window_is_forward(self, data, **_kwargs):
        if "starts_at" in data and "ends_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError(Problem("ends_before_start"), "ends_at")


class RulebookSchema(Strict):
    id = fields.String(required=True, validate=IDENTIFIER)
    version = text(required=True, max=32)
    name_zh = text(required=True)
    name_en = text(required=True)
    points = fields.Nested(PointsSchema, required=True)
    programmes = fields.List(fields.Nested(ProgrammeSchema), required=True, validate=validate.Length(min=1))
    factors = fields.List(fields.Nested(FactorSchema), load_default=list)
    scenarios = fields.List(fields.Nested(ScenarioSchema), required=True, validate=validate.Length(min=1))
    campaigns = fields.List(fields.Nested(CampaignSchema), load_default=list)


def error_paths(messages: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Flatten marshmallow's nested errors into ("scenarios[3].caps[0].per", message) pairs (a message as the schema
    gave it: a ``Problem`` of ours or marshmallow's text)."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                yield from error_paths(value, prefix)
                continue
            step = f"[{key}]" if isinstance(key, int) else (f".{key}" if prefix else str(key))
            yield from error_paths(value, prefix + step)
    elif isinstance(messages, list | tuple):
        for message in messages:
            yield from error_paths(message, prefix)
    else:
        yield prefix or "(document)", messages if isinstance(messages, str) else str(messages)
