"""Rulebook versions as stored documents: what was in force when each action was credited."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from carbon_platform.models.base import Base, CreatedAt, str_enum


class RulebookStatus(enum.StrEnum):
    DRAFT = "draft"  # editable; a rejected submission comes back here with the reviewer's note
    PENDING = "pending"  # submitted: frozen until a second administrator approves or rejects it
    PUBLISHED = "published"  # in force from effective_from until a later published version takes over
    RETIRED = "retired"


class RulebookVersion(CreatedAt, Base):
    __tablename__ = "rulebook_versions"
    __table_args__ = (sa.UniqueConstraint("rulebook", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rulebook: Mapped[str] = mapped_column(sa.String(64))  # the document's id, e.g. "taian"
    version: Mapped[str] = mapped_column(sa.String(32))
    # Deferred: read only to compile a version not yet in this process's cache, or to show it.
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON, deferred=True)
    status: Mapped[RulebookStatus] = mapped_column(str_enum(RulebookStatus, "rulebook_status"))
    effective_from: Mapped[datetime | None] = mapped_column(index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("administrators.id"))
    # The YAML as its author wrote it (comments and all); None for versions published from a seed file.
    source: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    note: Mapped[str] = mapped_column(sa.String(500), default="")  # what the change is for
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("administrators.id"))
    submitted_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("administrators.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))
    # The published version a draft was made from. Approving is refused unless it is still the latest
    # published version: otherwise publishing would silently undo what was published since (a lost update).
    based_on_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rulebook_versions.id"))
