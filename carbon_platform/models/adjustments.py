"""Manual adjustments: above a threshold, one administrator asks and another decides."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from carbon_platform.models.base import Base, BigInt, str_enum, utc_now


class AdjustmentStatus(enum.StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


class AdjustmentRequest(Base):
    __tablename__ = "adjustment_requests"
    __table_args__ = (sa.CheckConstraint("points <> 0", name="points_nonzero"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"), index=True)
    points: Mapped[int] = mapped_column(BigInt)  # positive credits, negative debits
    reason: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[AdjustmentStatus] = mapped_column(str_enum(AdjustmentStatus, "adjustment_status"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("administrators.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utc_now)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("administrators.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))
    journal_id: Mapped[int | None] = mapped_column(BigInt, sa.ForeignKey("journals.id"), unique=True)
