"""Partners: organisations that send signed data feeds (bus operators, smart bins, inverters, chargers)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_platform.models.base import Base, CreatedAt, str_enum


class PartnerKind(enum.StrEnum):
    """What a partner is; its events come in on the rulebook's channel ``partner:<kind>``."""

    TRANSIT = "transit"
    WASTE = "waste"
    PV = "pv"
    CHARGING = "charging"
    UTILITY = "utility"
    OTHER = "other"
    BIKE_SHARE = "bike_share"  # cycling
    VEHICLE = "vehicle"  # NEV driving (a vehicle platform's odometer readings)
    RECYCLING = "recycling"  # recyclables
    FORESTRY = "forestry"  # tree planting and carbon-sink sponsorship


class Partner(CreatedAt, Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    kind: Mapped[PartnerKind] = mapped_column(str_enum(PartnerKind, "partner_kind"))
    key_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Scenes this partner may report (empty: any scene that takes its kind of feed).
    allowed_scenarios: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Flask-Limiter syntax, e.g. "600 per minute"; requests to the feed beyond it get 429.
    rate_limit: Mapped[str] = mapped_column(sa.String(64), default="600 per minute")
    # Until then the partner may still sign the old way, without method and path (see services/partner_auth.py).
    # None, as for every partner registered since: only the current form.
    legacy_signature_until: Mapped[datetime | None]

    secrets: Mapped[list[PartnerSecret]] = relationship(back_populates="partner", order_by="PartnerSecret.id")

    def live_secrets(self) -> list[PartnerSecret]:
        return [s for s in self.secrets if s.revoked_at is None]


class PartnerSecret(CreatedAt, Base):
    """An HMAC signing secret. At most two are live at once, so a partner can rotate without downtime.

    The verifier needs the secret itself (HMAC is symmetric), so it is stored, never shown again
    after creation, and never logged.
    """

    __tablename__ = "partner_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id"), index=True)
    secret: Mapped[str] = mapped_column(sa.String(128))
    revoked_at: Mapped[datetime | None]

    partner: Mapped[Partner] = relationship(back_populates="secrets")
