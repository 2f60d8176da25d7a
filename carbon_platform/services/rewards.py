"""Merchants' rewards: created and edited by merchant managers in the console, stock changes journaled."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from carbon_platform.clock import utcnow
from carbon_platform.errors import Conflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import District, Funder, LimitPeriod, Merchant, Reward, StockChange
from carbon_platform.models.base import MAX_INT32
from carbon_platform.services import audit, evidence
from carbon_platform.services.accounts import clean_name
from carbon_platform.services.journal import MAX_AMOUNT

MAX_VOUCHER_DAYS = 3650

EDITABLE = ("name_zh", "name_en", "description_zh", "description_en", "points_price", "limit_count", "limit_period",
            "districts", "starts_at", "ends_at", "voucher_days", "face_value_fen", "funder", "sponsor",
            "refund_on_expiry", "active")


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    for name, length in (("name_zh", 80), ("name_en", 120)):
        if name in out:
            out[name] = clean_name(out[name], name, max_length=length)
    # Bounded by what the columns hold (and a price by what one ledger movement may be): an oversized
    # number is the caller's error, never a database overflow.
    for name, maximum in (("points_price", MAX_AMOUNT), ("voucher_days", MAX_VOUCHER_DAYS)):
        if name in out and (type(out[name]) is not int or not 0 < out[name] <= maximum):
            raise InvalidInput(f"{name} must be a whole number from 1 to {maximum}", code="number_out_of_range",
                               field=name, minimum=1, maximum=maximum)
    if "face_value_fen" in out and (type(out["face_value_fen"]) is not int
                                    or not 0 <= out["face_value_fen"] <= MAX_AMOUNT):
        raise InvalidInput(f"face_value_fen must be a whole number of fen from 0 to {MAX_AMOUNT}",
                           code="number_out_of_range", field="face_value_fen", minimum=0, maximum=MAX_AMOUNT)
    if out.get("limit_count") is not None and (type(out["limit_count"]) is not int
                                               or not 0 < out["limit_count"] <= MAX_INT32):
        raise InvalidInput(f"limit_count must be a whole number from 1 to {MAX_INT32}", code="number_out_of_range",
                           field="limit_count", minimum=1, maximum=MAX_INT32)
    if "limit_period" in out and out["limit_period"] is not None:
        out["limit_period"] = LimitPeriod(out["limit_period"])
    if "funder" in out:
        out["funder"] = Funder(out["funder"])
    if "districts" in out:
        codes = sorted(set(out["districts"] or []))
        known = set(db.session.execute(sa.select(District.code).where(District.code.in_(codes))).scalars())
        if unknown := [c for c in codes if c not in known]:
            raise InvalidInput(f"unknown district {unknown[0]}", code="unknown_district", field="districts",
                               district=unknown[0])
        out["districts"] = codes
    return out


def create(merchant: Merchant, *, stock: int, actor: audit.Actor, **fields: Any) -> Reward:
    if type(stock) is not int or not 0 <= stock <= MAX_AMOUNT:
        raise InvalidInput(f"stock must be a whole number from 0 to {MAX_AMOUNT}", code="number_out_of_range",
                           field="stock", minimum=0, maximum=MAX_AMOUNT)
    fields = _checked(fields)
    reward = Reward(merchant=merchant, stock=0, **fields)
    _validate_window(reward)
    db.session.add(reward)
    db.session.flush()
    audit.record(actor, "reward.create", reward, name=reward.name_zh, merchant=merchant.id)
    if stock:
        change_stock(reward, stock, reason="opening stock", actor=actor)
    return reward


def update(reward: Reward, *, actor: audit.Actor, **fields: Any) -> Reward:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]} cannot be changed here", field=sorted(unknown)[0])
    changes = _checked(fields)
    before = {name: getattr(reward, name) for name in changes}
    for name, value in changes.items():
        setattr(reward, name, value)
    _validate_window(reward)
    audit.record(actor, "reward.update", reward, **audit.changes(before, changes))
    return reward


def _validate_window(reward: Reward) -> None:
    if reward.starts_at and reward.ends_at and reward.ends_at <= reward.starts_at:
        raise InvalidInput("ends_at must be after starts_at", code="window_backwards", field="ends_at")
    if (reward.limit_count is None) != (reward.limit_period is None):
        raise InvalidInput("a limit needs both a count and a period", code="limit_incomplete", field="limit_period")


def change_stock(reward: Reward, delta: int, *, reason: str, actor: audit.Actor) -> StockChange:
    """Add (or, negative, withdraw) stock; never below zero, even beside concurrent redemptions."""
    if type(delta) is not int or delta == 0 or abs(delta) > MAX_AMOUNT:
        raise InvalidInput(f"a stock change is a non-zero whole number of at most {MAX_AMOUNT}",
                           code="stock_change_invalid", field="delta", maximum=MAX_AMOUNT)
    if not reason.strip():
        raise InvalidInput("a stock change needs a reason", code="reason_required", field="reason")
    table = Reward.__table__
    stock_after = db.session.execute(
        sa.update(table).where(table.c.id == reward.id, table.c.stock + delta >= 0, table.c.stock + delta <= MAX_AMOUNT)
        .values(stock=table.c.stock + delta).returning(table.c.stock)
    ).scalar()
    if stock_after is None:
        if delta > 0:  # the guard's other half: stock stays far from the column's limit
            raise Conflict(f"stock cannot exceed {MAX_AMOUNT}", code="stock_too_high", reward_id=reward.id,
                           maximum=MAX_AMOUNT)
        raise Conflict("not that much stock left to withdraw", code="stock_too_low", reward_id=reward.id)
    change = StockChange(reward_id=reward.id, delta=delta, stock_after=stock_after, reason=reason.strip()[:200],
                         actor=f"{actor.type}:{actor.name or actor.id}"[:80])
    db.session.add(change)
    db.session.flush()
    db.session.refresh(reward, ["stock"])
    audit.record(actor, "reward.stock", reward, delta=delta, stock_after=stock_after, reason=change.reason)
    return change


def set_picture(reward: Reward, data: bytes, *, actor: audit.Actor) -> Reward:
    """A picture cleaned exactly as evidence photos are (checked before decoding, re-encoded, no EXIF)."""
    stored, _thumb, _size = evidence.save_clean(evidence.clean_image(data, field="picture"), "rewards")
    reward.picture = stored
    audit.record(actor, "reward.picture", reward)
    return reward


def get(reward_id: int) -> Reward:
    reward = db.session.get(Reward, reward_id)
    if reward is None:
        raise NotFound("no such reward", reward_id=reward_id)
    return reward


def eligible_in(district: str) -> sa.ColumnElement[bool]:
    """Rewards open to residents of ``district``: those that list it, and those that list no district.

    A condition in SQL, so that a filtered list is paginated after filtering (its total counts what the
    filter returns). ``districts`` is a JSON array: PostgreSQL asks jsonb containment, SQLite ``json_each``.
    """
    everywhere = sa.func.json_array_length(Reward.districts) == 0
    if db.session.get_bind().dialect.name == "postgresql":
        listed = sa.cast(Reward.districts, JSONB).op("@>")(sa.cast(sa.literal(json.dumps([district])), JSONB))
    else:
        each = sa.func.json_each(Reward.districts).table_valued("value")
        listed = sa.exists().select_from(each).where(each.c.value == district)
    return sa.or_(everywhere, listed)


def available_now(reward: Reward, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (reward.active and reward.merchant.active and (reward.starts_at is None or reward.starts_at <= now)
            and (reward.ends_at is None or now < reward.ends_at))
