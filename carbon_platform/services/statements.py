"""Carbon-account statements: what an enterprise's account says for a period, signed by the platform so that a
bank (or anyone it is shown to) can confirm it is genuine and still current (issue #18 item 6).

A statement is made from the current versions of the enterprise's energy reports in the period, and for a
calendar year also from its declared output value, its intensity, the industry's benchmark and its grade
(``energy_reports.figures_from``). Everything it shows is in one document, stored exactly as signed:

- ``canonical(document)`` is the document as JSON with sorted keys, no spaces and UTF-8 text; its SHA-256 is the
  statement's digest, and the platform signs those bytes with Ed25519 (RFC 8032). The JSON download carries the
  document, the digest, the signature and the public key's id, so anyone holding it can check the signature with
  the key the check page publishes, without asking the platform.
- The document declares every report version it was made from with its inputs, the registry version and the day
  the factors were chosen for, so each figure re-derives with ``emissions.compute`` (a test does exactly that).
- A statement never changes. It is **superseded** when a later statement covers the same period, or when a report
  or output value it was made from has been corrected (or a report of the period added) since: ``status`` says
  which, and the check page shows it.

The benchmark and grade are as on the day of issue (other accounts' later reports move the benchmark, not the
statement). Reduction projects are not built yet, so a statement lists none and says so.

The keys and the canonical form are ``statement_signing``; the period a statement covers is
``statement_periods``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import selectinload, undefer
from sqlalchemy.orm.attributes import set_committed_value

from carbon_platform.clock import utcnow
from carbon_platform.errors import Conflict, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import (
    EnergyReport,
    EnergyReportVersion,
    Enterprise,
    EnterpriseOutput,
    EnterpriseSite,
    EnterpriseStatement,
)
from carbon_platform.services import audit, energy_reports
from carbon_platform.services import statement_signing as signing
from carbon_platform.services.statement_periods import Period, period, stored_period, year_period

FORMAT = "taian-carbon-account-statement/1"
ISSUER = "碳惠泰安 (Tai'an carbon-inclusion platform)"


# -- what a statement is made from --------------------------------------------------------------------------------


def _reports(enterprise_ids: Iterable[int], p: Period) -> dict[int, list[EnergyReport]]:
    """Each enterprise's reports of the period's years, their versions (with receipts) loaded, in few queries."""
    ids = list(enterprise_ids)
    reports = db.session.execute(
        sa.select(EnergyReport).join(EnergyReport.site)
        .where(EnterpriseSite.enterprise_id.in_(ids), EnergyReport.year.between(p.first[0], p.last[0]))
        .order_by(EnterpriseSite.id, EnergyReport.year, EnergyReport.month)).unique().scalars().all()
    if reports:
        versions = db.session.execute(
            sa.select(EnergyReportVersion).options(undefer(EnergyReportVersion.receipt))
            .where(EnergyReportVersion.report_id.in_([r.id for r in reports]))
            .order_by(EnergyReportVersion.number)).scalars().all()
        by_report: dict[int, list[EnergyReportVersion]] = {}
        for version in versions:
            by_report.setdefault(version.report_id, []).append(version)
        for report in reports:
            set_committed_value(report, "versions", by_report.get(report.id, []))
    out: dict[int, list[EnergyReport]] = {i: [] for i in ids}
    for report in reports:
        if p.contains(report.year, report.month):
            out[report.site.enterprise_id].append(report)
    return out


def _sites(enterprise_ids: Iterable[int]) -> dict[int, list[EnterpriseSite]]:
    ids = list(enterprise_ids)
    out: dict[int, list[EnterpriseSite]] = {i: [] for i in ids}
    for site in db.session.execute(sa.select(EnterpriseSite).where(EnterpriseSite.enterprise_id.in_(ids))
                                   .order_by(EnterpriseSite.id)).scalars():
        out[site.enterprise_id].append(site)
    return out


def _output_number(enterprise_id: int, year: int) -> int | None:
    return db.session.execute(sa.select(sa.func.max(EnterpriseOutput.number)).where(
        EnterpriseOutput.enterprise_id == enterprise_id, EnterpriseOutput.year == year)).scalar_one()


def _missing(sites: list[EnterpriseSite], reports: list[EnergyReport], p: Period) -> list[str]:
    """Each site's months of the period no report covers ("site: 2025-03, 2025-04")."""
    missing = []
    for site in sites:
        covered = set()
        for report in reports:
            if report.site_id == site.id:
                covered |= ({(report.year, m) for m in range(1, 13)} if report.month is None
                            else {(report.year, report.month)})
        gaps = [f"{y}-{m:02d}" for y, m in p.months() if (y, m) not in covered]
        if gaps:
            missing.append(f"{site.name}: {', '.join(gaps)}")
    if not sites:
        missing.append("(no site)")
    return missing


