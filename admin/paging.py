"""One page of a list: the page number comes from the URL (with the filters, so a page can be shared)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import request

from carbon_platform.extensions import db

PAGE_SIZE = 30


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    pages: int


def paginate(query: sa.Select | list, *, size: int = PAGE_SIZE) -> Page:
    """``query`` (already ordered; or a list already in memory) cut to the page named by ``?page=``; past the
    end gives the last page."""
    if isinstance(query, list):
        total = len(query)
    else:
        total = db.session.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
                                   ).scalar_one()
    pages = max(1, -(-total // size))
    page = min(pages, max(1, request.args.get("page", 1, type=int)))
    if isinstance(query, list):
        return Page(query[(page - 1) * size:page * size], total, page, pages)
    items = db.session.execute(query.limit(size).offset((page - 1) * size)).scalars().all()
    return Page(items, total, page, pages)
