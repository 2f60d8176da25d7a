"""Redemption, vouchers and their consumption: exactly once, whoever presses what how often.

Redeeming a reward is one transaction (the caller commits once):

1. lock the resident's account row: one redemption at a time per resident, so per-resident limits
   and the idempotency key are read without a race;
2. the Idempotency-Key: a replay returns the same voucher, a changed request under it is a 409;
3. decrement the stock with a guarded statement (``stock >= 1``): the last unit goes to one resident;
4. check the resident's limit for the reward's period (Beijing calendar);
5. spend the points, soonest-expiring lots first (``ledger.spend``);
6. issue the voucher.

Any failure rolls everything back. A voucher leaves ``issued`` once, by one guarded UPDATE
(``_leave_issued``), to ``consumed``, ``cancelled`` or ``expired``; a refund or a unit back in stock
follows only the transition that won. Consuming carries the scan's nonce: one scan wins, a retry of
that scan gets the same success, and every other scan learns it was already used, and when.

Voucher codes are signed, never stored: ``CV1.<id>.<mac>``, the mac an HMAC-SHA256 over the id and a
random 128-bit nonce under the app's secret key. The short code for manual entry (ten characters
from an alphabet without look-alikes) is derived the same way; only its hash is stored, for lookup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from carbon_platform.clock import utc_or_now, utcnow
from carbon_platform.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import (
    CarbonAccount,
    LimitPeriod,
    MerchantStaff,
    PointLot,
    Resident,
    Reward,
    StockChange,
    Voucher,
)
from carbon_platform.models import VoucherStatus as S
from carbon_platform.services import audit, ledger, rewards
from carbon_platform.services.journal import fingerprint
from points_rules import Period, period_bounds

CODE_PREFIX = "CV1"
SHORT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed at the till
SHORT_LENGTH = 10  # 31^10 ≈ 8 × 10^14; guessing is throttled per staff member as well


class OutOfStock(Conflict):
    code = "out_of_stock"


class LimitReached(Conflict):
    code = "limit_reached"


class RewardUnavailable(Conflict):
    code = "reward_unavailable"


class NotEligible(Forbidden):
    code = "not_eligible"


class InvalidVoucher(NotFound):
    code = "invalid_voucher"


# -- codes -----------------------------------------------------------------------------------------


def _mac(purpose: str, voucher_id: int, nonce: str) -> bytes:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"voucher:{purpose}:{voucher_id}:{nonce}".encode(), hashlib.sha256).digest()


def code_of(voucher: Voucher) -> str:
    """What the QR code carries: the id and 128 bits of MAC (unguessable without the secret key)."""
    mac = base64.urlsafe_b64encode(_mac("qr", voucher.id, voucher.nonce)[:16]).decode().rstrip("=")
    return f"{CODE_PREFIX}.{voucher.id}.{mac}"


def short_code_of(voucher_id: int, nonce: str) -> str:
    digest = int.from_bytes(_mac("short", voucher_id, nonce), "big")
    chars = []
    for _ in range(SHORT_LENGTH):
        digest, index = divmod(digest, len(SHORT_ALPHABET))
        chars.append(SHORT_ALPHABET[index])
    return "".join(chars)


def _short_hash(short_code: str) -> str:
    return hashlib.sha256(f"voucher-short:{short_code}".encode()).hexdigest()


def find_by_code(code: str) -> Voucher | None:
    """The voucher a scanned QR payload or a typed short code names, or None (nothing said about why)."""
    code = (code or "").strip()
    if code.startswith(CODE_PREFIX + "."):
        _prefix, _, rest = code.partition(".")
        voucher_id, _, mac = rest.partition(".")
        if not (voucher_id.isascii() and voucher_id.isdigit()) or len(voucher_id) > 18:  # "²".isdigit()
            return None
        voucher = db.session.get(Voucher, int(voucher_id))
        # Bytes, not str: compare_digest refuses a non-ASCII str with a TypeError (a 500 for a typed "é").
        if voucher is None or not hmac.compare_digest(code_of(voucher).encode(), code.encode()):
            return None
        return voucher
    typed = code.upper().replace(" ", "").replace("-", "")
    if len(typed) != SHORT_LENGTH or any(c not in SHORT_ALPHABET for c in typed):
        return None
    return db.session.execute(sa.select(Voucher).where(Voucher.short_code_hash == _short_hash(typed))).scalar()


# -- redemption ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redemption:
    voucher: Voucher
    replayed: bool = False


def redeem(resident: Resident, reward_id: int, *, client_key: str, now: datetime | None = None) -> Redemption:
    """One voucher for ``reward_id``, exactly once per ``client_key`` (the client's Idempotency-Key, checked
    where it arrives: ``mobile_api.idempotency``)."""
    now = utc_or_now(now)
    key = f"redeem:resident:{resident.id}:{client_key}"
    digest = fingerprint({"reward": reward_id, "account": resident.account_id})
    ledger.lock_account(resident.account_id)
    existing = db.session.execute(sa.select(Voucher).where(Voucher.idempotency_key == key)).scalar()
    if existing is not None:
        if existing.request_hash != digest:
            raise IdempotencyConflict(idempotency_key=client_key)
        return Redemption(existing, replayed=True)

    reward = rewards.get(reward_id)
    if not rewards.available_now(reward, now):
        raise RewardUnavailable("this reward is not available now", reward_id=reward_id)
    district = resident.district.code if resident.district else None
    if reward.districts and district not in reward.districts:
        raise NotEligible("this reward is for residents of other districts", districts=reward.districts)
    table = Reward.__table__
    taken = db.session.execute(
        sa.update(table).where(table.c.id == reward.id, table.c.stock >= 1).values(stock=table.c.stock - 1)
    ).rowcount
    if taken != 1:
        raise OutOfStock("this reward is out of stock", reward_id=reward_id)
    db.session.expire(reward, ["stock"])  # changed by the statement above, not through the object
    _check_limit(reward, resident.account_id, now)
    journal = ledger.spend(resident.account_id, points=reward.points_price, idempotency_key=key,
                           memo=f"reward {reward.id}", now=now)
    nonce = secrets.token_hex(16)
    voucher = Voucher(
        reward_id=reward.id, merchant_id=reward.merchant_id, account_id=resident.account_id, idempotency_key=key,
        request_hash=digest, points=reward.points_price, spend_journal_id=journal.id, nonce=nonce,
        short_code_hash="pending:" + nonce, status=S.ISSUED, issued_at=now,
        expires_at=now + timedelta(days=reward.voucher_days), face_value_fen=reward.face_value_fen,
        funder=reward.funder, created_at=now,
    )
    db.session.add(voucher)
    db.session.flush()
    voucher.short_code_hash = _short_hash(short_code_of(voucher.id, nonce))
    db.session.flush()
    return Redemption(voucher)


_LIMIT_PERIODS = {LimitPeriod.DAY: Period.DAY, LimitPeriod.WEEK: Period.WEEK, LimitPeriod.MONTH: Period.MONTH,
                  LimitPeriod.YEAR: Period.YEAR, LimitPeriod.EVER: Period.EVER}


def _check_limit(reward: Reward, account_id: int, now: datetime) -> None:
    if reward.limit_count is None:
        return
    start, end = period_bounds(now, _LIMIT_PERIODS[reward.limit_period])
    conditions = [Voucher.account_id == account_id, Voucher.reward_id == reward.id, Voucher.issued_at >= start,
                  Voucher.status != S.CANCELLED]
    if end is not None:
        conditions.append(Voucher.issued_at < end)
    used = db.session.execute(sa.select(sa.func.count()).select_from(Voucher).where(*conditions)).scalar_one()
    if used >= reward.limit_count:
        raise LimitReached(f"at most {reward.limit_count} per {reward.limit_period.value}",
                           limit=reward.limit_count, period=reward.limit_period.value)


# -- at the till -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    voucher: Voucher
    outcome: str  # consumed | already_used | expired | cancelled | valid


def _for_merchant(staff: MerchantStaff, code: str) -> Voucher:
    """The voucher, if it is this merchant's. Another merchant's is refused (403) with nothing about it."""
    voucher = find_by_code(code)
    if voucher is None:
        raise InvalidVoucher("no voucher has this code")
    if voucher.merchant_id != staff.merchant_id:
        raise Forbidden("this voucher is not for this merchant", code="other_merchant")
    return voucher


def _state(voucher: Voucher, now: datetime) -> str:
    if voucher.status is S.ISSUED:
        return "expired" if voucher.expires_at <= now else "valid"
    return {S.CONSUMED: "already_used", S.CANCELLED: "cancelled", S.EXPIRED: "expired"}[voucher.status]


def verify(staff: MerchantStaff, code: str, now: datetime | None = None) -> Scan:
    """Read-only: what consuming this voucher now would do."""
    voucher = _for_merchant(staff, code)
    return Scan(voucher, _state(voucher, utcnow() if now is None else now))


def consume(staff: MerchantStaff, code: str, scan_nonce: str, now: datetime | None = None) -> Scan:
    """Consume once. The same scan (nonce) again gets the same success; any other gets ``already_used``."""
    now = utc_or_now(now)
    if not isinstance(scan_nonce, str) or not 8 <= len(scan_nonce) <= 64:
        raise InvalidInput("scan_nonce must be 8 to 64 characters", field="scan_nonce")
    voucher = _for_merchant(staff, code)
    won = _leave_issued(voucher, S.CONSUMED, now, unexpired=True, consumed_at=now, consumed_by_id=staff.id,
                        scan_nonce=scan_nonce)
    if won:
        audit.record(audit.Actor("merchant_staff", staff.id, staff.display_name), "voucher.consume", voucher)
        return Scan(voucher, "consumed")
    if voucher.status is S.CONSUMED and voucher.scan_nonce == scan_nonce:
        return Scan(voucher, "consumed")  # a retry of the scan that won (the reply was lost)
    return Scan(voucher, _state(voucher, now))


# -- cancellation and expiry -----------------------------------------------------------------------


def _leave_issued(voucher: Voucher, status: S, now: datetime, *, unexpired: bool, **values) -> bool:
    """The one way a voucher's status changes: a guarded ``issued → status`` statement. True if this call won.

    Consumption, cancellation and expiry race each other (a till, the resident's phone, the cron job);
    whichever statement runs second finds the row no longer ``issued`` and changes nothing, so a refund
    or a unit back in stock follows only the transition that won. ``unexpired`` says which side of
    ``expires_at`` the voucher must be on: consuming and cancelling need it still valid at ``now``,
    expiring needs it past. The voucher object is reloaded either way.
    """
    table = Voucher.__table__
    on_time = table.c.expires_at > now if unexpired else table.c.expires_at <= now
    won = db.session.execute(
        sa.update(table).where(table.c.id == voucher.id, table.c.status == S.ISSUED.value, on_time)
        .values(status=status.value, **values)
    ).rowcount == 1
    db.session.refresh(voucher)
    return won


def cancel(voucher: Voucher, *, reason: str, actor: audit.Actor | None = None,
           now: datetime | None = None) -> Voucher:
    """Cancel an unused voucher: its points come back keeping their original expiry, its unit back to stock.

    A voucher past its expiry cannot be cancelled, even before the expiry job has closed it: that would
    refund points the reward's policy forfeits.
    """
    now = utc_or_now(now)
    ledger.lock_account(voucher.account_id)  # the refund locks it anyway: take it first, as redeem does
    if not _leave_issued(voucher, S.CANCELLED, now, unexpired=True, closed_at=now, close_reason=reason[:200]):
        state = "expired" if voucher.status is S.ISSUED else voucher.status.value
        raise Conflict(f"this voucher is {state}", code="voucher_not_open", voucher_status=state)
    _give_back(voucher, now, refund=True, restock=True)
    if actor is not None:
        audit.record(actor, "voucher.cancel", voucher, reason=reason)
    return voucher


def refund_key(voucher_id: int) -> str:
    """The idempotency key of a voucher's refund; ``ledger.refund`` adds ``:lot<id>`` per source lot.
    (``invariants`` rebuilds both this and ``restock_reason`` in SQL to find what a voucher gave back.)"""
    return f"voucher:{voucher_id}"


def restock_reason(voucher_id: int) -> str:
    """The stock journal's reason for the unit a cancelled voucher returns."""
    return f"voucher {voucher_id} cancelled"


def _give_back(voucher: Voucher, now: datetime, *, refund: bool, restock: bool) -> None:
    """What a cancellation or an expiry returns; only after ``_leave_issued`` won (the row is ours)."""
    if refund:
        voucher.refunded_points = ledger.refund(voucher.spend_journal_id, idempotency_key=refund_key(voucher.id),
                                                reason=f"voucher {voucher.id} {voucher.status.value}", now=now)
    if restock:
        table = Reward.__table__
        stock_after = db.session.execute(
            sa.update(table).where(table.c.id == voucher.reward_id).values(stock=table.c.stock + 1)
            .returning(table.c.stock)
        ).scalar_one()
        db.session.add(StockChange(reward_id=voucher.reward_id, delta=1, stock_after=stock_after,
                                   reason=restock_reason(voucher.id), actor="system"))
        db.session.expire(voucher.reward, ["stock"])


def expire_due(now: datetime | None = None, batch: int = 200):
    """Close vouchers past their expiry, refunding per the reward's policy; yields each voucher it closed.

    Idempotent and safe beside consumption and cancellation: each voucher leaves ``issued`` by the one
    guarded transition, so one consumed in the meantime is left alone (and not yielded). The caller
    commits (per batch, for a long run).
    """
    now = utc_or_now(now)
    while True:
        due = db.session.execute(
            sa.select(Voucher.id, Voucher.account_id).where(Voucher.status == S.ISSUED, Voucher.expires_at <= now)
            .order_by(Voucher.id).limit(batch)
        ).all()
        if not due:
            return
        for voucher_id, account_id in due:
            ledger.lock_account(account_id)
            if expire(db.session.get(Voucher, voucher_id), now):
                yield voucher_id
        db.session.flush()


def expire(voucher: Voucher, now: datetime) -> bool:
    """Close one voucher past its expiry (its account locked by the caller), refunding per the reward's
    policy; False when it had already left ``issued``."""
    if not _leave_issued(voucher, S.EXPIRED, now, unexpired=False, closed_at=now,
                         close_reason="not used before it expired"):
        return False
    _give_back(voucher, now, refund=voucher.reward.refund_on_expiry, restock=False)
    return True


# -- settlement and liability ----------------------------------------------------------------------


def consumptions(merchant_id: int, start: datetime, end: datetime):
    """The merchant's consumed vouchers in [start, end), oldest first."""
    return db.session.execute(
        sa.select(Voucher).where(Voucher.merchant_id == merchant_id, Voucher.status == S.CONSUMED,
                                 Voucher.consumed_at >= start, Voucher.consumed_at < end)
        .order_by(Voucher.consumed_at, Voucher.id)
    ).scalars()


def settlement(start: datetime, end: datetime) -> list[dict]:
    """Per merchant and funder: vouchers consumed in [start, end) and their face value in fen."""
    rows = db.session.execute(
        sa.select(Voucher.merchant_id, Voucher.funder, sa.func.count(), sa.func.sum(Voucher.face_value_fen))
        .where(Voucher.status == S.CONSUMED, Voucher.consumed_at >= start, Voucher.consumed_at < end)
        .group_by(Voucher.merchant_id, Voucher.funder)
        .order_by(Voucher.merchant_id, Voucher.funder)
    ).all()
    return [{"merchant_id": m, "funder": str(f), "vouchers": int(n),
             "face_value_fen": int(v or 0)} for m, f, n, v in rows]


def liability(now: datetime | None = None, *, fen_per_point: int | None = None) -> dict[str, int]:
    """Outstanding points (available and pending) with their ¥ value, points expiring in 30 and 90 days,
    and vouchers issued but not yet used."""
    now = utc_or_now(now)
    rate = current_app.config["POINT_VALUE_FEN"] if fen_per_point is None else fen_per_point
    outstanding = int(db.session.execute(  # the accounts' cached balances (``ledger verify`` proves them)
        sa.select(sa.func.coalesce(sa.func.sum(CarbonAccount.points_available + CarbonAccount.points_pending), 0))
    ).scalar_one())

    def expiring(days: int) -> int:
        return int(db.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(PointLot.remaining), 0))
            .where(PointLot.remaining > 0, PointLot.expires_at <= now + timedelta(days=days))
        ).scalar_one())

    open_vouchers, open_points, open_fen = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Voucher.points), 0),
                  sa.func.coalesce(sa.func.sum(Voucher.face_value_fen), 0))
        .where(Voucher.status == S.ISSUED, Voucher.expires_at > now)
    ).one()
    return {"outstanding_points": outstanding, "outstanding_fen": outstanding * rate, "fen_per_point": rate,
            "expiring_30_days": expiring(30), "expiring_90_days": expiring(90),
            "vouchers_outstanding": int(open_vouchers), "vouchers_outstanding_points": int(open_points),
            "vouchers_outstanding_fen": int(open_fen)}


def owned(voucher_id: int, account_id: int) -> Voucher:
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is None or voucher.account_id != account_id:
        raise NotFound("no such voucher", voucher_id=voucher_id)
    return voucher


__all__ = ["Redemption", "Scan", "cancel", "code_of", "consume", "consumptions", "expire", "expire_due", "find_by_code",
           "liability", "owned", "redeem", "settlement", "short_code_of", "verify"]
