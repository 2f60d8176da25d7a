"""Login by SMS code and token refresh."""

from marshmallow import fields, validate

from mobile_api.schemas.common import Input, Output, strict_int, text


class CodeRequestSchema(Input):
    phone = text(20, required=True, metadata={"description": "Mainland mobile number, e.g. 13800138000."})


class CodeSentSchema(Output):
    expires_in = fields.Integer(metadata={"description": "Seconds the code stays valid."})


class TokenRequestSchema(Input):
    phone = text(20, required=True)
    code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"))


class StaffTokenRequestSchema(TokenRequestSchema):
    merchant_id = strict_int(metadata={"description": "Needed only when the phone serves several merchants."})


class EnterpriseTokenRequestSchema(TokenRequestSchema):
    enterprise_id = strict_int(metadata={"description": "Needed only when the phone is the contact of several "
                                                        "enterprises."})


class RefreshRequestSchema(Input):
    refresh_token = text(100, required=True)


class TokenPairSchema(Output):
    token_type = fields.Constant("Bearer")
    access_token = fields.String()
    refresh_token = fields.String()
    expires_in = fields.Integer(metadata={"description": "Seconds until the access token expires."})
