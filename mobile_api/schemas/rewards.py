"""The reward mall, vouchers, and scanning at the till."""

from flask import url_for
from marshmallow import fields, validate

from carbon_platform.services import vouchers
from mobile_api.schemas.common import Input, Output, text


class RewardQuerySchema(Input):
    district = fields.String(validate=validate.Length(max=32), metadata={"description": "Eligible in this district."})
    merchant_id = fields.Integer()  # a query string: "12" is the only way to say 12
    affordable = fields.Boolean(metadata={"description": "Only rewards my available points cover."})


class RewardSchema(Output):
    """A ``Reward``."""

    id = fields.Integer()
    merchant_id = fields.Integer()
    merchant_name = fields.String(attribute="merchant.name")
    name_zh = fields.String()
    name_en = fields.String()
    description_zh = fields.String()
    description_en = fields.String()
    picture_url = fields.Method("_picture_url", allow_none=True, metadata={"type": "string"})
    points_price = fields.Integer()
    stock = fields.Integer()
    limit_count = fields.Integer(allow_none=True)
    limit_period = fields.String(allow_none=True)
    districts = fields.List(fields.String(), metadata={"description": "Eligible district codes; empty: all."})
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)
    voucher_days = fields.Integer()
    face_value_fen = fields.Integer(metadata={"description": "Face value in fen (¥0.01)."})

    def _picture_url(self, reward) -> str | None:
        return url_for("rewards.reward_picture", reward_id=reward.id) if reward.picture else None


class VoucherSchema(Output):
    """A ``Voucher``, or one ``Shown`` with ``replayed`` when it answers a redemption."""

    id = fields.Integer()
    reward_id = fields.Integer()
    reward_name_zh = fields.String(attribute="reward.name_zh")
    reward_name_en = fields.String(attribute="reward.name_en")
    merchant_id = fields.Integer()
    merchant_name = fields.String(attribute="reward.merchant.name")
    merchant_address = fields.String(attribute="reward.merchant.address")
    face_value_fen = fields.Integer(metadata={"description": "Face value in fen (¥0.01)."})
    points = fields.Integer()
    status = fields.String(metadata={"description": "issued, consumed, cancelled or expired"})
    issued_at = fields.DateTime()
    expires_at = fields.DateTime()
    consumed_at = fields.DateTime(allow_none=True)
    refunded_points = fields.Integer()
    code = fields.Function(vouchers.code_of, metadata={
        "type": "string", "description": "What the QR code carries (only shown to the owner)."})
    short_code = fields.Function(lambda voucher: vouchers.short_code_of(voucher.id, voucher.nonce), metadata={
        "type": "string", "description": "Ten characters for manual entry at the till."})
    qr_url = fields.Function(lambda voucher: url_for("rewards.voucher_qr", voucher_id=voucher.id),
                             metadata={"type": "string"})
    replayed = fields.Boolean(dump_default=False, metadata={
        "description": "True when this answers a repeated Idempotency-Key."})


class VoucherQuerySchema(Input):
    status = fields.String(validate=validate.OneOf(["issued", "consumed", "cancelled", "expired"]))


class ScanSchema(Input):
    code = text(120, required=True, metadata={"description": "The QR payload, or the short code typed in."})


class ConsumeSchema(ScanSchema):
    scan_nonce = fields.String(required=True, validate=validate.Length(min=8, max=64),
                               metadata={"description": "Unique per scan; send the same one when retrying it."})


class ScanResultSchema(Output):
    """A ``vouchers.Scan`` ``Shown`` with the name of the staff member who consumed the voucher."""

    outcome = fields.String(metadata={"description": "valid, consumed, already_used, expired or cancelled"})
    voucher_id = fields.Integer(attribute="voucher.id")
    reward_name_zh = fields.String(attribute="voucher.reward.name_zh")
    reward_name_en = fields.String(attribute="voucher.reward.name_en")
    points = fields.Integer(attribute="voucher.points")
    face_value_fen = fields.Integer(attribute="voucher.face_value_fen")
    expires_at = fields.DateTime(attribute="voucher.expires_at")
    consumed_at = fields.DateTime(attribute="voucher.consumed_at", allow_none=True, metadata={
        "description": "For already_used: when."})
    merchant_name = fields.String(attribute="voucher.reward.merchant.name", metadata={
        "description": "The voucher's merchant (where it was used, for already_used); another merchant's voucher "
                       "is 403 other_merchant instead."})
    consumed_by = fields.String(allow_none=True, metadata={"description": "The staff member who consumed it."})


class ConsumptionQuerySchema(Input):
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)


class ConsumptionSchema(Output):
    """A consumed ``Voucher``."""

    voucher_id = fields.Integer(attribute="id")
    reward_id = fields.Integer()
    reward_name_zh = fields.String(attribute="reward.name_zh")
    consumed_at = fields.DateTime()
    consumed_by = fields.Integer(attribute="consumed_by_id")
    face_value_fen = fields.Integer()
    funder = fields.String()
