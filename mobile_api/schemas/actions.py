"""Self-reported actions, the resident's actions with their receipts, and reduction totals."""

from marshmallow import Schema, ValidationError, fields, validate, validates

from mobile_api.schemas.common import Input, text


class ActionReportSchema(Input):
    scenario = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$"))
    occurred_at = fields.AwareDateTime(required=True, metadata={"description": "When it happened (with offset)."})
    inputs = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)),
                         values=fields.Decimal(allow_nan=False), load_default=dict,
                         metadata={"description": "The scenario's inputs, e.g. {\"distance_km\": 6.2}."})
    evidence = fields.List(fields.Integer(strict=True, metadata={"format": "int64"}), load_default=list,
                           validate=validate.Length(max=5),
                           metadata={"description": "Ids of photos uploaded to /api/v1/evidence."})
    reference = text(200, metadata={"description": "An id of the underlying fact (a ticket number): the same "
                                                    "fact is credited once, whichever way it is reported."})

    @validates("inputs")
    def not_too_many(self, value, **_kwargs):
        if len(value) > 20:
            raise ValidationError("at most 20 inputs")


class ActionSchema(Schema):
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
    duplicate = fields.Boolean(metadata={"description": "true when this fact was already credited"})


class ActionDetailSchema(ActionSchema):
    inputs = fields.Dict()
    evidence = fields.List(fields.Integer(), metadata={"description": "Ids of the photos supporting it."})
    review_note = fields.String(allow_none=True, metadata={"description": "The reviewer's note, if any."})
    receipt = fields.Dict(metadata={"description": "The full calculation receipt."})
    receipt_text = fields.String(metadata={"description": "The receipt for people, in the requested language."})


class ActionQuerySchema(Input):
    status = fields.String(validate=validate.OneOf(["credited", "review", "rejected", "reversed"]))
    scenario = fields.String(validate=validate.Length(max=64))


class ReceiptQuerySchema(Input):
    lang = fields.String(load_default="zh_CN", validate=validate.OneOf(["zh_CN", "en"]))


class ReductionRowSchema(Schema):
    month = fields.String(metadata={"description": "Beijing calendar month, e.g. 2026-06"})
    scenario = fields.String()
    actions = fields.Integer()
    grams = fields.Integer()
    points = fields.Integer()