def _by_source(versions: list[tuple[EnergyReport, EnergyReportVersion]]) -> list[dict[str, Any]]:
    """The period's emissions by source (each fuel, purchased electricity, purchased heat) from the receipts."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for _report, version in versions:
        for line in version.receipt["lines"]:
            row = rows.setdefault((line["source"], line["kind"]), {
                "source": line["source"], "kind": line["kind"], "scope": line["scope"], "kg": 0,
                "name_zh": line.get("name_zh"), "name_en": line.get("name_en"), "quantity": Decimal(0),
                "unit": None, "green_kwh": 0})
            row["kg"] += line["kg"]
            inputs = line["inputs"]
            if line["source"] == "fuel":
                row["quantity"] += Decimal(inputs["quantity"])
                row["unit"] = inputs["unit"]
            elif line["source"] == "electricity":
                row["quantity"] += inputs["electricity_kwh"]
                row["green_kwh"] += inputs["green_kwh"]
                row["unit"] = "kWh"
            else:
                row["quantity"] += Decimal(inputs["heat_gj"])
                row["unit"] = "GJ"
    order = {"fuel": 0, "electricity": 1, "heat": 2}
    out = []
    for row in sorted(rows.values(), key=lambda r: (order[r["source"]], r["kind"])):
        row["quantity"] = format(Decimal(row["quantity"]).normalize(), "f") if row["quantity"] else "0"
        if row["source"] != "electricity":
            del row["green_kwh"]
        out.append({k: v for k, v in row.items() if v is not None})
    return out


def _document(enterprise: Enterprise, p: Period, serial: str, issued_at: datetime,
              sites: list[EnterpriseSite], reports: list[EnergyReport],
              figures: energy_reports.YearFigures | None, output_number: int | None) -> dict[str, Any]:
    versions = [(report, report.current) for report in reports if report.versions]
    scope1 = sum(v.scope1_kg for _r, v in versions)
    scope2 = sum(v.scope2_kg for _r, v in versions)
    industry = energy_reports.industries().get(enterprise.industry_code or "")
    by_site = []
    for site in sites:
        kg = sum(v.total_kg for r, v in versions if r.site_id == site.id)
        by_site.append({"site": site.name, "kg": kg,
                        "reports": sum(1 for r, _v in versions if r.site_id == site.id)})
    first, last = p.text
    missing = _missing(sites, reports, p)
    document: dict[str, Any] = {
        "format": FORMAT, "serial": serial, "issuer": ISSUER,
        "issued_at": issued_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "enterprise": {
            "name": enterprise.name, "uscc": enterprise.uscc, "industry_code": enterprise.industry_code,
            "industry_name_zh": industry.name_zh if industry else None,
            "industry_name_en": industry.name_en if industry else None,
            "district_code": enterprise.district.code, "district_name_zh": enterprise.district.name_zh,
            "district_name_en": enterprise.district.name_en,
            "key_energy_user": enterprise.key_energy_user,
        },
        "period": {"from": first, "to": last, "whole_year": p.whole_year, "months": len(p.months())},
        "unit": "kg CO2",
        "emissions": {"total_kg": scope1 + scope2, "scope1_kg": scope1, "scope2_kg": scope2},
        "complete": not missing, "missing": missing,
        "by_source": _by_source(versions),
        "by_site": by_site,
        "year": None,
        "projects": [],
        "projects_note": "reduction projects are not recorded by the platform yet: none are listed",
        "method": {
            "standard": "GB/T 32150-2015",
            "registry_versions": sorted({v.registry_version for _r, v in versions}),
            "grades_version": figures.receipt["grades_version"] if figures else None,
            "rounding": "each report's lines rounded up to a whole kg (against the enterprise); totals are sums",
        },
        "sources": [{
            "report_id": report.id, "site": report.site.name, "period": report.period, "version": version.number,
            "computed_on": version.computed_on.isoformat(), "registry_version": version.registry_version,
            "inputs": version.inputs, "scope1_kg": version.scope1_kg, "scope2_kg": version.scope2_kg,
            "total_kg": version.total_kg,
        } for report, version in versions],
    }
    if figures is not None:
        document["year"] = {
            "year": figures.year, "output_yuan": figures.total.output_yuan, "output_declaration": output_number,
            "intensity": figures.intensity, "intensity_unit": "kg CO2 per ¥10,000",
            "benchmark": figures.benchmark, "peers": figures.peers, "value": figures.value,
            "grade": figures.grade.grade if figures.grade else None,
            "grade_name_zh": figures.grade.name_zh if figures.grade else None,
            "grade_name_en": figures.grade.name_en if figures.grade else None,
            "change_percent": figures.change, "no_grade_because": figures.receipt["no_grade_because"],
            "steps": figures.receipt["steps"],
        }
    return document


def _sources(reports: list[EnergyReport], output_number: int | None) -> dict[str, Any]:
    return {"reports": {str(r.id): r.current.number for r in reports if r.versions}, "output": output_number}


def _serial(year: int) -> str:
    return f"CS{year}-" + base64.b32encode(secrets.token_bytes(10)).decode()[:14]


def _make(enterprise: Enterprise, p: Period, sites: list[EnterpriseSite], reports: list[EnergyReport],
          figures: energy_reports.YearFigures | None, output_number: int | None, key: Ed25519PrivateKey,
          key_id: str, now: datetime) -> dict[str, Any]:
    """A statement's row: the document, its digest and signature, and what it was made from."""
    serial = _serial(p.last[0])
    document = _document(enterprise, p, serial, now, sites, reports, figures, output_number)
    body = signing.canonical(document)
    return {"serial": serial, "enterprise_id": enterprise.id, "period_from": p.text[0], "period_to": p.text[1],
            "issued_at": now, "document": document, "digest": hashlib.sha256(body).hexdigest(), "key_id": key_id,
            "signature": base64.b64encode(key.sign(body)).decode(), "sources": _sources(reports, output_number)}


