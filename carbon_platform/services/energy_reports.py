"""Enterprises' industries, sites and energy reports, and the emissions computed from them (issue #18 items 1–3).

The method is ``emissions`` (GB/T 32150-2015, pure Python, integer kg with a receipt); this module stores what an
enterprise reports and what was computed from it:

- An enterprise's industry is a GB/T 4754-2017 division listed in ``seeds/industries.yaml``; anything else is
  refused, never stored. An enterprise reports only once it has one.
- A report is one site's month or whole year, for a period that is over (a Beijing month or year). A site reports
  a year either by month or as a whole, never both: the year's total would count twice.
- A report's figures are in versions. A correction adds a version with a note saying why; earlier versions stay
  exactly as they were, with the inputs, the registry version, the day the factors were chosen for and the
  receipt, so every figure once shown re-derives from what it says it used.
- The day of calculation is the Beijing day the version was submitted: the grid factor is the one published by
  then (``emissions.calculate.grid_factor``), so a correction made after a new factor's publication uses it, and
  the version before it keeps the factor it had.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
import yaml

from carbon_platform.clock import city_day, utcnow
from carbon_platform.errors import Conflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import EnergyReport, EnergyReportVersion, Enterprise, EnterpriseOutput, EnterpriseSite
from carbon_platform.services import audit
from carbon_platform.services.accounts import clean_name
from emissions import grading
from emissions.calculate import Activity, EmissionsError, compute
from emissions.registry import Registry, parse_registry

REGISTRY_FILE = "enterprise-factors-2026.1.yaml"
#: The most one report may say: a 10 GW plant running all year makes under 10^11 kWh; Tai'an's biggest users
#: burn millions of tonnes of coal, not billions. Beyond this a figure is a typo, refused before it is computed.
MAX_KWH = 10**12
MAX_QUANTITY = Decimal(10**10)
MAX_NOTE = 500


@dataclass(frozen=True)
class Industry:
    code: str
    section: str
    name_zh: str
    name_en: str


@cache
def industries() -> dict[str, Industry]:
    """The GB/T 4754-2017 divisions an enterprise may be classified under, by code, in the file's order."""
    data = yaml.safe_load(resources.files("seeds").joinpath("industries.yaml").read_text(encoding="utf-8"))
    return {row["code"]: Industry(row["code"], row["section"], row["name_zh"], row["name_en"])
            for row in data["industries"]}


def industry_code(raw: Any) -> str:
    """``raw`` as a known division code, or InvalidInput naming the field."""
    if not isinstance(raw, str) or raw.strip() not in industries():
        raise InvalidInput("not a GB/T 4754-2017 division the platform lists (seeds/industries.yaml)",
                           code="unknown_industry", field="industry_code")
    return raw.strip()


@cache
def registry() -> Registry:
    """The factor registry reports are computed with (loaded once; a new version is a new file)."""
    text = resources.files("seeds").joinpath(REGISTRY_FILE).read_text(encoding="utf-8")
    return parse_registry(yaml.safe_load(text))


def classify(enterprise: Enterprise, *, code: str, key_energy_user: bool, actor: audit.Actor) -> Enterprise:
    """Set the enterprise's division and whether it is a 重点用能单位 (the console's or the seed's word)."""
    before = {"industry_code": enterprise.industry_code, "key_energy_user": enterprise.key_energy_user}
    enterprise.industry_code, enterprise.key_energy_user = industry_code(code), bool(key_energy_user)
    audit.record(actor, "enterprise.classify", enterprise, before=before,
                 after={"industry_code": enterprise.industry_code, "key_energy_user": enterprise.key_energy_user})
    return enterprise


# -- sites ------------------------------------------------------------------------------------------------------


def sites(enterprise: Enterprise) -> list[EnterpriseSite]:
    return list(db.session.execute(sa.select(EnterpriseSite).where(EnterpriseSite.enterprise_id == enterprise.id)
                                   .order_by(EnterpriseSite.id)).scalars())


def add_site(enterprise: Enterprise, *, name: str, actor: audit.Actor) -> EnterpriseSite:
    name = clean_name(name, "name", max_length=64)
    if any(site.name == name for site in sites(enterprise)):
        raise Conflict("the enterprise has a site of this name", code="site_exists", field="name")
    site = EnterpriseSite(enterprise=enterprise, name=name)
    db.session.add(site)
    db.session.flush()
    audit.record(actor, "enterprise.site.add", site, enterprise_id=enterprise.id, name=name)
    return site


