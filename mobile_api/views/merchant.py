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
    id = fields.Integer()
    display_name = fields.String()
    role = fields.String()
    merchant_id = fields.Integer()
    merchant_name = fields.String()


@blp.get("/me")
@blp.response(200, StaffMeSchema)
@blp.doc(security=[BEARER])
@staff_required
def staff_me():
    """The signed-in staff member and their merchant."""
    staff = g.staff
    return {"id": staff.id, "display_name": staff.display_name, "role": staff.role.value,
            "merchant_id": staff.merchant_id, "merchant_name": staff.merchant.name}


FEN = "in fen (¥0.01)"


class FunderTotalSchema(Output):
    funder = fields.String(metadata={"description": "Who pays the face value: merchant, city or sponsor."})
    count = fields.Integer()
    face_value_total = fields.Integer(metadata={"description": f"Face value {FEN}."})


class SettlementSchema(Output):
    period_start = fields.DateTime(metadata={"description": "The Beijing calendar month's start (UTC)."})
    period_end = fields.DateTime(metadata={"description": "Exclusive."})
    count = fields.Integer()
    face_value_total = fields.Integer(metadata={"description": FEN})
    by_funder = fields.List(fields.Nested(FunderTotalSchema))


class TodayConsumptionSchema(Output):
    voucher_id = fields.Integer()
    short_code = fields.String()
    reward_name_zh = fields.String()
    reward_name_en = fields.String()
    face_value = fields.Integer(metadata={"description": FEN})
    funder = fields.String()
    consumed_at = fields.DateTime()
    staff_name = fields.String(allow_none=True, metadata={"description": "Who scanned it."})


class MerchantTodaySchema(Output):
    date = fields.Date(metadata={"description": "Today in Beijing."})
    count = fields.Integer(metadata={"description": "Vouchers consumed here today."})
    face_value_total = fields.Integer(metadata={"description": FEN})
    consumptions = fields.List(fields.Nested(TodayConsumptionSchema), metadata={
        "description": f"Newest first; at most {settlements.MAX_LISTED} (count and totals include them all)."})
    settlement = fields.Nested(SettlementSchema)


def _totals_body(totals: settlements.Totals) -> dict:
    return {"count": totals.count, "face_value_total": totals.face_value_fen,
            "by_funder": [{"funder": f, "count": n, "face_value_total": v} for f, n, v in totals.by_funder]}


@blp.get("/today")
@blp.response(200, MerchantTodaySchema)
@blp.doc(security=[BEARER])
@staff_required
def today():
    """Today (Beijing) at this merchant: each voucher consumed, and the settlement period's totals by funder.
    The settlement period is the Beijing calendar month, as the console's settlement runs."""
    day = settlements.merchant_day(g.staff.merchant_id)
    return {
        "date": day.day, "count": day.today.count, "face_value_total": day.today.face_value_fen,
        "consumptions": [
            {"voucher_id": v.id, "short_code": vouchers.short_code_of(v.id, v.nonce),
             "reward_name_zh": v.reward.name_zh, "reward_name_en": v.reward.name_en, "face_value": v.face_value_fen,
             "funder": v.funder.value, "consumed_at": v.consumed_at, "staff_name": name}
            for v, name in day.consumptions],
        "settlement": {"period_start": day.period_start, "period_end": day.period_end, **_totals_body(day.period)},
    }