def issue(enterprise: Enterprise, *, period_from: str, period_to: str, actor: audit.Actor) -> EnterpriseStatement:
    """A signed statement of the enterprise's account for the period, from its reports as they are now."""
    if enterprise.industry_code is None:
        raise Conflict("the enterprise has no industry yet: the console sets it", code="industry_required")
    now = utcnow()
    p = period(period_from, period_to, now=now)
    # Serialise with report submissions and corrections of the enterprise, so a statement is made from one
    # consistent state of its reports (a correction waits, then supersedes it).
    db.session.execute(sa.select(Enterprise.id).where(Enterprise.id == enterprise.id).with_for_update())
    sites = _sites([enterprise.id])[enterprise.id]
    reports = _reports([enterprise.id], p)[enterprise.id]
    if not reports:
        raise Conflict("the enterprise has no report in this period", code="statement_no_reports")
    figures = energy_reports.year_figures(enterprise, p.whole_year) if p.whole_year else None
    output_number = _output_number(enterprise.id, p.whole_year) if p.whole_year else None
    key = signing.signing_key()
    statement = EnterpriseStatement(**_make(enterprise, p, sites, reports, figures, output_number, key,
                                            signing.key_id(key.public_key()), now))
    db.session.add(statement)
    db.session.flush()
    audit.record(actor, "enterprise.statement.issue", statement, serial=statement.serial,
                 period=f"{p.text[0]}…{p.text[1]}", total_kg=statement.document["emissions"]["total_kg"])
    return statement


