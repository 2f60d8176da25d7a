"""Login codes and bearer tokens for the mobile and merchant clients (only hashes are stored)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from carbon_platform.models.base import Base, CreatedAt, str_enum


class Audience(enum.StrEnum):
    RESIDENT = "resident"
    MERCHANT_STAFF = "merchant_staff"
    ENTERPRISE = "enterprise"  # an enterprise's registered contact, acting for its carbon account


class TokenKind(enum.StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


class LoginCode(CreatedAt, Base):
    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(16), index=True)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "login_audience"))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None]


class AuthToken(CreatedAt, Base):
    """One bearer token. A login starts a session (``session_id``); refresh rotates within it."""

    __tablename__ = "auth_tokens"
    __table_args__ = (sa.Index("ix_auth_tokens_subject", "audience", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[TokenKind] = mapped_column(str_enum(TokenKind, "token_kind"))
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "token_audience"))
    subject_id: Mapped[int]
    session_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
