"""Energy reports by spreadsheet (issue #18 item 2): the XLSX template an enterprise fills in, and reading it back.

The template has one sheet: a row of Chinese and English headings with units, a row of the field keys the reader
goes by (so a heading can be reworded without breaking anyone's files), and one row per site and period. Every
row is checked before any is stored: a file with a bad row stores nothing and answers with every problem by row
and column, so an enterprise fixes its sheet and uploads it again. A period already reported is refused like a
second submission through the API (corrections go through the API, with a note).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from carbon_platform.errors import DomainError, InvalidInput
from carbon_platform.models import EnergyReport, Enterprise
from carbon_platform.services import audit, energy_reports

SHEET = "能源报告"
KEY_ROW, FIRST_ROW = 2, 3
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000
#: A zip whose parts would unpack to more than this is refused unread (a small file that inflates to gigabytes).
MAX_UNPACKED = 50 * 1024 * 1024


def columns() -> list[tuple[str, str]]:
    """(key, heading) for each column, in order; one column per fuel of the registry in force."""
    fixed = [("site", "站点 Site"), ("year", "年份 Year"), ("month", "月份 Month（整年留空 blank for the year）"),
             ("electricity_kwh", "外购电力 Electricity (kWh)"),
             ("green_kwh", "其中绿证电力 Of it with green certificates (kWh)"),
             ("heat_gj", "外购热力 Heat or steam (GJ)")]
    fuels = [(f"fuels.{kind}", f"{fuel.name_zh} {fuel.name_en} ({fuel.unit})")
             for kind, fuel in energy_reports.registry().fuels.items()]
    return fixed + fuels


def template() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    for index, (key, heading) in enumerate(columns(), start=1):
        sheet.cell(1, index, heading).font = Font(bold=True)
        sheet.cell(KEY_ROW, index, key).font = Font(color="808080")
        sheet.column_dimensions[get_column_letter(index)].width = max(14, min(len(heading) + 4, 40))
    sheet.freeze_panes = sheet.cell(FIRST_ROW, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class SheetRow:
    row: int
    site: str
    year: int
    month: int | None
    inputs: energy_reports.Inputs


class SheetInvalid(InvalidInput):
    """The sheet has problems; ``details['problems']`` lists each as {row, column, message}."""


def _number(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return number


def read(data: bytes) -> list[SheetRow]:
    """The sheet's rows, or SheetInvalid naming every problem (nothing is stored either way)."""
    from openpyxl import load_workbook

    if len(data) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES // 1024 // 1024} MiB", code="sheet_too_large")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(part.file_size for part in archive.infolist()) > MAX_UNPACKED:
                raise InvalidInput("the file unpacks to too much", code="sheet_too_large")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except InvalidInput:
        raise
    except Exception:  # noqa: BLE001 - any file openpyxl cannot read is one answer: not an XLSX workbook
        raise InvalidInput("not an XLSX workbook (use the template)", code="sheet_unreadable") from None
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        rows = list(sheet.iter_rows(min_row=KEY_ROW, max_row=FIRST_ROW + MAX_ROWS, values_only=True))
    finally:
        book.close()
    if not rows:
        raise InvalidInput("the sheet has no key row (use the template)", code="sheet_unreadable")
    keys = [str(k).strip() if k is not None else "" for k in rows[0]]
    known = {key for key, _heading in columns()}
    problems: list[dict[str, Any]] = []
    for key in keys:
        if key and key not in known:
            problems.append({"row": KEY_ROW, "column": key, "message": "not a column of the template"})
    for required in ("site", "year"):
        if required not in keys:
            problems.append({"row": KEY_ROW, "column": required, "message": "missing column"})
    body = [(KEY_ROW + 1 + offset, values) for offset, values in enumerate(rows[1:])
            if any(v is not None and str(v).strip() for v in values)]  # blank rows are skipped, not refused
    if len(rows) - 1 > MAX_ROWS:
        problems.append({"row": FIRST_ROW + MAX_ROWS, "column": "", "message": f"at most {MAX_ROWS} rows"})
    if not body and not problems:
        problems.append({"row": FIRST_ROW, "column": "", "message": "no rows to report"})
    parsed = []
    for number, values in body:
        cells = {key: values[i] if i < len(values) else None for i, key in enumerate(keys) if key in known}
        row, row_problems = _row(number, cells)
        problems += row_problems
        if row is not None:
            parsed.append(row)
    if problems:
        raise SheetInvalid(f"the sheet has {len(problems)} problem(s); nothing was stored", code="sheet_invalid",
                           problems=problems[:200])
    return parsed


def _row(number: int, cells: dict[str, Any]) -> tuple[SheetRow | None, list[dict[str, Any]]]:
    """One sheet row as a report's inputs, or its problems, each by column."""
    problems: list[dict[str, Any]] = []

    def problem(column: str, message: str) -> None:
        problems.append({"row": number, "column": column, "message": message})

    def take(key: str, *, whole: bool) -> Decimal | int | None:
        try:
            value = _number(cells.get(key))
        except ValueError:
            return problem(key, "not a number")
        if value is None:
            return None
        if value < 0:
            return problem(key, "cannot be negative")
        if whole:
            return int(value) if value == value.to_integral_value() else problem(key, "a whole number")
        return value

    site = str(cells.get("site") or "").strip()
    if not site:
        problem("site", "the site's name is missing")
    year, month = take("year", whole=True), take("month", whole=True)
    if cells.get("year") in (None, ""):
        problem("year", "the year is missing")
    kwh, green = take("electricity_kwh", whole=True), take("green_kwh", whole=True)
    heat = take("heat_gj", whole=False)
    fuels = {key.removeprefix("fuels."): q for key in cells if key.startswith("fuels.")
             if (q := take(key, whole=False)) is not None and q != 0}
    if problems:
        return None, problems
    inputs = energy_reports.Inputs(kwh or 0, green or 0, heat or Decimal(0), fuels)
    try:
        energy_reports.check_inputs(inputs)
    except InvalidInput as exc:
        problem(exc.details.get("field", ""), exc.message)
        return None, problems
    return SheetRow(number, site, year, month, inputs), []


def import_rows(enterprise: Enterprise, rows: list[SheetRow], *, actor: audit.Actor) -> list[EnergyReport]:
    """Submit every row, or none: the first refusal names its row (the caller's transaction rolls back)."""
    by_name = {site.name: site for site in energy_reports.sites(enterprise)}
    missing = [{"row": r.row, "column": "site", "message": f"no site named {r.site!r}"}
               for r in rows if r.site not in by_name]
    if missing:
        raise SheetInvalid("the sheet names sites the enterprise does not have; nothing was stored",
                           code="sheet_invalid", problems=missing[:200])
    reports = []
    for row in rows:
        try:
            reports.append(energy_reports.submit(enterprise, by_name[row.site], year=row.year, month=row.month,
                                                 inputs=row.inputs, actor=actor))
        except DomainError as exc:  # a period already reported, a period not over, … : named by its row
            raise SheetInvalid(f"row {row.row}: {exc.message}; nothing was stored", code="sheet_invalid",
                               problems=[{"row": row.row, "column": exc.details.get("field", ""),
                                          "message": exc.message}]) from None
    return reports
