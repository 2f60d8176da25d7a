"""The resident's own profile, balances and points history."""

from marshmallow import fields

from mobile_api.schemas.common import DistrictSchema, Input, Output, text


class BalancesSchema(Output):
    """``ledger.Balances``."""

    available = fields.Integer(metadata={"description": "Points that can be spent now."})
    pending = fields.Integer(metadata={"description": "Points on hold until their release time."})
    next_release_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the soonest pending points become spendable (UTC); null when none are pending. A "
                       "past time: they move at the next settlement."})
    expiring_soon = fields.Integer(metadata={"description": "Points that expire within expiring_within_days."})
    expiring_within_days = fields.Integer()


class ReductionSchema(Output):
    """A ``CarbonAccount``'s reduction."""

    lifetime_grams = fields.Integer(attribute="reduction_grams", metadata={
        "description": "Certified reduction, grams CO2e."})


class MyHouseholdSchema(Output):
    """A ``HouseholdMembership``."""

    id = fields.Integer(attribute="household_id")
    name = fields.String(attribute="household.name")
    role = fields.String()


class AccountSummary(Output):
    """A holder (resident or enterprise) ``Shown`` with its ``balances`` (``ledger.balances``)."""

    balances = fields.Nested(BalancesSchema)
    reduction = fields.Nested(ReductionSchema, attribute="account")
    account_frozen = fields.Boolean(attribute="account.frozen")


class MeSchema(AccountSummary):
    """A resident ``Shown`` with its balances and its household ``membership`` (or None)."""

    id = fields.Integer()
    phone = fields.String()
    display_name = fields.String()
    real_name = fields.String(allow_none=True)
    district = fields.Nested(DistrictSchema, allow_none=True)
    household = fields.Nested(MyHouseholdSchema, attribute="membership", allow_none=True)


class EnterpriseMeSchema(AccountSummary):
    id = fields.Integer()
    name = fields.String()
    uscc = fields.String(metadata={"description": "统一社会信用代码"})
    industry = fields.String(metadata={"description": "the enterprise's own words for what it does"})
    industry_code = fields.String(allow_none=True, metadata={
        "description": "GB/T 4754-2017 division its benchmark compares it with; null until the console sets it"})
    industry_name_zh = fields.String(allow_none=True)
    industry_name_en = fields.String(allow_none=True)
    key_energy_user = fields.Boolean(metadata={"description": "重点用能单位"})
    district = fields.Nested(DistrictSchema)
    contact_name = fields.String()


class ProfileUpdateSchema(Input):
    display_name = text(40)
    district = fields.String(metadata={"description": "District code, e.g. 370902."})
    real_name = fields.String(allow_none=True, metadata={"description": "Optional; null removes it."})


class PointsMovementSchema(Output):
    """A ``Journal`` ``Shown`` with its change to the account (``points``, ``grams``), ``action_id`` and
    ``release_at``."""

    journal_id = fields.Integer(attribute="id")
    kind = fields.String(metadata={"description": "earn, spend, release, expire, reverse or adjust"})
    points = fields.Integer(metadata={"description": "Change to available plus pending points."})
    grams = fields.Integer(metadata={"description": "Change to certified reduction."})
    scenario = fields.String(allow_none=True)
    memo = fields.String()
    action_id = fields.Integer(allow_none=True, metadata={
        "description": "The action this movement credited or reversed (GET /me/actions/{id}); null for the others."})
    created_at = fields.DateTime()
    release_at = fields.DateTime(allow_none=True, metadata={
        "description": "For a movement that brought points (an earning, a positive adjustment, a refund): when they "
                       "become (or became) spendable, UTC; null for the others."})
