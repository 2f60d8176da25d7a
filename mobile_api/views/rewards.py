"""The reward mall and my vouchers (residents), and scanning vouchers at the till (merchant staff)."""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import g, send_file
from marshmallow import RAISE
from sqlalchemy.orm import joinedload

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.errors import InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Merchant, MerchantStaff, Reward, Voucher, VoucherStatus
from carbon_platform.services import evidence, rewards, vouchers
from carbon_platform.services.voucher_images import qr_png_path
from mobile_api import idempotency, scan_allowance
from mobile_api.auth import BEARER, resident_required, staff_required
from mobile_api.blueprint import Blueprint
from mobile_api.paging import page
from mobile_api.schemas.catalogue import MerchantListSchema
from mobile_api.schemas.common import NoBody, Shown
from mobile_api.schemas.rewards import (
    ConsumeSchema,
    ConsumptionQuerySchema,
    ConsumptionSchema,
    RewardQuerySchema,
    RewardSchema,
    ScanResultSchema,
    ScanSchema,
    VoucherQuerySchema,
    VoucherSchema,
)

blp = Blueprint("rewards", __name__, url_prefix="/api/v1", description="The reward mall and my vouchers.")
till = Blueprint("till", __name__, url_prefix="/api/v1/merchant", description="Scanning vouchers at the till.")


def _on_sale():
    now = utcnow()
    return (sa.select(Reward).join(Merchant, Merchant.id == Reward.merchant_id)
            .where(Reward.active.is_(True), Merchant.active.is_(True), Reward.stock > 0,
                   sa.or_(Reward.starts_at.is_(None), Reward.starts_at <= now),
                   sa.or_(Reward.ends_at.is_(None), Reward.ends_at > now)))


@blp.get("/merchants")
@blp.response(200, MerchantListSchema)
@blp.arguments(NoBody, location="query", unknown=RAISE)  # webargs excludes unknown query fields by default
@blp.doc(security=[])
def list_merchants(_query):
    """Public: the merchants that have rewards on sale now, by name (for the mall's merchant filter)."""
    on_sale = _on_sale().with_only_columns(Reward.merchant_id).distinct().subquery()
    rows = db.session.execute(sa.select(Merchant).options(joinedload(Merchant.district))
                              .where(Merchant.id.in_(sa.select(on_sale.c.merchant_id)))
                              .order_by(Merchant.name, Merchant.id)).scalars()
    return {"merchants": rows.all()}


@blp.get("/rewards")
@blp.arguments(RewardQuerySchema, location="query")
@blp.response(200, RewardSchema(many=True))
@blp.paginate()
@blp.doc(security=[BEARER])
@resident_required
def list_rewards(query, pagination_parameters):
    """Rewards on sale now, cheapest first: filter by district (eligible there), merchant, or what I can afford."""
    statement = _on_sale()
    if "merchant_id" in query:
        statement = statement.where(Reward.merchant_id == query["merchant_id"])
    if query.get("affordable"):
        statement = statement.where(Reward.points_price <= g.resident.account.points_available)
    if "district" in query:
        statement = statement.where(rewards.eligible_in(query["district"]))
    rows = page(statement.order_by(Reward.points_price, Reward.id), pagination_parameters)
    return rows


@blp.get("/rewards/<int:reward_id>")
@blp.response(200, RewardSchema)
@blp.doc(security=[BEARER])
@resident_required
def get_reward(reward_id):
    """One reward."""
    reward = rewards.get(reward_id)
    if not reward.active or not reward.merchant.active:
        raise NotFound("no such reward", reward_id=reward_id)
    return reward


@blp.get("/rewards/<int:reward_id>/picture")
@blp.response(200, content_type="image/jpeg")
@blp.doc(security=[BEARER])
@resident_required
def reward_picture(reward_id):
    """The reward's picture (a re-encoded JPEG)."""
    reward = rewards.get(reward_id)
    if not reward.picture:
        raise NotFound("this reward has no picture", reward_id=reward_id)
    return send_file(os.path.join(evidence.folder("rewards"), reward.picture), mimetype="image/jpeg", max_age=3600)