def site_of(enterprise: Enterprise, site_id: int) -> EnterpriseSite:
    """The enterprise's own site; another's, or none, is 404."""
    site = db.session.get(EnterpriseSite, site_id)
    if site is None or site.enterprise_id != enterprise.id:
        raise NotFound("no such site", code="site_not_found")
    return site


# -- reports ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """A report's activity data as given: whole kWh; heat and fuels as Decimals in the registry's units."""

    electricity_kwh: int = 0
    green_kwh: int = 0
    heat_gj: Decimal = Decimal(0)
    fuels: dict[str, Decimal] = field(default_factory=dict)

    def stored(self) -> dict[str, Any]:
        return {"electricity_kwh": self.electricity_kwh, "green_kwh": self.green_kwh,
                "heat_gj": _text(self.heat_gj), "fuels": {k: _text(v) for k, v in sorted(self.fuels.items())}}

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Inputs:
        return cls(stored["electricity_kwh"], stored["green_kwh"], Decimal(stored["heat_gj"]),
                   {k: Decimal(v) for k, v in stored["fuels"].items()})


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def check_inputs(inputs: Inputs) -> Inputs:
    """Refuse what no energy report can say, each with the field it is about (the API's schema says it first;
    this holds for every caller)."""
    for name in ("electricity_kwh", "green_kwh"):
        value = getattr(inputs, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_KWH:
            raise InvalidInput(f"{name} must be a whole number of kWh from 0 to {MAX_KWH}", field=name)
    if inputs.green_kwh > inputs.electricity_kwh:
        raise InvalidInput("electricity bought with green certificates cannot exceed the electricity bought",
                           code="green_exceeds_total", field="green_kwh")
    quantities = {"heat_gj": inputs.heat_gj, **{f"fuels.{k}": v for k, v in inputs.fuels.items()}}
    for name, value in quantities.items():
        if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= MAX_QUANTITY:
            raise InvalidInput(f"{name} must be a number from 0 to {MAX_QUANTITY}", field=name)
    unknown = sorted(set(inputs.fuels) - set(registry().fuels))
    if unknown:
        raise InvalidInput(f"unknown fuel {unknown[0]!r}", code="unknown_fuel", field=f"fuels.{unknown[0]}",
                           known=sorted(registry().fuels))
    return inputs


def _period(year: int, month: int | None, now: datetime) -> str:
    today = city_day(now)
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= today.year:
        raise InvalidInput(f"year must be from 2000 to {today.year}", code="report_period_invalid", field="year")
    if month is not None and (isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12):
        raise InvalidInput("month must be 1 to 12, or absent for a whole year", code="report_period_invalid",
                           field="month")
    if (year, month or 12) >= (today.year, today.month):
        raise InvalidInput("a report covers a month or year that is over", code="report_period_not_over",
                           field="month" if month else "year")
    return f"{year}-{month:02d}" if month else str(year)


def _version(report: EnergyReport, inputs: Inputs, number: int, note: str, now: datetime) -> EnergyReportVersion:
    on = city_day(now)
    try:
        result = compute(Activity(report.year, inputs.electricity_kwh, inputs.green_kwh, inputs.heat_gj,
                                  inputs.fuels), registry(), on=on)
    except EmissionsError as exc:  # no grid factor for the year yet, say: the method's own code and words
        raise InvalidInput(exc.message, code=exc.code, **exc.details) from None
    version = EnergyReportVersion(report=report, number=number, submitted_at=now, note=note,
                                  inputs=inputs.stored(), registry_version=registry().version, computed_on=on,
                                  scope1_kg=result.scope1_kg, scope2_kg=result.scope2_kg, total_kg=result.total_kg,
                                  receipt=result.receipt)
    db.session.add(version)
    return version


def submit(enterprise: Enterprise, site: EnterpriseSite, *, year: int, month: int | None, inputs: Inputs,
           actor: audit.Actor) -> EnergyReport:
    """A site's first report for a period, computed at once. Nothing is stored if anything is refused."""
    if site.enterprise_id != enterprise.id:
        raise NotFound("no such site", code="site_not_found")
    if enterprise.industry_code is None:
        raise Conflict("the enterprise has no industry (GB/T 4754-2017 division) yet: the console sets it",
                       code="industry_required")
    now = utcnow()
    period = _period(year, month, now)
    inputs = check_inputs(inputs)
    # One site's reports of a year: row locks on the site serialise two submissions, so the checks below see
    # each other (the unique period is the backstop for two of the same period).
    db.session.execute(sa.select(EnterpriseSite.id).where(EnterpriseSite.id == site.id).with_for_update())
    taken = set(db.session.execute(sa.select(EnergyReport.month).where(EnergyReport.site_id == site.id,
                                                                       EnergyReport.year == year)).scalars())
    if month in taken:
        raise Conflict(f"the site has a report for {period}: correct it instead", code="report_exists",
                       period=period)
    if taken and (month is None or None in taken):
        raise Conflict("a site reports a year either by month or as a whole year, not both",
                       code="report_period_mixed", period=period)
    report = EnergyReport(site=site, year=year, month=month, period=period)
    db.session.add(report)
    _version(report, inputs, 1, "", now)
    db.session.flush()
    audit.record(actor, "enterprise.report.submit", report, site_id=site.id, period=period,
                 total_kg=report.current.total_kg)
    return report


def correct(enterprise: Enterprise, report: EnergyReport, *, inputs: Inputs, note: str,
            actor: audit.Actor) -> EnergyReport:
    """A new version of the report, computed now; the earlier versions stay as they were."""
    if report.site.enterprise_id != enterprise.id:
        raise NotFound("no such report", code="report_not_found")
    note = note.strip() if isinstance(note, str) else ""
    if not note or len(note) > MAX_NOTE or "\x00" in note:
        raise InvalidInput(f"say why the report is corrected (1 to {MAX_NOTE} characters)", field="note")
    inputs = check_inputs(inputs)
    db.session.execute(sa.select(EnergyReport.id).where(EnergyReport.id == report.id).with_for_update())
    db.session.refresh(report, ["versions"])  # as they are now that no other correction can run
    number = report.current.number + 1
    if Inputs.from_stored(report.current.inputs).stored() == inputs.stored():
        raise Conflict("the correction changes nothing", code="correction_unchanged")
    _version(report, inputs, number, note, utcnow())  # joins report.versions (back_populates): no reload
    db.session.flush()
    audit.record(actor, "enterprise.report.correct", report, number=number, note=note,
                 total_kg=report.current.total_kg)
    return report


def reports(enterprise: Enterprise, *, year: int | None = None) -> list[EnergyReport]:
    query = (sa.select(EnergyReport).join(EnergyReport.site).where(EnterpriseSite.enterprise_id == enterprise.id)
             .order_by(EnergyReport.year.desc(), EnergyReport.month.desc(), EnterpriseSite.id))
    if year is not None:
        query = query.where(EnergyReport.year == year)
    return list(db.session.execute(query).unique().scalars())


def report_of(enterprise: Enterprise, report_id: int) -> EnergyReport:
    report = db.session.get(EnergyReport, report_id)
    if report is None or report.site.enterprise_id != enterprise.id:
        raise NotFound("no such report", code="report_not_found")
    return report


# -- output, intensity and grade (issue #18 item 4; the arithmetic is emissions.grading) ---------------------------

GRADES_FILE = "enterprise-grades-2026.1.yaml"
MAX_OUTPUT_WAN = Decimal(10**9)  # ¥10,000 × 10^9 = ¥10 trillion: beyond any enterprise's year


@cache
def grades() -> grading.Grades:
    return grading.parse_grades(yaml.safe_load(
        resources.files("seeds").joinpath(GRADES_FILE).read_text(encoding="utf-8")))


def declare_output(enterprise: Enterprise, *, year: int, output_wan: Decimal, note: str,
                   actor: audit.Actor) -> EnterpriseOutput:
    """The enterprise's output value for a year that is over, in ¥10,000; a second declaration for the year is a
    correction (a new row, with a note saying why), the earlier one kept."""
    _period(year, None, utcnow())
    if not isinstance(output_wan, Decimal) or not output_wan.is_finite() or not 0 < output_wan <= MAX_OUTPUT_WAN:
        raise InvalidInput(f"the output value is more than 0 and at most {MAX_OUTPUT_WAN} (in ¥10,000)",
                           field="output_wan")
    yuan = output_wan * grading.PER
    if yuan != yuan.to_integral_value():
        raise InvalidInput("the output value in ¥10,000 has at most four decimal places (whole yuan)",
                           field="output_wan")
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > MAX_NOTE or "\x00" in note:
        raise InvalidInput(f"the note is at most {MAX_NOTE} characters", field="note")
    db.session.execute(sa.select(Enterprise.id).where(Enterprise.id == enterprise.id).with_for_update())
    latest = db.session.execute(sa.select(sa.func.max(EnterpriseOutput.number)).where(
        EnterpriseOutput.enterprise_id == enterprise.id, EnterpriseOutput.year == year)).scalar_one()
    if latest is not None and not note:
        raise InvalidInput("say why the output value is corrected", field="note")
    row = EnterpriseOutput(enterprise_id=enterprise.id, year=year, number=(latest or 0) + 1,
                           output_yuan=int(yuan), submitted_at=utcnow(), note=note)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "enterprise.output.declare", enterprise, year=year, number=row.number,
                 output_yuan=row.output_yuan)
    return row


