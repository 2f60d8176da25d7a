"""Merchant staff: who am I, and today at this merchant (scanning endpoints are in views.rewards' ``till``)."""

from __future__ import annotations

from flask import g
from marshmallow import fields

from carbon_platform.services import settlements, vouchers
from mobile_api.auth import BEARER, staff_required
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.common import Output

blp = Blueprint("merchant", __name__, url_prefix="/api/v1/merchant", description="Merchant staff.")


class StaffMeSchema(Output):
    """A ``MerchantStaff``."""

    id = fields.Integer()
    display_name = fields.String()
    role = fields.String()
    merchant_id = fields.Integer()
    merchant_name = fields.String(attribute="merchant.name")


@blp.get("/me")
@blp.response(200, StaffMeSchema)
@blp.doc(security=[BEARER])
@staff_required
def staff_me():
    """The signed-in staff member and their merchant."""
    return g.staff


FEN = "in fen (¥0.01)"


class FunderTotalSchema(Output):
    """A ``settlements.FunderTotal``."""

    funder = fields.String(metadata={"description": "Who pays the face value: merchant, city or sponsor."})
    count = fields.Integer()
    face_value_total = fields.Integer(attribute="face_value_fen", metadata={"description": f"Face value {FEN}."})


class SettlementSchema(Output):
    """A ``settlements.Settlement``."""

    period_start = fields.DateTime(metadata={"description": "The Beijing calendar month's start (UTC)."})
    period_end = fields.DateTime(metadata={"description": "Exclusive."})
    count = fields.Integer(attribute="totals.count")
    face_value_total = fields.Integer(attribute="totals.face_value_fen", metadata={"description": FEN})
    by_funder = fields.List(fields.Nested(FunderTotalSchema), attribute="totals.by_funder")


class TodayConsumptionSchema(Output):
    """A ``settlements.Consumption``."""

    voucher_id = fields.Integer(attribute="voucher.id")
    short_code = fields.Function(lambda c: vouchers.short_code_of(c.voucher.id, c.voucher.nonce),
                                 metadata={"type": "string"})
    reward_name_zh = fields.String(attribute="voucher.reward.name_zh")
    reward_name_en = fields.String(attribute="voucher.reward.name_en")
    face_value = fields.Integer(attribute="voucher.face_value_fen", metadata={"description": FEN})
    funder = fields.String(attribute="voucher.funder")
    consumed_at = fields.DateTime(attribute="voucher.consumed_at")
    staff_name = fields.String(allow_none=True, metadata={"description": "Who scanned it."})


class MerchantTodaySchema(Output):
    """A ``settlements.MerchantDay``."""

    date = fields.Date(attribute="day", metadata={"description": "Today in Beijing."})
    count = fields.Integer(attribute="today.count", metadata={"description": "Vouchers consumed here today."})
    face_value_total = fields.Integer(attribute="today.face_value_fen", metadata={"description": FEN})
    consumptions = fields.List(fields.Nested(TodayConsumptionSchema), metadata={
        "description": f"Newest first; at most {settlements.MAX_LISTED} (count and totals include them all)."})
    settlement = fields.Nested(SettlementSchema)


@blp.get("/today")
@blp.response(200, MerchantTodaySchema)
@blp.doc(security=[BEARER])
@staff_required
def today():
    """Today (Beijing) at this merchant: each voucher consumed, and the settlement period's totals by funder.
    The settlement period is the Beijing calendar month, as the console's settlement runs."""
    return settlements.merchant_day(g.staff.merchant_id)
