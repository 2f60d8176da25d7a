"""One page of a query for ``@blp.paginate()`` views: the total goes to the pagination header."""

from __future__ import annotations

import sqlalchemy as sa

from carbon_platform.extensions import db


def page(statement: sa.Select, pagination_parameters) -> list:
    """The rows of ``statement`` (already ordered) on the requested page; sets the item count."""
    pagination_parameters.item_count = db.session.execute(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    return list(db.session.execute(
        statement.limit(pagination_parameters.page_size).offset(pagination_parameters.first_item)
    ).scalars())
