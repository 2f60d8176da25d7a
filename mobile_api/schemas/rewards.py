"""The reward mall, vouchers, and scanning at the till."""

from marshmallow import fields, validate

from mobile_api.schemas.common import Input, Output, text


class RewardQuerySchema(Input):
    district = fields.String(validate=validate.Length(max=32), metadata={"description": "Eligible in this district."})
    merchant_id = fields.Integer()  # a query string: "12" is the only way to say 12
    affordable = fields.Boolean(metadata={"description": "Only rewards my available points cover."})


class RewardSchema(Output):
    id = fields.Integer()
    merchant_id = fields.Integer()
    merchant_name = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    description_zh = fields.String()
    description_en = fields.String()
    picture_url = fields.String(allow_none=True)
    points_price = fields.Integer()
    stock = fields.Integer()
    limit_count = fields.Integer(allow_none=True)
    limit_period = fields.String(allow_none=True)
    districts = fields.List(fields.String(), metadata={"description": "Eligible district codes; empty: all."})
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)
    voucher_days = fields.Integer()
    face_value_fen = fields.Integer(metadata={"description": "Face value in fen (¥0.01)."})


class VoucherSchema(Output):
    id = fields.Integer()
    reward_id = fields.Integer()
    reward_name_zh = fields.String()
    reward_name_en = fields.String()
    merchant_id = fields.Integer()
    merchant_name = fields.String()
    merchant_address = fields.String()
    face_value_fen = fields.Integer(metadata={"description": "Face value in fen (¥0.01)."})
    points = fields.Integer()
    status = fields.String(metadata={"description": "issued, consumed, cancelled or expired"})
    issued_at = fields.DateTime()
    expires_at = fields.DateTime()
    consumed_at = fields.DateTime(allow_none=True)
    refunded_points = fields.Integer()
    code = fields.String(metadata={"description": "What the QR code carries (only shown to the owner)."})
    short_code = fields.String(metadata={"description": "Ten characters for manual entry at the till."})
    qr_url = fields.String()
    replayed = fields.Boolean(metadata={"description": "True when this answers a repeated Idempotency-Key."})


class VoucherQuerySchema(Input):
    status = fields.String(validate=validate.OneOf(["issued", "consumed", "cancelled", "expired"]))


class ScanSchema(Input):
    code = text(120, required=True, metadata={"description": "The QR payload, or the short code typed in."})


class ConsumeSchema(ScanSchema):
    scan_nonce = fields.String(required=True, validate=validate.Length(min=8, max=64),
                               metadata={"description": "Unique per scan; send the same one when retrying it."})


class ScanResultSchema(Output):
    outcome = fields.String(metadata={"description": "valid, consumed, already_used, expired or cancelled"})
    voucher_id = fields.Integer()
    reward_name_zh = fields.String()
    reward_name_en = fields.String()
    points = fields.Integer()
    face_value_fen = fields.Integer()
    expires_at = fields.DateTime()
    consumed_at = fields.DateTime(allow_none=True, metadata={"description": "For already_used: when."})
    merchant_name = fields.String(metadata={
        "description": "The voucher's merchant (where it was used, for already_used); another merchant's voucher "
                       "is 403 other_merchant instead."})
    consumed_by = fields.String(allow_none=True, metadata={"description": "The staff member who consumed it."})


class ConsumptionQuerySchema(Input):
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)


class ConsumptionSchema(Output):
    voucher_id = fields.Integer()
    reward_id = fields.Integer()
    reward_name_zh = fields.String()
    consumed_at = fields.DateTime()
    consumed_by = fields.Integer()
    face_value_fen = fields.Integer()
    funder = fields.String()
