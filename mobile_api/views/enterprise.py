"""The signed-in enterprise: its profile and carbon account.

Its actions, reduction totals, points history, bindings and authorisations are the ``/me/...`` views,
which serve whichever holder the token is for (a resident or an enterprise).
"""

from __future__ import annotations

from flask import g

from carbon_platform.services import ledger
from mobile_api.auth import BEARER, enterprise_required
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.common import Shown
from mobile_api.schemas.me import EnterpriseMeSchema

blp = Blueprint("enterprise", __name__, url_prefix="/api/v1/enterprise", description="The signed-in enterprise.")


@blp.get("/me")
@blp.response(200, EnterpriseMeSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def get_enterprise():
    """Profile, balances (available, pending, expiring soon) and lifetime reduction of the enterprise's account."""
    return Shown(g.enterprise, balances=ledger.balances(g.enterprise.account))
