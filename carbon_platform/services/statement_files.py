"""A statement as files: PDF (WeasyPrint, drawn in Debian's Noto CJK fonts) and XLSX (openpyxl).

Both show what the signed document says and nothing else, with its serial, digest and the address of the check
page (and, on the PDF, a QR code of it), so that a reader of either can confirm it. The JSON download
(``statements.download``) is the one that carries the signature itself.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from typing import Any

import qrcode
from flask import render_template, url_for
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from carbon_platform.models import EnterpriseStatement
from carbon_platform.services import statements

SOURCE_NAMES = {"electricity": ("外购电力", "Purchased electricity"), "heat": ("外购热力", "Purchased heat")}
WHY_NO_GRADE = {
    "incomplete": ("未报齐全年各月数据", "not every month reported"),
    "no_output": ("未申报年度产值", "no output value declared"),
    "too_few_peers": ("同行业可比企业不足，无基准", "too few comparable accounts in the industry for a benchmark"),
    "no_emissions": ("无排放，无可比较", "no emissions to compare"),
}
REASONS = {"later_statement": ("已有同期更新的对账单", "a later statement covers the same period"),
           "corrected": ("所依据的报告或产值已更正", "a report or output value it was made from has been corrected")}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class File:
    body: bytes
    mimetype: str
    name: str  # what a browser saves it as


def as_file(statement: EnterpriseStatement, kind: str) -> File:
    """The statement as a ``pdf``, ``xlsx`` or ``json`` file, whoever downloads it (the enterprise, or a bank it
    let in)."""
    if kind == "json":
        body, mimetype = json.dumps(statements.download(statement), ensure_ascii=False, indent=1).encode(), \
            "application/json"
    elif kind == "pdf":
        body, mimetype = pdf(statement, check_url(statement)), "application/pdf"
    elif kind == "xlsx":
        body, mimetype = xlsx(statement, check_url(statement)), XLSX
    else:
        raise ValueError(kind)
    return File(body, mimetype,
                f"carbon-statement-{statement.period_from}-{statement.period_to}-{statement.serial}.{kind}")


def check_url(statement: EnterpriseStatement) -> str:
    """The address of the statement's public check page: what the PDF's QR code opens."""
    return url_for("public.statement_check", serial=statement.serial, _external=True)


def source_name(row: dict[str, Any]) -> tuple[str, str]:
    if row["source"] == "fuel":
        return row.get("name_zh") or row["kind"], row.get("name_en") or row["kind"]
    return SOURCE_NAMES[row["source"]]


def tonnes(kg: int) -> str:
    """kg as tonnes with three decimals (exact: 1 kg is 0.001 t)."""
    return f"{kg // 1000:,}.{kg % 1000:03d}"


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, border=1, box_size=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def pdf(statement: EnterpriseStatement, check_url: str) -> bytes:
    from weasyprint import HTML  # heavy to import; only the PDF needs it

    html = render_template("statements/statement.html", doc=statement.document, statement=statement,
                           check_url=check_url, qr=_qr_data_uri(check_url), source_name=source_name,
                           tonnes=tonnes, why_no_grade=WHY_NO_GRADE)
    return HTML(string=html).write_pdf()


def xlsx(statement: EnterpriseStatement, check_url: str) -> bytes:
    doc = statement.document
    book = Workbook()
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="E8F0E8")

    def table(sheet, headers: list[str], rows: list[list[Any]], formats: dict[int, str] | None = None) -> None:
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font, cell.fill = head_font, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in rows:
            sheet.append(row)
        for column, number_format in (formats or {}).items():
            for cells in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cells[0].number_format = number_format
        sheet.freeze_panes = "A2"
        for index, _header in enumerate(headers, start=1):
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = 22

    summary = book.active
    summary.title = "概要 Summary"
    enterprise, emissions, year = doc["enterprise"], doc["emissions"], doc["year"]
    rows: list[list[Any]] = [
        ["编号 Serial", doc["serial"]],
        ["签发时间（UTC）Issued (UTC)", doc["issued_at"]],
        ["企业 Enterprise", enterprise["name"]],
        ["统一社会信用代码 USCC", enterprise["uscc"]],
        ["行业 Industry (GB/T 4754-2017)", f"{enterprise['industry_code']} {enterprise['industry_name_zh'] or ''}"],
        ["区县 District", enterprise["district_name_zh"]],
        ["重点用能单位 Key energy user", "是 yes" if enterprise["key_energy_user"] else "否 no"],
        ["期间 Period", f"{doc['period']['from']} – {doc['period']['to']}"],
        ["排放总量（kg CO2）Total emissions (kg CO2)", emissions["total_kg"]],
        ["范围一（kg CO2）Scope 1 (kg CO2)", emissions["scope1_kg"]],
        ["范围二（kg CO2）Scope 2 (kg CO2)", emissions["scope2_kg"]],
        ["数据齐全 Complete", "是 yes" if doc["complete"] else "否 no: " + "; ".join(doc["missing"])],
    ]
    if year:
        rows += [
            ["产值（元）Output value (¥)", year["output_yuan"]],
            ["碳排放强度（kg CO2/万元）Intensity (kg CO2 per ¥10,000)", year["intensity"]],
            ["行业基准 Industry benchmark", year["benchmark"]],
            ["可比企业数 Comparable accounts", year["peers"]],
            ["碳效值 Carbon-efficiency value", year["value"]],
            ["碳效等级 Grade (1 best – 5)", year["grade"]],
            ["较上年强度变化（%）Intensity change on the year before (%)", year["change_percent"]],
        ]
    rows += [
        ["核算方法 Method", doc["method"]["standard"]],
        ["因子库版本 Factor registry", ", ".join(doc["method"]["registry_versions"])],
        ["SHA-256", statement.digest],
        ["核验 Check", check_url],
    ]
    table(summary, ["项目 Item", "内容 Value"], rows)
    summary.column_dimensions["A"].width, summary.column_dimensions["B"].width = 48, 60
    for row in summary.iter_rows(min_row=2, min_col=2, max_col=2):
        if isinstance(row[0].value, int):
            row[0].number_format = "#,##0"

    table(book.create_sheet("排放来源 Sources"),
          ["来源 Source", "Source", "范围 Scope", "数量 Quantity", "单位 Unit", "绿证电量（kWh）Green kWh",
           "排放（kg CO2）Emissions (kg CO2)"],
          [[*source_name(r), r["scope"], float(r["quantity"]), r["unit"], r.get("green_kwh"), r["kg"]]
           for r in doc["by_source"]], {4: "#,##0.###", 6: "#,##0", 7: "#,##0"})
    table(book.create_sheet("报告版本 Report versions"),
          ["报告 Report", "场所 Site", "期间 Period", "版本 Version", "计算日 Computed on", "因子库 Registry",
           "范围一（kg）Scope 1 (kg)", "范围二（kg）Scope 2 (kg)", "合计（kg）Total (kg)"],
          [[s["report_id"], s["site"], s["period"], s["version"], s["computed_on"], s["registry_version"],
            s["scope1_kg"], s["scope2_kg"], s["total_kg"]] for s in doc["sources"]],
          {7: "#,##0", 8: "#,##0", 9: "#,##0"})
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
