"""Energy reports by spreadsheet (issue #18 item 2): the template downloads with its headings and keys, a filled-in
sheet reports every row at once, and a sheet with any bad row stores nothing and names every problem by row."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from tests.mobile_api.helpers import assert_error
from tests.mobile_api.test_energy_reports import API, cement, log_in, stored  # noqa: F401 (cement is a fixture)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filled(client, headers, rows: list[list]) -> bytes:
    book = load_workbook(io.BytesIO(client.get(f"{API}/reports/template.xlsx", headers=headers).data))
    sheet = book.active
    keys = [c.value for c in sheet[2]]
    for values in rows:
        sheet.append([values.get(key) for key in keys] if isinstance(values, dict) else values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, headers, data: bytes):
    return client.post(f"{API}/reports/sheets", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "reports.xlsx")})


def test_the_template_has_headings_keys_and_a_column_per_fuel(client, cement):  # noqa: F811
    response = client.get(f"{API}/reports/template.xlsx", headers=cement["headers"])
    assert response.status_code == 200 and response.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(response.data)).active
    headings, keys = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    assert keys[:6] == ["site", "year", "month", "electricity_kwh", "green_kwh", "heat_gj"]
    assert "fuels.raw_coal" in keys and "fuels.natural_gas" in keys
    assert headings[3] == "外购电力 Electricity (kWh)" and "原煤 raw coal (t)" in headings
    assert sheet.freeze_panes == "A3"


def test_a_filled_in_sheet_reports_every_row(client, app, cement):  # noqa: F811
    # March: 80,000 kWh × 0.6410 = 51,280 kg; April: 2 t diesel (6,192 kg, test_energy_reports) + 10 GJ × 110
    data = filled(client, cement["headers"], [
        {"site": "一号熟料线", "year": 2025, "month": 3, "electricity_kwh": 80000},
        {"site": "一号熟料线", "year": 2025, "month": 4, "fuels.diesel": 2, "heat_gj": "10"},
    ])
    response = upload(client, cement["headers"], data)
    assert response.status_code == 201, response.json
    assert sorted((r["period"], r["total_kg"]) for r in response.json) == [("2025-03", 51280), ("2025-04", 7292)]
    assert stored(app) == (2, 2)


@pytest.mark.parametrize(("rows", "problem"), [
    ([{"site": "一号熟料线", "year": 2025, "month": 3, "electricity_kwh": -5}], (3, "electricity_kwh")),
    ([{"site": "一号熟料线", "year": 2025, "month": 3, "electricity_kwh": "lots"}], (3, "electricity_kwh")),
    ([{"site": "一号熟料线", "year": 2025, "month": 3, "electricity_kwh": 1.5}], (3, "electricity_kwh")),
    ([{"site": "", "year": 2025, "month": 3}], (3, "site")),
    ([{"site": "一号熟料线", "month": 3}], (3, "year")),
    ([{"site": "一号熟料线", "year": 2025, "month": 3, "electricity_kwh": 10, "green_kwh": 20}], (3, "green_kwh")),
    ([{"site": "一号熟料线", "year": 2025, "month": 3}, {"site": "二号线", "year": 2025, "month": 3}], (4, "site")),
    ([{"site": "一号熟料线", "year": 2025, "month": 3}, {"site": "一号熟料线", "year": 2025, "month": 3}],
     (4, "")),  # the same period twice: the second row is refused, and the first is not kept either
])
def test_one_bad_row_stores_nothing_and_is_named(client, app, cement, rows, problem):  # noqa: F811
    body = assert_error(upload(client, cement["headers"], filled(client, cement["headers"], rows)), 422,
                        "sheet_invalid")
    assert (problem[0], problem[1]) in [(p["row"], p["column"]) for p in body["details"]["problems"]]
    assert stored(app) == (0, 0)


def test_what_is_not_a_workbook_is_refused(client, app, cement):  # noqa: F811
    assert_error(upload(client, cement["headers"], b"not a spreadsheet"), 422, "sheet_unreadable")
    book = Workbook()
    book.active.append(["标题", "headings"])
    book.active.append(["nothing", "here"])
    out = io.BytesIO()
    book.save(out)
    body = assert_error(upload(client, cement["headers"], out.getvalue()), 422, "sheet_invalid")
    assert {p["column"] for p in body["details"]["problems"]} >= {"nothing", "site", "year"}
    assert stored(app) == (0, 0)


def test_a_file_over_the_limit_is_refused_unread():
    from carbon_platform.errors import InvalidInput
    from carbon_platform.services import report_sheets
    with pytest.raises(InvalidInput) as refused:
        report_sheets.read(b"PK" + b"\0" * report_sheets.MAX_BYTES)
    assert refused.value.code == "sheet_too_large"