@blp.post("/rewards/<int:reward_id>/redemptions")
@blp.arguments(NoBody)
@blp.response(201, VoucherSchema)
@blp.doc(security=[BEARER], parameters=[idempotency.PARAMETER])
@resident_required
def redeem(_body, reward_id):
    """Redeem points for a reward: one voucher, exactly once per Idempotency-Key.

    Errors: ``out_of_stock``, ``insufficient_points``, ``limit_reached`` (409); ``not_eligible`` (403, another
    district's reward); ``reward_unavailable`` (409, not on sale now); ``idempotency_key_reused`` (409).
    """
    key = idempotency.idempotency_key()
    redemption = vouchers.redeem(g.resident, reward_id, client_key=key)
    commit()
    return Shown(redemption.voucher, replayed=redemption.replayed)


@blp.get("/me/vouchers")
@blp.arguments(VoucherQuerySchema, location="query")
@blp.response(200, VoucherSchema(many=True))
@blp.paginate()
@blp.doc(security=[BEARER])
@resident_required
def my_vouchers(query, pagination_parameters):
    """My vouchers, newest first, filterable by status."""
    statement = sa.select(Voucher).where(Voucher.account_id == g.resident.account_id)
    if "status" in query:
        statement = statement.where(Voucher.status == VoucherStatus(query["status"]))
    rows = page(statement.order_by(Voucher.id.desc()), pagination_parameters)
    return rows


@blp.get("/me/vouchers/<bigint:voucher_id>")
@blp.response(200, VoucherSchema)
@blp.doc(security=[BEARER])
@resident_required
def my_voucher(voucher_id):
    """One of my vouchers, with its code and short code."""
    return vouchers.owned(voucher_id, g.resident.account_id)


@blp.get("/me/vouchers/<bigint:voucher_id>/qr.png")
@blp.response(200, content_type="image/png")
@blp.doc(security=[BEARER])
@resident_required
def voucher_qr(voucher_id):
    """The QR code with a caption (reward, merchant, expiry, short code); rendered once and cached."""
    voucher = vouchers.owned(voucher_id, g.resident.account_id)
    return send_file(qr_png_path(voucher), mimetype="image/png", max_age=0)


@blp.post("/me/vouchers/<bigint:voucher_id>/cancel")
@blp.arguments(NoBody)
@blp.response(200, VoucherSchema)
@blp.doc(security=[BEARER])
@resident_required
def cancel_voucher(_body, voucher_id):
    """Cancel an unused voucher: the points come back with their original expiry."""
    voucher = vouchers.owned(voucher_id, g.resident.account_id)
    vouchers.cancel(voucher, reason="cancelled by the resident")
    commit()
    return voucher


# -- at the till -----------------------------------------------------------------------------------


def shown(scan: vouchers.Scan) -> Shown:
    """The scan with the name of whoever consumed its voucher (for ``already_used``: who did)."""
    consumer_id = scan.voucher.consumed_by_id
    consumer = db.session.get(MerchantStaff, consumer_id) if consumer_id else None
    return Shown(scan, consumed_by=consumer.display_name if consumer else None)


@till.post("/vouchers/verify")
@till.arguments(ScanSchema)
@till.response(200, ScanResultSchema)
@till.doc(security=[BEARER])
@staff_required
def verify(body):
    """Read-only: is this voucher good here, now? (A QR payload or a typed short code.)

    Unknown codes count against ``CARBON_VOUCHER_SCAN_FAILURE_LIMIT``, shared with ``consume``; once it is used
    up: 429 ``rate_limited`` with ``Retry-After``."""
    return shown(scan_allowance.scan(g.staff, lambda: vouchers.verify(g.staff, body["code"])))


@till.post("/vouchers/consume")
@till.arguments(ConsumeSchema)
@till.response(200, ScanResultSchema)
@till.doc(security=[BEARER])
@staff_required
def consume(body):
    """Consume the voucher, once. ``outcome`` is ``consumed`` for the scan that did it (and for retries of that
    scan, same ``scan_nonce``), else ``already_used`` (with the original time), ``expired`` or ``cancelled``.
    Unknown codes count as for ``verify``."""
    scan = scan_allowance.scan(g.staff, lambda: vouchers.consume(g.staff, body["code"], body["scan_nonce"]))
    commit()
    return shown(scan)


@till.get("/consumptions")
@till.arguments(ConsumptionQuerySchema, location="query")
@till.response(200, ConsumptionSchema(many=True))
@till.doc(security=[BEARER])
@staff_required
def consumptions(query):
    """This merchant's consumed vouchers in [start, end): what settlement will pay."""
    if query["end"] <= query["start"] or (query["end"] - query["start"]).days > 366:
        raise InvalidInput("end must be after start, at most a year later", field="end")
    return vouchers.consumptions(g.staff.merchant_id, query["start"], query["end"])
