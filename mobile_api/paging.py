"""One page of a query for ``@blp.paginate()`` views (flask-smorest's pagination): the total goes to the
pagination header."""

from __future__ import annotations

import sqlalchemy as sa

from carbon_platform import paging


def page(statement: sa.Select, pagination_parameters, *, rows: bool = False) -> list:
    """The results of ``statement`` (already ordered) on the requested page; sets the item count. ``rows``: as
    ``carbon_platform.paging.window``.

    A page that starts after the last item is empty and is not asked of the database, whose OFFSET is a 64-bit
    integer (``?page=99999999999999999999`` is not)."""
    pagination_parameters.item_count = paging.count(statement)
    if pagination_parameters.first_item >= pagination_parameters.item_count:
        return []
    return paging.window(statement, first=pagination_parameters.first_item, size=pagination_parameters.page_size,
                         rows=rows)
