"""Carbon accounts and the people and organisations that hold them: residents and enterprises."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_platform.models.base import Base, BigInt, CreatedAt, str_enum
from carbon_platform.models.reference import District


class AccountKind(enum.StrEnum):
    RESIDENT = "resident"
    HOUSEHOLD = "household"
    ENTERPRISE = "enterprise"
    MERCHANT = "merchant"


class CarbonAccount(CreatedAt, Base):
    """What holds points and certified reductions. The three balances are caches of the ledger.

    They change only through the guarded statements in ``services.ledger`` in the same transaction
    as the entries that justify them; the CHECK constraints are the backstop, and
    ``ledger verify`` proves every balance equals the sum of its entries.
    """

    __tablename__ = "carbon_accounts"
    __table_args__ = (
        sa.CheckConstraint("points_available >= 0", name="points_available_nonnegative"),
        sa.CheckConstraint("points_pending >= 0", name="points_pending_nonnegative"),
        sa.CheckConstraint("reduction_grams >= 0", name="reduction_grams_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind, "account_kind"))
    points_available: Mapped[int] = mapped_column(BigInt, default=0)
    points_pending: Mapped[int] = mapped_column(BigInt, default=0)
    reduction_grams: Mapped[int] = mapped_column(BigInt, default=0)
    frozen: Mapped[bool] = mapped_column(default=False)
    # Set when a reversal found fewer points than it had to take back (see LedgerShortfall).
    flagged: Mapped[bool] = mapped_column(default=False)
    # Set when its holder deleted their account (services.privacy): it holds its grams, never points again.
    closed_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<CarbonAccount {self.id} {self.kind}>"


class Resident(CreatedAt, Base):
    """A person. Only what the features need: a phone to log in, a name to show, a district."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(16), unique=True)  # "+86" and 11 digits
    display_name: Mapped[str] = mapped_column(sa.String(40))
    real_name: Mapped[str | None] = mapped_column(sa.String(40))
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("districts.id"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"), unique=True)
    last_login_at: Mapped[datetime | None]
    # Set when the resident deleted their account: the row stays, emptied, so the ledger's figures keep a holder.
    deleted_at: Mapped[datetime | None]

    account: Mapped[CarbonAccount] = relationship(lazy="joined", innerjoin=True)
    district: Mapped[District | None] = relationship()


class Enterprise(CreatedAt, Base):
    """An organisation with a carbon account (重点能耗行业企业碳账户)."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    # 统一社会信用代码, GB 32100-2015; validated with its check character in services.identity.
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    industry: Mapped[str] = mapped_column(sa.String(64))  # the enterprise's own words for what it does
    # GB/T 4754-2017 大类 (seeds/industries.yaml): what its benchmark and grade compare it with. None for accounts
    # registered before energy reporting; reports need one.
    industry_code: Mapped[str | None] = mapped_column(sa.String(4))
    key_energy_user: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # 重点用能单位
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("districts.id"))
    contact_name: Mapped[str] = mapped_column(sa.String(40))
    contact_phone: Mapped[str] = mapped_column(sa.String(16), index=True)  # logs in for the enterprise
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carbon_accounts.id"), unique=True)

    account: Mapped[CarbonAccount] = relationship(lazy="joined", innerjoin=True)
    district: Mapped[District] = relationship()
