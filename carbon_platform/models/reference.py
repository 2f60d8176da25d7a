"""Reference data: the city's districts and functional zones."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from carbon_platform.models.base import Base, str_enum


class DistrictKind(enum.StrEnum):
    COUNTY = "county"  # county-level division (区/市/县), GB/T 2260 code
    ZONE = "zone"  # functional zone (高新区, 景区…), no statistical code of its own


class District(Base):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str] = mapped_column(sa.String(128))
    kind: Mapped[DistrictKind] = mapped_column(str_enum(DistrictKind, "district_kind"))
    city: Mapped[str] = mapped_column(sa.String(64), default="泰安市")
    sort_order: Mapped[int] = mapped_column(default=0)
