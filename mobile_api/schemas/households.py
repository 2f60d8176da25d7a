"""Households: create, invite, join, leave, hand over headship."""

from marshmallow import fields

from mobile_api.schemas.common import DistrictSchema, Input, Output, strict_int, text


class HouseholdCreateSchema(Input):
    name = text(40, required=True)
    address = text(200, required=True)
    district = fields.String(required=True)


class MemberSchema(Output):
    """A ``HouseholdMembership`` ``Shown`` with the ``lifetime_points`` its resident earned."""

    resident_id = fields.Integer()
    display_name = fields.String(attribute="resident.display_name")
    role = fields.String()
    joined_at = fields.DateTime()
    lifetime_grams = fields.Integer(attribute="resident.account.reduction_grams", metadata={
        "description": "Certified reduction, grams CO2e."})
    lifetime_points = fields.Integer(metadata={"description": "Points earned by credited actions (spending aside)."})


class HouseholdSchema(Output):
    """A ``Household`` ``Shown`` with its ``members``, the viewer's role and the household's total."""

    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    district = fields.Nested(DistrictSchema)
    my_role = fields.String()
    members = fields.List(fields.Nested(MemberSchema))
    total_grams = fields.Integer(metadata={"description": "Members' certified reduction plus the household's own."})


class InvitationCreateSchema(Input):
    phone = text(20, metadata={"description": "If given, only this phone number can accept."})


class InvitationSchema(Output):
    """A ``households.IssuedInvitation``."""

    code = fields.String(metadata={"description": "Shown once; give it to the person you invite."})
    expires_at = fields.DateTime(attribute="invitation.expires_at")


class JoinSchema(Input):
    code = text(20, required=True)


class TransferHeadSchema(Input):
    resident_id = strict_int(required=True)