@dataclass(frozen=True)
class YearTotal:
    """One enterprise's year: emissions from its reports' current versions, whether they cover the year, and its
    latest declared output value."""

    enterprise_id: int
    kg: int
    complete: bool
    missing: tuple[str, ...]  # "site: months" not reported, for the receipt
    output_yuan: int | None

    @property
    def comparable(self) -> bool:
        return self.complete and self.output_yuan is not None


def year_totals(year: int, *, industry: str | None = None, enterprise_id: int | None = None) -> dict[int, YearTotal]:
    """Every enterprise's (of one industry, or one enterprise's) year, in a few queries whatever their number."""
    scope = [Enterprise.industry_code == industry] if industry else [Enterprise.id == enterprise_id]
    sites_of: dict[int, list[tuple[int, str]]] = {}
    for eid, sid, name in db.session.execute(sa.select(Enterprise.id, EnterpriseSite.id, EnterpriseSite.name)
                                             .join(EnterpriseSite, EnterpriseSite.enterprise_id == Enterprise.id)
                                             .where(*scope).order_by(EnterpriseSite.id)):
        sites_of.setdefault(eid, []).append((sid, name))
    latest = (sa.select(EnergyReportVersion.report_id, sa.func.max(EnergyReportVersion.number).label("number"))
              .group_by(EnergyReportVersion.report_id).subquery())
    rows = db.session.execute(
        sa.select(EnergyReport.site_id, EnergyReport.month, EnergyReportVersion.total_kg)
        .join(latest, latest.c.report_id == EnergyReport.id)
        .join(EnergyReportVersion, sa.and_(EnergyReportVersion.report_id == EnergyReport.id,
                                           EnergyReportVersion.number == latest.c.number))
        .join(EnterpriseSite, EnterpriseSite.id == EnergyReport.site_id)
        .join(Enterprise, Enterprise.id == EnterpriseSite.enterprise_id)
        .where(EnergyReport.year == year, *scope)).all()
    by_site: dict[int, list[tuple[int | None, int]]] = {}
    for site_id, month, kg in rows:
        by_site.setdefault(site_id, []).append((month, kg))
    outputs = (sa.select(EnterpriseOutput.enterprise_id, sa.func.max(EnterpriseOutput.number).label("number"))
               .where(EnterpriseOutput.year == year).group_by(EnterpriseOutput.enterprise_id).subquery())
    output_of = dict(db.session.execute(
        sa.select(EnterpriseOutput.enterprise_id, EnterpriseOutput.output_yuan)
        .join(outputs, sa.and_(outputs.c.enterprise_id == EnterpriseOutput.enterprise_id,
                               outputs.c.number == EnterpriseOutput.number))
        .join(Enterprise, Enterprise.id == EnterpriseOutput.enterprise_id)
        .where(EnterpriseOutput.year == year, *scope)).all())
    totals = {}
    for eid, site_list in sites_of.items():
        kg, missing = 0, []
        for site_id, name in site_list:
            reported = by_site.get(site_id, [])
            kg += sum(k for _month, k in reported)
            months = {month for month, _k in reported}
            if None not in months and len(months) < 12:
                gaps = [str(m) for m in range(1, 13) if m not in months]
                missing.append(f"{name}: {','.join(gaps)}")
        totals[eid] = YearTotal(eid, kg, not missing, tuple(missing), output_of.get(eid))
    return totals


