"""The signed-in resident: profile, balances, points history."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g
from marshmallow import fields

from carbon_platform.clock import city_day, utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, Book, Journal, LedgerEntry
from carbon_platform.services import accounts, households, ledger, privacy
from mobile_api.auth import BEARER, holder_required, resident_required
from mobile_api.blueprint import Blueprint
from mobile_api.paging import page
from mobile_api.schemas.common import NoBody, Output, Shown
from mobile_api.schemas.me import MeSchema, PointsMovementSchema, ProfileUpdateSchema

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in resident.")


def shown(resident) -> Shown:
    """The resident as ``MeSchema`` shows them: with their balances and household."""
    return Shown(resident, balances=ledger.balances(resident.account), membership=households.membership_of(resident))


@blp.get("")
@blp.response(200, MeSchema)
@blp.doc(security=[BEARER])
@resident_required
def get_me():
    """Profile, household, balances (available, pending, expiring soon) and lifetime reduction."""
    return shown(g.resident)


@blp.patch("")
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, MeSchema)
@blp.doc(security=[BEARER])
@resident_required
def update_me(body):
    """Change display name, district or real name (null removes the real name)."""
    accounts.update_profile(
        g.resident,
        display_name=body.get("display_name"),
        district_code=body.get("district"),
        real_name=body.get("real_name"),
        clear_real_name="real_name" in body and body["real_name"] is None,
    )
    commit()
    return shown(g.resident)


@blp.get("/points/history")
@blp.response(200, PointsMovementSchema(many=True))
@blp.paginate()
@blp.doc(security=[BEARER])
@holder_required
def points_history(pagination_parameters):
    """Every movement of my points and reduction, newest first (a resident's or an enterprise's account)."""
    account_id = g.account_id
    points = sa.func.sum(sa.case((LedgerEntry.book.in_([Book.AVAILABLE, Book.PENDING]), LedgerEntry.amount),
                                 else_=0))
    grams = sa.func.sum(sa.case((LedgerEntry.book == Book.REDUCTION, LedgerEntry.amount), else_=0))
    query = (
        sa.select(Journal, points.label("points"), grams.label("grams"))
        .join(LedgerEntry, LedgerEntry.journal_id == Journal.id)
        .where(LedgerEntry.account_id == account_id)
        .group_by(Journal.id)
        .order_by(Journal.id.desc())
    )
    rows = page(query, pagination_parameters, rows=True)
    released = ledger.release_times(j.id for j, _p, _gr in rows)
    actions = _actions_of([j for j, _p, _gr in rows])
    return [Shown(j, points=int(p), grams=int(gr), action_id=actions.get(j.id), release_at=released.get(j.id))
            for j, p, gr in rows]


def _actions_of(journals) -> dict[int, int]:
    """Journal id → the action it credited, or (for a reversal) the action whose credit it reversed."""
    credit_of = {j.id: j.reverses_id or j.id for j in journals}
    if not credit_of:
        return {}
    by_credit = dict(db.session.execute(
        sa.select(Action.journal_id, Action.id).where(Action.journal_id.in_(set(credit_of.values())))
    ).all())
    return {journal: by_credit[credit] for journal, credit in credit_of.items() if credit in by_credit}


class ExportSchema(Output):
    """My personal data (PIPL access and portability); each list newest first, at most ``limits.rows_per_list``."""

    format = fields.String(metadata={"description": privacy.FORMAT})
    generated_at = fields.String()
    profile = fields.Dict()
    account = fields.Dict()
    household = fields.Dict(allow_none=True)
    bindings = fields.List(fields.Dict(), metadata={"description": "Kind, partner, last four, status: no hash."})
    binding_codes = fields.List(fields.Dict())
    authorisations = fields.List(fields.Dict())
    actions = fields.List(fields.Dict(), metadata={"description": "With receipts and their photos' ids and sizes."})
    unattached_evidence = fields.List(fields.Dict())
    vouchers = fields.List(fields.Dict(), metadata={"description": "Without their codes (bearer credentials)."})
    points_history = fields.List(fields.Dict(), metadata={"description": "Every journal that moved my points."})
    point_lots = fields.List(fields.Dict())
    adjustments = fields.List(fields.Dict())
    sessions = fields.List(fields.Dict(), metadata={"description": "Started and last refreshed; never a token."})
    login_codes = fields.List(fields.Dict(), metadata={"description": "When codes were sent; never a code."})
    truncated = fields.List(fields.String(), metadata={"description": "Lists cut at the limit (normally none)."})
    limits = fields.Dict()


@blp.get("/export")
@blp.response(200, ExportSchema, headers={"Content-Disposition": {
    "description": "attachment; filename=\"carbon-export-<id>-<YYYYMMDD>.json\" (Beijing date)",
    "schema": {"type": "string"}}})
@blp.doc(security=[BEARER])
@resident_required
def export_me():
    """Download everything the platform holds about me, as JSON (PIPL access and portability). Writes nothing."""
    now = utcnow()
    name = f"carbon-export-{g.resident.id}-{city_day(now):%Y%m%d}.json"
    return privacy.export(g.resident, now), {"Content-Disposition": f'attachment; filename="{name}"'}


@blp.delete("")
@blp.arguments(NoBody)
@blp.response(204)
@blp.doc(security=[BEARER])
@resident_required
def delete_me(_body):
    """Delete my account (PIPL erasure): open vouchers are cancelled and refunded, the points left cancelled,
    personal data erased and every token revoked; the anonymised ledger figures stay. 409 ``deletion_blocked``
    with ``details.reasons`` while something must finish first (see docs/api.md, Privacy)."""
    done = privacy.delete_resident(g.resident)
    commit()
    privacy.remove_files(done.files)
