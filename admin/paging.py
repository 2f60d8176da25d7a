"""One page of a list: the page number comes from the URL (with the filters, so a page can be shared).

Filters read from the URL go through ``url_filters``/``url_filter`` (text) and ``whole_number`` (ids): a NUL
byte, which PostgreSQL cannot take in text, is a ``BadFilter`` (a 400 page in the console's language, see
admin/views/__init__.py), and a number too large for its column or written in non-ASCII digits matches
nothing instead of failing in the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import request

from carbon_platform import paging
from carbon_platform.models.base import MAX_INT32

PAGE_SIZE = 30


class BadFilter(Exception):
    """A filter in the URL the database cannot be asked about (it holds a NUL byte)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def url_filter(name: str, default: str = "") -> str:
    """The ``?name=`` filter, stripped; BadFilter if it holds a NUL byte."""
    value = request.args.get(name, default).strip()
    if "\x00" in value:
        raise BadFilter(name)
    return value


def url_filters(*names: str) -> dict[str, str]:
    """``url_filter`` for each name: the dict the list templates keep in their links."""
    return {name: url_filter(name) for name in names}


def whole_number(text: str, maximum: int = MAX_INT32) -> int | None:
    """``text`` as an id or count the database can compare, or None.

    ``str.isdigit`` alone is not enough: it accepts "²" (which ``int`` refuses) and numbers larger
    than the column, which PostgreSQL answers with an error instead of "no rows".
    """
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= maximum else None


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    pages: int


def paginate(query: sa.Select | list, *, size: int = PAGE_SIZE) -> Page:
    """``query`` (already ordered; or a list already in memory) cut to the page named by ``?page=``; past the
    end gives the last page."""
    total = len(query) if isinstance(query, list) else paging.count(query)
    pages = max(1, -(-total // size))
    page = min(pages, max(1, request.args.get("page", 1, type=int)))
    first = (page - 1) * size
    items = query[first:first + size] if isinstance(query, list) else paging.window(query, first=first, size=size)
    return Page(items, total, page, pages)
