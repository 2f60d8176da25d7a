"""Financial institutions and the consent an enterprise gives one to see its account (issue #18 item 7).

A bank holds no carbon account: it earns nothing and owns no reductions, so it is an organisation whose staff
are console administrators with the bank role, tied to it. What a bank may see is decided by the enterprise
alone, grant by grant, as residents decide what a partner may report for them (``models.consent``).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_platform.models.accounts import Enterprise
from carbon_platform.models.base import Base, CreatedAt


class FinancialInstitution(CreatedAt, Base):
    """A bank (or other lender) whose staff may be shown the statements and grades of enterprises that let it."""

    __tablename__ = "financial_institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    # 统一社会信用代码, validated with its check character in services.identity.
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)


class BankGrant(CreatedAt, Base):
    """An enterprise's consent that one institution may see its statements and grade until a Beijing day.

    Live while not revoked and before ``expires_at`` (the start of the Beijing day after ``until``). One
    unrevoked grant per enterprise and institution: a new grant to the same bank ends the earlier one.
    """

    __tablename__ = "bank_grants"
    __table_args__ = (
        sa.Index("uq_bank_grants_unrevoked", "enterprise_id", "institution_id", unique=True,
                 sqlite_where=sa.text("revoked_at IS NULL"), postgresql_where=sa.text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("financial_institutions.id"), index=True)
    until: Mapped[date] = mapped_column(sa.Date)  # the last Beijing day of access, inclusive
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    enterprise: Mapped[Enterprise] = relationship()
    institution: Mapped[FinancialInstitution] = relationship(lazy="joined", innerjoin=True)
