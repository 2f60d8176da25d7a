"""The reward mall: merchants' rewards, their journaled stock, and the vouchers residents redeem.

A voucher's code is never stored. It is a signed payload (the voucher id and an HMAC over a random
128-bit nonce), so a copy of the database alone cannot forge or read one; the short code typed at
the till is derived the same way and only its hash is kept, for lookup.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_platform.models.base import IDEMPOTENCY_KEY_LENGTH, Base, BigInt, CreatedAt, str_enum
from carbon_platform.models.merchants import Merchant


class Funder(enum.StrEnum):
    """Who pays the merchant a voucher's face value at settlement."""

    MERCHANT = "merchant"  # the merchant's own promotion: nothing to settle
    CITY = "city"  # the city's carbon-inclusion fund
    SPONSOR = "sponsor"  # a sponsor named on the reward


class LimitPeriod(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    EVER = "ever"


class VoucherStatus(enum.StrEnum):
    ISSUED = "issued"
    CONSUMED = "consumed"
    CANCELLED = "cancelled"  # by the resident or an administrator; points refunded
    EXPIRED = "expired"  # unused past its expiry; refunded or not, per the reward's policy


class Reward(CreatedAt, Base):
    __tablename__ = "rewards"
    __table_args__ = (
        sa.CheckConstraint("stock >= 0", name="stock_nonnegative"),
        sa.CheckConstraint("points_price > 0", name="points_price_positive"),
        sa.CheckConstraint("face_value_fen >= 0", name="face_value_nonnegative"),
        sa.CheckConstraint("voucher_days > 0", name="voucher_days_positive"),
        sa.CheckConstraint("limit_count IS NULL OR limit_count > 0", name="limit_count_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    name_zh: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    picture: Mapped[str | None] = mapped_column(sa.String(80))  # server-chosen file name (see services.evidence)
    points_price: Mapped[int] = mapped_column(BigInt)
    stock: Mapped[int] = mapped_column(BigInt, default=0)  # changes only by guarded statements, journaled
    limit_count: Mapped[int | None]  # vouchers per resident per limit_period (None: no limit)
    limit_period: Mapped[LimitPeriod | None] = mapped_column(str_enum(LimitPeriod, "limit_period"))
    districts: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # eligible district codes; empty: all
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    voucher_days: Mapped[int] = mapped_column(default=30)
    face_value_fen: Mapped[int] = mapped_column(BigInt, default=0)  # ¥ in fen (分), for settlement
    funder: Mapped[Funder] = mapped_column(str_enum(Funder, "funder"))
    sponsor: Mapped[str | None] = mapped_column(sa.String(80))
    refund_on_expiry: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    merchant: Mapped[Merchant] = relationship(lazy="joined", innerjoin=True)


class StockChange(CreatedAt, Base):
    """Every change of a reward's stock that is not a redemption: who, by how much, why."""

    __tablename__ = "reward_stock_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(sa.ForeignKey("rewards.id"), index=True)
    delta: Mapped[int] = mapped_column(BigInt)
    stock_after: Mapped[int] = mapped_column(BigInt)
    reason: Mapped[str] = mapped_column(sa.String(200))
    actor: Mapped[str] = mapped_column(sa.String(80))


class Voucher(CreatedAt, Base):
    __tablename__ = "vouchers"
    __table_args__ = (
        sa.Index("ix_vouchers_limit", "account_id", "reward_id", "issued_at"),
        sa.Index("ix_vouchers_settlement", "merchant_id", "consumed_at"),
        sa.Index("ix_vouchers_open", "expires_at", sqlite_where=sa.text("status = 'issued'"),
                 postgresql_where=sa.text("status = 'issued'")),
        sa.CheckConstraint("points > 0", name="points_positive"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    reward_id: Mapped[int] = mapped_column(sa.ForeignKey("rewards.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"))
    idempotency_key: Mapped[str] = mapped_column(sa.String(IDEMPOTENCY_KEY_LENGTH), unique=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    points: Mapped[int] = mapped_column(BigInt)
    spend_journal_id: Mapped[int] = mapped_column(BigInt, sa.ForeignKey("journals.id"), unique=True)
    nonce: Mapped[str] = mapped_column(sa.String(32))  # 128 random bits, hex; the code is signed over it
    short_code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[VoucherStatus] = mapped_column(str_enum(VoucherStatus, "voucher_status"),
                                                  default=VoucherStatus.ISSUED)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Copied from the reward when issued: settlement pays what was promised, whatever the reward says later.
    face_value_fen: Mapped[int] = mapped_column(BigInt)
    funder: Mapped[Funder] = mapped_column(str_enum(Funder, "voucher_funder"))
    consumed_at: Mapped[datetime | None]
    consumed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("merchant_staff.id"))
    scan_nonce: Mapped[str | None] = mapped_column(sa.String(64))  # the consuming scan's nonce (a retry is a success)
    closed_at: Mapped[datetime | None]  # cancelled or expired
    close_reason: Mapped[str | None] = mapped_column(sa.String(200))
    refunded_points: Mapped[int] = mapped_column(BigInt, default=0)

    reward: Mapped[Reward] = relationship(lazy="joined", innerjoin=True)