def year_batches(year: int, *, actor: audit.Actor, size: int = 200) -> tuple[int, Iterator[tuple[int, list[str]]]]:
    """Whole-year statements for every enterprise with an industry and a report in ``year`` (the CLI's batch):
    how many enterprises there are, and batches of ``size`` of them (how many it went through, the serials of the
    statements issued), for the caller to commit between batches. An enterprise whose latest statement of the
    year is still current gets no new one, so a run that stopped half-way is simply run again.

    Each industry's totals are gathered once for all its enterprises and reports are loaded a batch at a time,
    so the work grows with the number of enterprises, not with its square.
    """
    p = period(*year_period(year))
    ids = db.session.execute(
        sa.select(Enterprise.id, Enterprise.industry_code).where(Enterprise.industry_code.is_not(None)).where(
            sa.select(EnergyReport.id).join(EnergyReport.site)
            .where(EnterpriseSite.enterprise_id == Enterprise.id, EnergyReport.year == year).exists())
        .order_by(Enterprise.industry_code, Enterprise.id)).all()

    def batches() -> Iterator[tuple[int, list[str]]]:
        key = signing.signing_key()
        signer = signing.key_id(key.public_key())
        now = utcnow()
        first, last = p.text
        issued_before = {row.enterprise_id: row for row in db.session.execute(
            sa.select(EnterpriseStatement).where(EnterpriseStatement.period_from == first,
                                                 EnterpriseStatement.period_to == last)
            .order_by(EnterpriseStatement.id)).scalars()}
        peers: dict[str, dict[int, energy_reports.YearTotal]] = {}
        before: dict[str, dict[int, energy_reports.YearTotal]] = {}
        total = 0
        for start in range(0, len(ids), size):
            considered = ids[start:start + size]
            chunk = [(eid, code) for eid, code in considered
                     if eid not in issued_before or not status(issued_before[eid]).current]
            enterprise_ids = [eid for eid, _code in chunk]
            enterprises = {e.id: e for e in db.session.execute(
                sa.select(Enterprise).options(selectinload(Enterprise.district))
                .where(Enterprise.id.in_(enterprise_ids))).scalars()}
            sites, reports = _sites(enterprise_ids), _reports(enterprise_ids, p)
            outputs = dict(db.session.execute(
                sa.select(EnterpriseOutput.enterprise_id, sa.func.max(EnterpriseOutput.number))
                .where(EnterpriseOutput.enterprise_id.in_(enterprise_ids), EnterpriseOutput.year == year)
                .group_by(EnterpriseOutput.enterprise_id)).all())
            issued = []
            for eid, code in chunk:
                if code not in peers:
                    peers[code] = energy_reports.year_totals(year, industry=code)
                    before[code] = energy_reports.year_totals(year - 1, industry=code)
                figures = energy_reports.figures_from(enterprises[eid], year, peers[code], before[code].get(eid))
                issued.append(_make(enterprises[eid], p, sites[eid], reports[eid], figures, outputs.get(eid), key,
                                    signer, now))
            if issued:  # one multi-row insert: nothing needs the new rows' ids back
                db.session.execute(sa.insert(EnterpriseStatement), issued)
            total += len(issued)
            if start + size >= len(ids):
                audit.record(actor, "enterprise.statement.batch", None, year=year, statements=total)
                db.session.flush()
            yield len(considered), [row["serial"] for row in issued]

    return len(ids), batches()


# -- reading and checking -------------------------------------------------------------------------------------------


def of_enterprise(enterprise: Enterprise) -> list[EnterpriseStatement]:
    return list(db.session.execute(sa.select(EnterpriseStatement).where(
        EnterpriseStatement.enterprise_id == enterprise.id).order_by(EnterpriseStatement.id.desc())).scalars())


