"""Households: an address, members (one of them the head), invitations to join."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_platform.models.accounts import CarbonAccount, Resident
from carbon_platform.models.base import Base, CreatedAt, str_enum
from carbon_platform.models.reference import District


class MemberRole(enum.StrEnum):
    HEAD = "head"
    MEMBER = "member"


class Household(CreatedAt, Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    address: Mapped[str] = mapped_column(sa.String(200))
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("districts.id"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"), unique=True)

    account: Mapped[CarbonAccount] = relationship(lazy="joined", innerjoin=True)
    district: Mapped[District] = relationship()
    memberships: Mapped[list[HouseholdMembership]] = relationship(
        back_populates="household", order_by="HouseholdMembership.id"
    )


class HouseholdMembership(Base):
    """A resident's place in a household: unique per resident, one head per household."""

    __tablename__ = "household_memberships"
    __table_args__ = (
        sa.Index(
            "uq_household_memberships_one_head",
            "household_id",
            unique=True,
            sqlite_where=sa.text("role = 'head'"),
            postgresql_where=sa.text("role = 'head'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("households.id"), index=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"), unique=True)
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole, "member_role"))
    joined_at: Mapped[datetime]

    household: Mapped[Household] = relationship(back_populates="memberships")
    resident: Mapped[Resident] = relationship(lazy="joined", innerjoin=True)


class HouseholdInvitation(CreatedAt, Base):
    """A one-time code the head hands to someone; only its hash is stored."""

    __tablename__ = "household_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("households.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("residents.id"))
    # Optional: when set, only this phone number may accept.
    phone: Mapped[str | None] = mapped_column(sa.String(16))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("residents.id"))
    revoked_at: Mapped[datetime | None]

    household: Mapped[Household] = relationship()
