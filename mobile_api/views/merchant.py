"""Merchant staff: who am I (scanning and settlement endpoints join this blueprint)."""

from __future__ import annotations

from flask import g
from marshmallow import fields

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
