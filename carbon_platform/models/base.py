"""Declarative base: naming convention, UTC-aware datetimes, string enums with CHECK constraints."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on both databases.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are written as naive UTC
    and read back as UTC. A naive value on the way in is a bug and is refused.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def str_enum(enum_cls: type[enum.StrEnum], name: str) -> sa.Enum:
    """A VARCHAR holding the enum's values, with a named CHECK constraint on both databases."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 4,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime(), int: sa.Integer()},
    )


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


#: 64-bit integers for every amount (points, grams) and every high-volume primary key.
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: What an INTEGER (ids of small tables, counts like limit_count) and a BIGINT column hold on PostgreSQL:
#: the one definition of the ranges a console or API number must stay within before it reaches a column.
MIN_INT32, MAX_INT32 = -(2**31), 2**31 - 1
MIN_INT64, MAX_INT64 = -(2**63), 2**63 - 1
#: The columns that store an idempotency key (journals, actions, vouchers). A client's key is stored behind
#: the scope that keeps two clients' keys apart ("redeem:resident:<id>:", at most 36 characters), so a
#: client may send at most CLIENT_KEY_LENGTH: the one limit the API checks (``mobile_api.idempotency``).
IDEMPOTENCY_KEY_LENGTH = 200
CLIENT_KEY_LENGTH = 100
