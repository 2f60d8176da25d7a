"""Enterprises' sites and their energy reports (issue #18 items 1–3): what a key energy user consumed in a month or
a year, and the emissions the platform computed from it (``services.energy_reports``, the method in ``emissions``).

A report is one site's period; its figures are in its versions. A correction adds a version and never changes an
earlier one, so a figure once shown (or put in a statement) can always be re-derived from what it was computed
from: each version keeps its inputs as given, the factor registry's version, the day of the calculation, the
integer kilograms and the receipt.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_platform.models.accounts import Enterprise
from carbon_platform.models.base import Base, BigInt, CreatedAt


class EnterpriseSite(CreatedAt, Base):
    """A plant, a workshop or an office building whose energy an enterprise reports on its own."""

    __tablename__ = "enterprise_sites"
    __table_args__ = (sa.UniqueConstraint("enterprise_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))

    enterprise: Mapped[Enterprise] = relationship()


class EnergyReport(CreatedAt, Base):
    """One site's month (``month`` 1–12) or whole year (``month`` None). ``period`` ("2025-03" or "2025") is what
    makes it unique per site, since a NULL month would not be."""

    __tablename__ = "energy_reports"
    __table_args__ = (sa.UniqueConstraint("site_id", "period"),
                      sa.CheckConstraint("month IS NULL OR (month BETWEEN 1 AND 12)", name="month_of_year"))

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprise_sites.id"), index=True)
    year: Mapped[int] = mapped_column()
    month: Mapped[int | None] = mapped_column()
    period: Mapped[str] = mapped_column(sa.String(7))

    site: Mapped[EnterpriseSite] = relationship(lazy="joined", innerjoin=True)
    versions: Mapped[list[EnergyReportVersion]] = relationship(
        back_populates="report", order_by="EnergyReportVersion.number")

    @property
    def current(self) -> EnergyReportVersion:
        return self.versions[-1]


class EnergyReportVersion(Base):
    """What the report said at one time and the emissions computed from it. Never updated."""

    __tablename__ = "energy_report_versions"
    __table_args__ = (sa.UniqueConstraint("report_id", "number"),
                      sa.CheckConstraint("number >= 1", name="number_positive"),
                      sa.CheckConstraint("total_kg = scope1_kg + scope2_kg", name="total_is_sum"),
                      sa.CheckConstraint("scope1_kg >= 0 AND scope2_kg >= 0", name="kg_not_negative"))

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    report_id: Mapped[int] = mapped_column(BigInt, sa.ForeignKey("energy_reports.id"), index=True)
    number: Mapped[int] = mapped_column()
    submitted_at: Mapped[datetime] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(500), default="")  # why a correction was made
    # As given, quantities as decimal text: {"electricity_kwh": 1000, "green_kwh": 0, "heat_gj": "12.5",
    # "fuels": {"natural_gas": "30000"}}.
    inputs: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    registry_version: Mapped[str] = mapped_column(sa.String(32))
    computed_on: Mapped[date] = mapped_column()  # the Beijing day the factors in force were chosen for
    scope1_kg: Mapped[int] = mapped_column(BigInt)
    scope2_kg: Mapped[int] = mapped_column(BigInt)
    total_kg: Mapped[int] = mapped_column(BigInt)
    receipt: Mapped[dict[str, Any]] = mapped_column(sa.JSON, deferred=True)

    report: Mapped[EnergyReport] = relationship(back_populates="versions")


class EnterpriseOutput(Base):
    """An enterprise's output value (工业总产值) for a year, as it declared it: what its carbon intensity (kg CO2 per
    ¥10,000) divides by. Versioned like reports: a correction adds a row, ``number`` one higher."""

    __tablename__ = "enterprise_outputs"
    __table_args__ = (sa.UniqueConstraint("enterprise_id", "year", "number"),
                      sa.CheckConstraint("output_yuan > 0", name="output_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    year: Mapped[int] = mapped_column()
    number: Mapped[int] = mapped_column()
    output_yuan: Mapped[int] = mapped_column(BigInt)  # whole yuan (declared in ¥10,000 to two decimals)
    submitted_at: Mapped[datetime] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(500), default="")


class EnterpriseStatement(Base):
    """A carbon-account statement as it was issued (issue #18 item 6): the document the platform signed, its
    digest and signature, and where it came from. Never updated: a later statement for the same period, or a
    correction of a report or output value it was made from, supersedes it (``services.statements.status``)."""

    __tablename__ = "enterprise_statements"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(24), unique=True)  # printed on it; what the check page takes
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    period_from: Mapped[str] = mapped_column(sa.String(7))  # "2025-01"
    period_to: Mapped[str] = mapped_column(sa.String(7))  # "2025-12", inclusive
    issued_at: Mapped[datetime] = mapped_column()
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON, deferred=True)  # exactly what was signed
    digest: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 of the canonical document, hex
    key_id: Mapped[str] = mapped_column(sa.String(16))
    signature: Mapped[str] = mapped_column(sa.String(88))  # Ed25519 over the canonical document, base64
    # What it was made from, to tell at once whether a correction came since: {"<report id>": version number},
    # and the output value's declaration number (a whole-year statement's intensity divides by it).
    sources: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    enterprise: Mapped[Enterprise] = relationship()
