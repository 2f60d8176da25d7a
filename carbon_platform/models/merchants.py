"""Merchants (an enterprise or an individual business) and their staff."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_platform.models.accounts import CarbonAccount, Enterprise
from carbon_platform.models.base import Base, BigInt, CreatedAt, str_enum
from carbon_platform.models.reference import District


class MerchantKind(enum.StrEnum):
    ENTERPRISE = "enterprise"  # 企业
    INDIVIDUAL = "individual"  # 个体工商户


class StaffRole(enum.StrEnum):
    CASHIER = "cashier"
    MANAGER = "manager"


class Merchant(CreatedAt, Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    kind: Mapped[MerchantKind] = mapped_column(str_enum(MerchantKind, "merchant_kind"))
    enterprise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enterprises.id"))
    # Individual businesses also hold a 统一社会信用代码 (GB 32100-2015); enterprises use theirs.
    uscc: Mapped[str | None] = mapped_column(sa.String(18))
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("districts.id"))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"), unique=True)
    # The rulebook's merchant_checkin scenarios this merchant offers at its counter (``services.checkins``).
    checkin_scenarios: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")

    account: Mapped[CarbonAccount] = relationship(lazy="joined", innerjoin=True)
    district: Mapped[District] = relationship()
    enterprise: Mapped[Enterprise | None] = relationship()
    staff: Mapped[list[MerchantStaff]] = relationship(back_populates="merchant", order_by="MerchantStaff.id")


class MerchantStaff(CreatedAt, Base):
    """A person who scans vouchers for one merchant; logs in by phone like residents do."""

    __tablename__ = "merchant_staff"
    __table_args__ = (sa.UniqueConstraint("merchant_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    phone: Mapped[str] = mapped_column(sa.String(16), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(40))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole, "staff_role"))
    active: Mapped[bool] = mapped_column(default=True)

    merchant: Mapped[Merchant] = relationship(back_populates="staff")


class MerchantCheckin(Base):
    """A resident's check-in at a merchant's counter for one scene on one Beijing day, and the action it made.

    The unique constraint is what makes "once per resident, merchant, scene and day" hold under a race: the
    check-in claims its row (``INSERT … ON CONFLICT DO NOTHING``) before the action is awarded.
    """

    __tablename__ = "merchant_checkins"
    __table_args__ = (
        sa.UniqueConstraint("merchant_id", "account_id", "scenario", "day"),
        sa.Index("ix_merchant_checkins_merchant_day", "merchant_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"))
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"))
    scenario: Mapped[str] = mapped_column(sa.String(64))
    day: Mapped[date]  # the Beijing day of the code's time slot
    checked_in_at: Mapped[datetime]
    action_id: Mapped[int | None] = mapped_column(BigInt, sa.ForeignKey("actions.id"), unique=True)
