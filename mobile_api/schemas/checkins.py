"""Schemas of merchant low-carbon scene check-ins (``services.checkins``)."""

from __future__ import annotations

from marshmallow import fields, validate

from mobile_api.schemas.actions import ActionSchema
from mobile_api.schemas.common import Input, Output, text


class SceneSchema(Output):
    """A check-in scene a merchant offers, with the rulebook's names."""

    scenario = fields.String(metadata={"description": "The rulebook's scenario id, e.g. clean_plate."})
    name_zh = fields.String()
    name_en = fields.String()


class CheckinCodeSchema(Output):
    """A ``checkins.CheckinCode``: show ``code`` as a QR code; fetch a new one at ``refresh_at``."""

    code = fields.String(metadata={"description": "TACK1.<merchant>.<scenario>.<slot>.<mac>; changes every minute."})
    merchant_id = fields.Integer()
    scenario = fields.String()
    issued_at = fields.DateTime(metadata={"description": "The start of the code's minute (UTC)."})
    refresh_at = fields.DateTime(metadata={"description": "When the next code is issued: show that one from then."})
    expires_at = fields.DateTime(metadata={"description": "From this moment a scan of this code is refused."})


class CheckinScanSchema(Input):
    code = text(200, required=True,
                metadata={"description": "The payload of the merchant's check-in QR code, as scanned."})


class CheckinResultSchema(Output):
    """A ``checkins.CheckedIn`` with the scene's names: the action the rules made of it (points, or why not)."""

    id = fields.Integer(attribute="checkin.id")
    merchant_id = fields.Integer(attribute="merchant.id")
    merchant_name = fields.String(attribute="merchant.name")
    scenario = fields.String(attribute="checkin.scenario")
    name_zh = fields.String()
    name_en = fields.String()
    day = fields.Date(attribute="checkin.day", metadata={"description": "The Beijing day it counts for."})
    replayed = fields.Boolean(metadata={"description": "true when this answers a retry (same Idempotency-Key)."})
    action = fields.Nested(ActionSchema)


class CheckinDayQuerySchema(Input):
    day = fields.Date(metadata={"description": "A Beijing day (YYYY-MM-DD); today when left out.",
                                "optional": True})


class ListedCheckinSchema(Output):
    id = fields.Integer()
    scenario = fields.String()
    checked_in_at = fields.DateTime()
    resident = fields.String(metadata={"description": "The resident's phone, masked (138****8000)."})
    status = fields.String(metadata={"description": "What the rules made of it: credited, review or rejected."})
    points = fields.Integer()


class SceneCountSchema(Output):
    scenario = fields.String()
    count = fields.Integer(metadata={"description": "Check-ins for this scene that day."})
    credited = fields.Integer(metadata={"description": "Of which credited (the rest were over a cap, or held)."})


class MerchantCheckinDaySchema(Output):
    """A ``checkins.MerchantCheckinDay``."""

    day = fields.Date()
    count = fields.Integer()
    by_scenario = fields.List(fields.Nested(SceneCountSchema))
    checkins = fields.List(fields.Nested(ListedCheckinSchema), metadata={"description": "Newest first; at most 200."})


SCENARIO_PATH = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$")
