"""Evidence photos: re-encoded copies under server-generated names, owned by one account."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from carbon_platform.models.base import Base, BigInt, utc_now


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"), index=True)
    action_id: Mapped[int | None] = mapped_column(BigInt, sa.ForeignKey("actions.id"), index=True)
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)  # <random>.jpg, never the upload's name
    thumbnail_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
