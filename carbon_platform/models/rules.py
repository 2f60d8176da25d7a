"""Rulebook versions as stored documents: what was in force when each action was credited."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from carbon_platform.models.base import Base, CreatedAt, str_enum


class RulebookStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # in force from effective_from until a later published version takes over
    RETIRED = "retired"


class RulebookVersion(CreatedAt, Base):
    __tablename__ = "rulebook_versions"
    __table_args__ = (sa.UniqueConstraint("rulebook", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rulebook: Mapped[str] = mapped_column(sa.String(64))  # the document's id, e.g. "taian"
    version: Mapped[str] = mapped_column(sa.String(32))
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[RulebookStatus] = mapped_column(str_enum(RulebookStatus, "rulebook_status"))
    effective_from: Mapped[datetime | None] = mapped_column(index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("administrators.id"))
