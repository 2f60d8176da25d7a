"""The console's downloads as people open them (issue #19, item 8): headers in the console's language with their unit,
codes by name, a readable file name with the period; XLSX with numbers kept as numbers, number and date formats and a
bold, frozen header row; CSV in UTF-8 with a BOM so that Excel opens Chinese correctly.

Views hand over plain rows (dicts) and a list of ``Column``; what a column means stays in the view, how a file
looks lives here. The public open data at ``/`` is for machines and does not come through this module.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from flask import Response
from flask_babel import pgettext

from carbon_platform.clock import CITY_TZ

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"

#: How a kind of value is written in a spreadsheet cell (Excel number formats; the CSV writes plain digits).
FORMATS = {
    "text": "@",
    "int": "#,##0",  # counts, points and integer grams, with thousands separators
    "tonnes": "#,##0.000000",
    "yuan": "#,##0.00",
    "percent": "0.0",
    "date": "yyyy-mm-dd",
    "month": "yyyy-mm",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}


@dataclass(frozen=True)
class Column:
    """One column of a download: the row's key, its header (unit included, already in the console's language),
    the kind of value (a key of ``FORMATS``) and its width in characters in the XLSX."""

    key: str
    header: str
    kind: str = "text"
    width: int = 14


def beijing(moment: datetime | None) -> datetime | None:
    """A stored UTC moment as Beijing wall time, without a zone: Excel dates carry none, the header says 北京时间."""
    return moment.astimezone(CITY_TZ).replace(tzinfo=None) if moment else None


def _csv_cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "month" and isinstance(value, date):
        return value.strftime("%Y-%m")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if kind == "yuan":
        return f"{value:.2f}"
    return value


def csv_body(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> str:
    """The rows as CSV text with the BOM first; numbers as plain digits, so that Excel reads them as numbers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(row.get(c.key), c.kind) for c in columns])
    return BOM + out.getvalue()


def xlsx_body(columns: Sequence[Column], rows: Iterable[dict[str, Any]], *, sheet: str,
              totals: dict[str, Any] | None = None) -> bytes:
    """One sheet: a bold header row frozen above the data, every column in its width and number format, and an
    optional bold totals row at the bottom."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = re.sub(r"[\[\]:*?/\\]", " ", sheet)[:31]  # what Excel forbids in a sheet name
    ws.append([c.header for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = max(column.width, _display_width(column.header) + 2)
    for row in [*rows, *([totals] if totals else [])]:
        ws.append([row.get(c.key) for c in columns])
        for cell, column in zip(ws[ws.max_row], columns, strict=True):
            if isinstance(cell.value, int | float | date) and column.kind != "text":  # not the 合计 label
                cell.number_format = FORMATS[column.kind]
    if totals:
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _display_width(text: str) -> int:
    """Characters as Excel sizes them: a Chinese character is two wide."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def file_name(subject: str, period: str, extension: str) -> str:
    """``碳惠泰安-减排量-2026-06.xlsx``: the platform, what the file holds and its period."""
    # Without spaces or quotes in English too: a name a shell, a mail client and Excel all keep whole.
    words = re.sub(r'[\s"]+', "-", subject.strip())  # "By scenario" → By-scenario
    return f"{pgettext('file name', '碳惠泰安')}-{words}-{period}.{extension}"


def span(first: str, last: str) -> str:
    """A period in a file name: 2026-06-01至2026-06-30."""
    return first + pgettext("file name", "至") + last


@dataclass(frozen=True)
class Download:
    """A file ready to hand over: its body, type, readable name and ASCII fallback name."""

    body: str | bytes
    mimetype: str
    filename: str
    fallback: str

    def response(self) -> Response:
        return attachment(self.body, self.mimetype, self.filename, self.fallback)


def table(kind: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]], *, subject: str, period: str,
          fallback: str, sheet: str | None = None, totals: dict[str, Any] | None = None) -> Download:
    """One table as the ``kind`` asked for (``xlsx`` or ``csv``), named ``file_name(subject, period)``; ``fallback`` is
    the ASCII name without its extension. Only the XLSX carries ``totals`` (a CSV is read by programs too)."""
    filename, fallback = file_name(subject, period, kind), f"{fallback}.{kind}"
    if kind == "xlsx":
        return Download(xlsx_body(columns, rows, sheet=sheet or subject, totals=totals), XLSX, filename, fallback)
    if kind == "csv":
        return Download(csv_body(columns, rows), "text/csv", filename, fallback)
    raise ValueError(f"no download of kind {kind!r}")


def attachment(body: str | bytes, mimetype: str, filename: str, fallback: str) -> Response:
    """A download named ``filename`` (RFC 5987 ``filename*``, so Chinese survives), with an ASCII ``fallback`` name
    for clients that do not read ``filename*``."""
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})
