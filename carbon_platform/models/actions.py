"""Green actions as the platform learned of them, each with its outcome and stored receipt."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from carbon_platform.models.base import IDEMPOTENCY_KEY_LENGTH, Base, BigInt, str_enum, utc_now


class ActionStatus(enum.StrEnum):
    CREDITED = "credited"
    REVIEW = "review"  # computed, held for a reviewer; counts against caps and budgets meanwhile
    REJECTED = "rejected"
    REVERSED = "reversed"


#: Statuses that count towards caps, annual totals and campaign budgets.
COUNTED = (ActionStatus.CREDITED, ActionStatus.REVIEW)


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (
        sa.Index("ix_actions_usage", "account_id", "scenario", "occurred_at"),
        sa.Index("ix_actions_household_usage", "household_account_id", "scenario", "occurred_at"),
        sa.Index("ix_actions_account_time", "account_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"))
    household_account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carbon_accounts.id"))
    scenario: Mapped[str] = mapped_column(sa.String(64))
    channel: Mapped[str] = mapped_column(sa.String(40))
    district: Mapped[str | None] = mapped_column(sa.String(32))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    inputs: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # The same underlying fact through any channel ("bus_ride:card…@time"): credited once.
    natural_key: Mapped[str | None] = mapped_column(sa.String(300), unique=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(IDEMPOTENCY_KEY_LENGTH), unique=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus, "action_status"))
    reason: Mapped[str | None] = mapped_column(sa.String(64))
    detail: Mapped[str | None] = mapped_column(sa.String(300))
    grams: Mapped[int] = mapped_column(BigInt, default=0)
    base_points: Mapped[int] = mapped_column(BigInt, default=0)
    points: Mapped[int] = mapped_column(BigInt, default=0)
    rulebook_version_id: Mapped[int] = mapped_column(sa.ForeignKey("rulebook_versions.id"))
    journal_id: Mapped[int | None] = mapped_column(BigInt, sa.ForeignKey("journals.id"), unique=True)
    receipt: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Review: who decided and when; a note the resident sees (why rejected, what evidence is missing).
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("administrators.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(sa.String(500))
    evidence_requested_at: Mapped[datetime | None]
    # An app report reversed because a partner's record (or a check-in) of the same fact arrived: that record,
    # which stands in its place (services.same_fact). A record replaces at most one report.
    superseded_by_id: Mapped[int | None] = mapped_column(BigInt, sa.ForeignKey("actions.id"), unique=True)


class CampaignBudget(Base):
    """A campaign's budget and what it has paid: one guarded row, so no race can overspend it."""

    __tablename__ = "campaign_budgets"
    __table_args__ = (sa.CheckConstraint("spent >= 0 AND spent <= budget", name="spent_within_budget"),)

    campaign_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    budget: Mapped[int] = mapped_column(BigInt)
    spent: Mapped[int] = mapped_column(BigInt, default=0)


class CampaignControl(Base):
    """An administrator's hand on a running campaign: paused (until resumed) or ended early.

    The rulebook version says what a campaign is; this says whether it may pay right now, without a
    new version. A campaign with no row runs as its window says.
    """

    __tablename__ = "campaign_controls"

    campaign_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    paused: Mapped[bool] = mapped_column(default=False)
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("administrators.id"))


class CampaignAward(Base):
    """One qualifying action in a campaign and the extra points it paid (possibly none)."""

    __tablename__ = "campaign_awards"
    __table_args__ = (sa.Index("ix_campaign_awards_participant", "campaign_id", "account_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(sa.String(64))
    action_id: Mapped[int] = mapped_column(BigInt, sa.ForeignKey("actions.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"))
    points: Mapped[int] = mapped_column(BigInt, default=0)
    occurred_at: Mapped[datetime]
