"""Bindings, authorisations and partner events."""

from marshmallow import ValidationError, fields, validate, validates_schema

from carbon_platform.models import BindingKind
from carbon_platform.services.feeds import MAX_BATCH
from mobile_api.schemas.common import Input, Output, text

KINDS = validate.OneOf([k.value for k in BindingKind])


class BindingCreateSchema(Input):
    kind = fields.String(required=True, validate=KINDS)
    identifier = text(80, required=True, metadata={"description": "Card, meter, inverter or account number."})


class MeterCreateSchema(Input):
    identifier = text(80, required=True, metadata={"description": "The electricity meter's number (电表号), as on "
                                                                  "the bill or the meter."})


class BindingSchema(Output):
    id = fields.Integer()
    kind = fields.String()
    last4 = fields.String(metadata={"description": "Only the last four characters are kept in clear."})
    status = fields.String(metadata={"description": "active (proven: partner data is matched to it), or pending "
                                                    "(matches nothing yet)"})
    awaiting = fields.Method("_awaiting", allow_none=True, metadata={
        "type": "string",
        "description": "For a pending binding, who must prove it: `partner` (you entered it: show the partner "
                       "a binding code) or `you` (a partner proposed it: confirm it); null when active."})
    created_at = fields.DateTime()

    def _awaiting(self, binding) -> str | None:
        if binding.status != "pending":
            return None
        return "partner" if binding.proposed_by_partner_id is None else "you"


class AuthorisationCreateSchema(Input):
    partner_id = fields.Integer(strict=True, required=True)
    scenario = text(64, required=True)


class AuthorisationSchema(Output):
    id = fields.Integer()
    partner_id = fields.Integer()
    partner_name = fields.String(attribute="partner.name")
    scenario = fields.String()
    created_at = fields.DateTime()


class PartnerSummarySchema(Output):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    scenarios = fields.List(fields.String(), metadata={"description": "Scenes this partner's feed can report."})


class EventBindingSchema(Input):
    kind = fields.String(required=True, validate=KINDS)
    id = text(80, required=True)


class PartnerEventSchema(Input):
    event_id = text(100, required=True)
    type = fields.String(load_default="credit", validate=validate.OneOf(["credit", "correction", "cancellation"]))
    corrects = text(100, metadata={"description": "For a correction or cancellation: the credit's event_id."})
    sequence = fields.Integer(strict=True, validate=validate.Range(min=1),
                              metadata={"description": "Corrections and cancellations of one credit count 1, 2, …; "
                                                       "the highest wins whatever the arrival order."})
    scenario = text(64, required=True)
    binding = fields.Nested(EventBindingSchema, required=True)
    occurred_at = fields.AwareDateTime(required=True)
    inputs = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)),
                         values=fields.Decimal(allow_nan=False), load_default=dict)
    fact_id = text(200, metadata={"description": "The underlying fact (card and tap time, meter and month): "
                                                 "credited once whatever its event ids."})

    @validates_schema
    def chain_fields(self, data, **_kwargs):
        if data["type"] == "credit":
            extra = [name for name in ("corrects", "sequence") if name in data]
            if extra:
                raise ValidationError({name: ["only for a correction or cancellation"] for name in extra})
        else:
            missing = {name: ["required for a correction or cancellation"] for name in ("corrects", "sequence")
                       if name not in data}
            if missing:
                raise ValidationError(missing)
            if data["corrects"] == data["event_id"]:
                raise ValidationError({"corrects": ["an event cannot correct itself"]})


class EventBatchSchema(Input):
    events = fields.List(fields.Nested(PartnerEventSchema), required=True,
                         validate=validate.Length(min=1, max=MAX_BATCH))


class EventOutcomeSchema(Output):
    event_id = fields.String()
    status = fields.String(metadata={"description": "credited, review, quarantined, duplicate, unmatched, rejected, "
                                                    "cancelled or superseded"})
    reason = fields.String(allow_none=True)
    action_id = fields.Integer(allow_none=True)
    points = fields.Integer()


class EventResultsSchema(Output):
    results = fields.List(fields.Nested(EventOutcomeSchema))


class BindingCodeSchema(Output):
    code = fields.String(metadata={"description": "Show it to the partner; it works once, for 15 minutes."})
    expires_at = fields.DateTime()


class BindingProposalSchema(Input):
    """A proposal, or a confirmation, of an identifier for the person who showed you their binding code."""

    code = text(20, required=True, metadata={"description": "The code the person showed you."})
    kind = fields.String(required=True, validate=KINDS)
    identifier = text(80, required=True)
