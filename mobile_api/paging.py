"""One page of a query for ``@blp.paginate()`` views: the total goes to the pagination header."""

from __future__ import annotations

import sqlalchemy as sa

from carbon_platform.extensions import db


def page(statement: sa.Select, pagination_parameters) -> list:
    """The rows of ``statement`` (already ordered) on the requested page; sets the item count."""
    pagination_parameters.item_count = db.session.execute(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    if past_the_end(pagination_parameters):
        return []
    return list(db.session.execute(
        statement.limit(pagination_parameters.page_size).offset(pagination_parameters.first_item)
    ).scalars())


def past_the_end(pagination_parameters) -> bool:
    """Whether the page starts after the last item (its count already set): such a page is empty, and is not
    asked of the database, whose OFFSET is a 64-bit integer (``?page=99999999999999999999`` is not)."""
    return pagination_parameters.first_item >= pagination_parameters.item_count