@dataclass(frozen=True)
class YearFigures:
    year: int
    total: YearTotal
    intensity: str | None  # kg CO2 per ¥10,000, three decimals rounded up
    benchmark: str | None
    peers: int  # comparable accounts of the industry the benchmark stands on (the enterprise among them)
    value: str | None  # carbon-efficiency value, three decimals rounded down
    grade: grading.Grade | None
    change: str | None  # intensity against the year before, percent, one decimal (None without both years)
    receipt: dict[str, Any]


def year_figures(enterprise: Enterprise, year: int) -> YearFigures:
    """The enterprise's emissions, intensity, benchmark, carbon-efficiency value and grade for ``year``, and why."""
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise InvalidInput("year must be from 2000 to 2100", code="report_period_invalid", field="year")
    if enterprise.industry_code is None:
        raise Conflict("the enterprise has no industry yet: the console sets it", code="industry_required")
    peers = year_totals(year, industry=enterprise.industry_code)
    before = year_totals(year - 1, enterprise_id=enterprise.id).get(enterprise.id)
    return figures_from(enterprise, year, peers, before)


def figures_from(enterprise: Enterprise, year: int, peers: dict[int, YearTotal],
                 before: YearTotal | None) -> YearFigures:
    """``year_figures`` from totals already gathered: ``peers``, the year's totals of the enterprise's industry
    (``year_totals(year, industry=…)``), and ``before``, its own total of the year before, if any. A batch of
    statements gathers each industry's totals once instead of once per enterprise."""
    scale = grades()
    total = peers.get(enterprise.id) or YearTotal(enterprise.id, 0, False, ("(no site)",), None)
    comparable = [(t.kg, t.output_yuan) for t in peers.values() if t.comparable]
    steps, why_not = [], None
    own = bench = value = None
    grade = None
    if not total.complete:
        why_not = "incomplete"
        steps.append(f"not every month reported: {'; '.join(total.missing)}")
    elif total.output_yuan is None:
        why_not = "no_output"
        steps.append(f"no output value declared for {year}")
    else:
        own = grading.intensity(total.kg, total.output_yuan)
        steps.append(f"intensity: {total.kg} kg × 10,000 / ¥{total.output_yuan} = {grading.up3(own)} kg/¥10,000")
        bench = grading.benchmark(comparable, scale)
        if bench is None:
            why_not = "too_few_peers"
            steps.append(f"benchmark: {len(comparable)} comparable accounts in industry {enterprise.industry_code}, "
                         f"fewer than {scale.min_peers}: no benchmark, no grade")
        else:
            steps.append(f"benchmark: {sum(k for k, _ in comparable)} kg × 10,000 / "
                         f"¥{sum(y for _, y in comparable)} over {len(comparable)} accounts = "
                         f"{grading.up3(bench)} kg/¥10,000")
            if own == 0:
                why_not = "no_emissions"
                steps.append("no emissions: nothing to compare, no grade")
            else:
                value = bench / own
                grade = grading.grade_of(value, scale)
                steps.append(f"value: {grading.up3(bench)} / {grading.up3(own)} = {grading.down3(value)} "
                             f"(exact fractions; printed rounded down) → grade {grade.grade} (at least "
                             f"{float(grade.at_least):g})")
    change = None
    if own is not None and before is not None and before.comparable and before.kg:
        previous = grading.intensity(before.kg, before.output_yuan)
        change = f"{float(round((own - previous) / previous * 100, 1)):.1f}"
        steps.append(f"against {year - 1}: {grading.up3(previous)} → {grading.up3(own)} kg/¥10,000 ({change} %)")
    receipt = {
        "year": year, "industry": enterprise.industry_code, "grades_version": scale.version,
        "emissions_kg": total.kg, "complete": total.complete, "missing": list(total.missing),
        "output_yuan": total.output_yuan, "peers": len(comparable), "min_peers": scale.min_peers,
        "benchmark_basis": "tai'an accounts of the industry" if bench is not None else None,
        "no_grade_because": why_not if grade is None else None,
        "rounding": "intensities to 3 decimals rounded up; the value to 3 decimals rounded down; the grade from "
                    "the exact value",
        "steps": steps,
    }
    return YearFigures(year, total, grading.up3(own) if own is not None else None,
                       grading.up3(bench) if bench is not None else None, len(comparable),
                       grading.down3(value) if value is not None else None, grade, change, receipt)
