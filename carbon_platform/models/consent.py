"""Scene authorisation (场景授权): how partners may know a person, and what they may report for them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_platform.models.base import Base, BigInt, CreatedAt, str_enum, utc_now
from carbon_platform.models.partners import Partner


class BindingKind(enum.StrEnum):
    TRANSIT_CARD = "transit_card"
    WASTE_CARD = "waste_card"
    ELECTRICITY_METER = "electricity_meter"
    PV_INVERTER = "pv_inverter"
    CHARGING_ACCOUNT = "charging_account"
    VEHICLE = "vehicle"
    BIKE_SHARE_ACCOUNT = "bike_share_account"
    RECYCLING_CARD = "recycling_card"
    FORESTRY_ACCOUNT = "forestry_account"  # a tree-planting or carbon-sink sponsorship account


class BindingStatus(enum.StrEnum):
    ACTIVE = "active"  # proven: partner events for the identifier are matched to its account
    # Not proven yet: a partner proposed it and the person has not confirmed, or the person typed it in
    # and no partner has confirmed it. Matches nothing.
    PENDING = "pending"
    REVOKED = "revoked"


class Binding(CreatedAt, Base):
    """An identifier a partner knows a person by (a bus card, a bin card, an inverter).

    Partners never identify people by phone number. Only a hash of the identifier is kept, with its last
    four characters so its owner can recognise it. One active (proven) binding per identifier; anyone may
    hold a pending one for it, so claiming a number says nothing about whether someone else holds it.
    """

    __tablename__ = "bindings"
    __table_args__ = (
        sa.Index("uq_bindings_proven_identifier", "identifier_hash", unique=True,
                 sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'")),
        sa.Index("uq_bindings_account_identifier", "account_id", "identifier_hash", unique=True,
                 sqlite_where=sa.text("status <> 'revoked'"), postgresql_where=sa.text("status <> 'revoked'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"), index=True)
    kind: Mapped[BindingKind] = mapped_column(str_enum(BindingKind, "binding_kind"))
    identifier_hash: Mapped[str] = mapped_column(sa.String(64))
    last4: Mapped[str] = mapped_column(sa.String(4))
    status: Mapped[BindingStatus] = mapped_column(str_enum(BindingStatus, "binding_status"))
    # The partner that proposed or confirmed it; None while only the person has vouched for it.
    proposed_by_partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partners.id"))
    revoked_at: Mapped[datetime | None]


class BindingCode(CreatedAt, Base):
    """A one-time code a person shows a partner (at a card counter, in a partner's app) so the partner
    can propose a binding to their account. Only its hash is kept; it lives minutes."""

    __tablename__ = "binding_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Authorisation(CreatedAt, Base):
    """A person's consent that one partner's data for one scenario may be credited to them."""

    __tablename__ = "authorisations"
    __table_args__ = (
        sa.Index("uq_authorisations_live", "account_id", "partner_id", "scenario", unique=True,
                 sqlite_where=sa.text("revoked_at IS NULL"), postgresql_where=sa.text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id"))
    scenario: Mapped[str] = mapped_column(sa.String(64))
    revoked_at: Mapped[datetime | None]

    partner: Mapped[Partner] = relationship()


class EventStatus(enum.StrEnum):
    CREDITED = "credited"
    REVIEW = "review"
    QUARANTINED = "quarantined"  # an implausible reading: held for review, never auto-credited
    DUPLICATE = "duplicate"
    CANCELLED = "cancelled"  # a cancellation, applied: the credit it names was reversed
    SUPERSEDED = "superseded"  # an older version of an event whose later correction already arrived
    UNMATCHED = "unmatched"  # no binding, or no consent: kept for a while, then purged
    REJECTED = "rejected"


class EventKind(enum.StrEnum):
    CREDIT = "credit"
    CORRECTION = "correction"  # replaces the credit it names (and any earlier correction)
    CANCELLATION = "cancellation"  # withdraws it


class PartnerEvent(Base):
    """One event as a partner sent it: received once per (partner, event id), whatever the retries.

    Corrections and cancellations form a chain with the credit they name (``root_event_id``); the one
    with the highest ``sequence`` is the truth, whatever order they arrive in.
    """

    __tablename__ = "partner_events"
    __table_args__ = (sa.UniqueConstraint("partner_id", "event_id"),
                      sa.Index("ix_partner_events_chain", "partner_id", "root_event_id"))

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id"))
    event_id: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "event_kind"), default=EventKind.CREDIT)
    root_event_id: Mapped[str] = mapped_column(sa.String(100))
    sequence: Mapped[int] = mapped_column(default=0)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[EventStatus] = mapped_column(str_enum(EventStatus, "event_status"))
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    action_id: Mapped[int | None] = mapped_column(BigInt, sa.ForeignKey("actions.id"))
    # Kept only while unmatched (to credit it if a binding is proven or consent arrives in time); emptied
    # when purged. The identifier's hash finds the events waiting for a binding.
    payload: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    identifier_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
