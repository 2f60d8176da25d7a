"""Counting and cutting an ordered query: what the API's pages (``mobile_api.paging``) and the console's
(``admin.paging``) share. They differ only in where the page comes from and what a page past the end is."""

from __future__ import annotations

import sqlalchemy as sa

from carbon_platform.extensions import db


def count(statement: sa.Select) -> int:
    """How many rows ``statement`` gives."""
    return db.session.execute(sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
                              ).scalar_one()


def window(statement: sa.Select, *, first: int, size: int, rows: bool = False) -> list:
    """``size`` results of ``statement`` (already ordered) from the ``first`` (0-based): the first column of
    each row, or whole rows with ``rows=True`` (a statement of several columns)."""
    result = db.session.execute(statement.limit(size).offset(first))
    return list(result if rows else result.scalars())