def by_serial(serial: str) -> EnterpriseStatement:
    statement = None
    if isinstance(serial, str) and len(serial) <= 24:
        statement = db.session.execute(sa.select(EnterpriseStatement).options(
            undefer(EnterpriseStatement.document)).where(EnterpriseStatement.serial == serial)).scalar_one_or_none()
    if statement is None:
        raise NotFound("no statement with this number", code="statement_not_found")
    return statement


def own(enterprise: Enterprise, serial: str) -> EnterpriseStatement:
    statement = by_serial(serial)
    if statement.enterprise_id != enterprise.id:
        raise NotFound("no statement with this number", code="statement_not_found")
    return statement


@dataclass(frozen=True)
class Status:
    current: bool
    reason: str | None  # "later_statement" | "corrected" | None
    superseded_by: str | None  # the later statement's serial, if one was issued


def status(statement: EnterpriseStatement) -> Status:
    """Whether the statement still says what the account says: no later statement of the same period, and no
    report or output value it was made from corrected (or a report of the period added) since."""
    later = db.session.execute(
        sa.select(EnterpriseStatement.serial).where(
            EnterpriseStatement.enterprise_id == statement.enterprise_id,
            EnterpriseStatement.period_from == statement.period_from,
            EnterpriseStatement.period_to == statement.period_to, EnterpriseStatement.id > statement.id)
        .order_by(EnterpriseStatement.id.desc()).limit(1)).scalar_one_or_none()
    p = stored_period(statement)
    latest = (sa.select(EnergyReportVersion.report_id, sa.func.max(EnergyReportVersion.number).label("number"))
              .group_by(EnergyReportVersion.report_id).subquery())
    now_sources = {}
    for report_id, year, month, number in db.session.execute(
            sa.select(EnergyReport.id, EnergyReport.year, EnergyReport.month, latest.c.number)
            .join(latest, latest.c.report_id == EnergyReport.id).join(EnergyReport.site)
            .where(EnterpriseSite.enterprise_id == statement.enterprise_id,
                   EnergyReport.year.between(p.first[0], p.last[0]))):
        if p.contains(year, month):
            now_sources[str(report_id)] = number
    output = _output_number(statement.enterprise_id, p.whole_year) if p.whole_year else None
    corrected = now_sources != statement.sources["reports"] or output != statement.sources["output"]
    if later is None and not corrected:
        return Status(True, None, None)
    return Status(False, "later_statement" if later else "corrected", later)


@dataclass(frozen=True)
class Verification:
    genuine: bool
    why_not: str | None  # "malformed" | "unknown_key" | "signature_invalid" | "not_issued"
    statement: EnterpriseStatement | None
    status: Status | None


def verify(download: Any) -> Verification:
    """Check a statement's JSON download: signed by a platform key, and issued by this platform exactly so."""
    try:
        document, signature = download["statement"], download["signature"]
        body = signing.canonical(document)
        key_id, value = signature["key_id"], base64.b64decode(signature["value"], validate=True)
        serial = document["serial"]
    except (KeyError, TypeError, ValueError):
        return Verification(False, "malformed", None, None)
    key = signing.public_keys().get(key_id) if isinstance(key_id, str) else None
    if key is None:
        return Verification(False, "unknown_key", None, None)
    try:
        key.verify(value, body)
    except InvalidSignature:
        return Verification(False, "signature_invalid", None, None)
    try:
        statement = by_serial(serial)
    except NotFound:
        return Verification(False, "not_issued", None, None)
    if statement.digest != hashlib.sha256(body).hexdigest():
        return Verification(False, "not_issued", None, None)
    return Verification(True, None, statement, status(statement))


def download(statement: EnterpriseStatement) -> dict[str, Any]:
    """The JSON download: the document as signed, and what checks it."""
    return {"statement": statement.document, "signature": {
        "algorithm": "Ed25519", "key_id": statement.key_id, "value": statement.signature,
        "digest_sha256": statement.digest, "signed_bytes": "canonical JSON of 'statement': keys sorted, "
        "separators ',' and ':', UTF-8, no ASCII escaping"}}
