"""Self-reported actions, the resident's actions with their receipts, and reduction totals."""

from decimal import Decimal, InvalidOperation

from marshmallow import ValidationError, fields, validate, validates

from carbon_platform.models import ActionStatus
from carbon_platform.services import evidence, rulebooks
from mobile_api.schemas.common import Input, Output, text
from points_rules import reasons


class ActionReportSchema(Input):
    scenario = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$"))
    occurred_at = fields.AwareDateTime(required=True, metadata={"description": "When it happened (with offset)."})
    inputs = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)),
                         values=fields.Decimal(allow_nan=False), load_default=dict,
                         metadata={"description": "The scenario's inputs, e.g. {\"distance_km\": 6.2}."})
    evidence = fields.List(fields.Integer(strict=True, metadata={"format": "int64"}), load_default=list,
                           validate=validate.Length(max=evidence.MAX_PER_ACTION),
                           metadata={"description": "Ids of photos uploaded to /api/v1/evidence."})
    reference = text(200, metadata={"description": "An id of the underlying fact (a ticket number): the same "
                                                    "fact is credited once, whichever way it is reported."})

    @validates("inputs")
    def not_too_many(self, value, **_kwargs):
        if len(value) > 20:
            raise ValidationError("at most 20 inputs")


class ActionSchema(Output):
    """An action ``Shown`` with its ``release_at`` (from ``ledger.release_times``, read once for a page) and, when it
    answers a report, ``duplicate`` and the ``rulebook`` that judged it (else found from the action)."""

    id = fields.Integer()
    scenario = fields.String()
    channel = fields.String()
    status = fields.String(metadata={"description": "credited, review, rejected or reversed"})
    reason = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    occurred_at = fields.DateTime()
    received_at = fields.DateTime()
    grams = fields.Integer()
    points = fields.Integer()
    superseded_by = fields.Integer(attribute="superseded_by_id", allow_none=True, metadata={
        "format": "int64",
        "description": "For a report reversed because a partner recorded the same fact: the partner's action, which "
                       "stands in its place."})
    duplicate = fields.Boolean(dump_default=False, metadata={
        "description": "true when this fact was already credited"})
    reason_zh = fields.Method("_reason_zh", allow_none=True, metadata={
        "type": "string",
        "description": "Why it is not (or not yet) credited, in words for the resident; null when credited."})
    reason_en = fields.Method("_reason_en", allow_none=True, metadata={"type": "string"})
    release_at = fields.DateTime(allow_none=True, metadata={
        "description": "When this action's points become (or became) spendable, UTC; null when it earned none."})

    def _reason_zh(self, action) -> str | None:
        words = _words(action)
        return words[0] if words else None

    def _reason_en(self, action) -> str | None:
        words = _words(action)
        return words[1] if words else None


def _words(action) -> tuple[str, str] | None:
    """The resident's words for an action that is not credited, from the rulebook that judged it."""
    if action.status is ActionStatus.CREDITED:
        return None
    rulebook = getattr(action, "rulebook", None)
    if rulebook is None and action.rulebook_version_id is not None:
        rulebook = rulebooks.compiled_by_id(action.rulebook_version_id)
    return reasons.explain(action.status.value, action.reason, action.detail, action.scenario, rulebook)


def as_number(value) -> int | float | str:
    """Decimal text as stored ("16.4", "12345") as a JSON number: an integer when whole. The stored text is exact;
    a float's shortest repr writes the same digits back."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return value  # never for validated inputs (decimals only); kept rather than a 500
    return int(number) if number == number.to_integral_value() else float(number)


class DecimalNumber(fields.Number):
    """A decimal the rules engine keeps as text: a number in the response (dump only)."""

    num_type = Decimal

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else as_number(value)


class ReceiptStep(fields.Field):
    """One calculation step, ``[name, value]``, with its value as a number."""

    def _serialize(self, value, attr, obj, **kwargs):
        name, number = value
        return [name, as_number(number)]


class NamesSchema(Output):
    zh = fields.String()
    en = fields.String()


class FactorSchema(Output):
    id = fields.String()
    value = DecimalNumber()
    unit = fields.String()
    source = fields.String()
    year = fields.Integer(allow_none=True)


class AdjustmentSchema(Output):
    kind = fields.String(metadata={
        "description": "cap, annual_cap, campaign, budget, participant_limit, or points_only (no grams: certified "
                       "elsewhere)"})
    ref = fields.String(metadata={"description": "Where in the rulebook: caps[1], a campaign id…"})
    limit = fields.Integer(allow_none=True)
    used = fields.Integer(allow_none=True)
    before = fields.Integer()
    after = fields.Integer()
    per = fields.String(allow_none=True)
    scope = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    grams_after = fields.Integer(allow_none=True)


class ReceiptSchema(Output):
    """How the credit was computed; the numbers the engine keeps as exact decimal text are numbers here."""

    rulebook = fields.String()
    rulebook_version = fields.String()
    scenario = fields.String()
    scenario_name = fields.Nested(NamesSchema)
    status = fields.String()
    reason = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    methodology_version = fields.String(allow_none=True)
    formula = fields.String(allow_none=True)
    factors = fields.List(fields.Nested(FactorSchema))
    inputs = fields.Dict(keys=fields.String(), values=DecimalNumber())
    steps = fields.List(ReceiptStep(metadata={
        "type": "array", "minItems": 2, "maxItems": 2, "items": {"oneOf": [{"type": "string"}, {"type": "number"}]},
        "description": "[step name, value], e.g. [\"formula_value\", 202.458]"}))
    adjustments = fields.List(fields.Nested(AdjustmentSchema))
    grams = fields.Integer()
    base_points = fields.Integer()
    campaign_points = fields.Dict(keys=fields.String(), values=fields.Integer())
    points = fields.Integer()


class ActionDetailSchema(ActionSchema):
    inputs = fields.Dict(keys=fields.String(), values=DecimalNumber(), metadata={"description": "As reported."})
    evidence = fields.List(fields.Integer(), metadata={"description": "Ids of the photos supporting it."})
    review_note = fields.String(allow_none=True, metadata={"description": "The reviewer's note, if any."})
    receipt = fields.Nested(ReceiptSchema, metadata={"description": "The full calculation receipt."})
    receipt_text = fields.String(metadata={"description": "The receipt for people, in the requested language."})


class ActionQuerySchema(Input):
    status = fields.String(validate=validate.OneOf(["credited", "review", "rejected", "reversed"]))
    scenario = fields.String(validate=validate.Length(max=64))


class ReceiptQuerySchema(Input):
    lang = fields.String(load_default="zh_CN", validate=validate.OneOf(["zh_CN", "en"]))


class ReductionRowSchema(Output):
    month = fields.String(metadata={"description": "Beijing calendar month, e.g. 2026-06"})
    scenario = fields.String()
    actions = fields.Integer()
    grams = fields.Integer()
    points = fields.Integer()
