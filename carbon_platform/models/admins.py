"""Administrators of the console and their roles."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_platform.models.banks import FinancialInstitution
from carbon_platform.models.base import Base, CreatedAt, str_enum


class AdminRole(enum.StrEnum):
    SUPER_ADMIN = "super_admin"
    OPERATOR = "operator"
    REVIEWER = "reviewer"
    MERCHANT_MANAGER = "merchant_manager"
    AUDITOR = "auditor"  # read-only
    BANK = "bank"  # a financial institution's staff: only enterprises that granted it (models.banks)


class Administrator(CreatedAt, Base):
    __tablename__ = "administrators"
    __table_args__ = (
        # Bank staff belong to their institution, and nobody else belongs to one.
        sa.CheckConstraint("(role = 'bank') = (institution_id IS NOT NULL)", name="bank_staff_have_institution"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[AdminRole] = mapped_column(str_enum(AdminRole, "admin_role"))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    # Copied into the signed session cookie at login; a cookie carrying any other value is refused.
    # Raised (never reset) by logout, a password change and deactivation, which end every session at once.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("financial_institutions.id"))

    institution: Mapped[FinancialInstitution | None] = relationship()  # bank staff's (models.banks)
