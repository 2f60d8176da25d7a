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
from carbon_platform.models import EnergyReport, EnergyReportVersion, Enterprise, EnterpriseSite
from carbon_platform.services import audit
from carbon_platform.services.accounts import clean_name
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


def _checked(inputs: Inputs) -> Inputs:
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
    inputs = _checked(inputs)
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
    inputs = _checked(inputs)
    db.session.execute(sa.select(EnergyReport.id).where(EnergyReport.id == report.id).with_for_update())
    db.session.refresh(report, ["versions"])  # as they are now that no other correction can run
    number = report.current.number + 1
    if Inputs.from_stored(report.current.inputs).stored() == inputs.stored():
        raise Conflict("the correction changes nothing", code="correction_unchanged")
    _version(report, inputs, number, note, utcnow())
    db.session.flush()
    db.session.refresh(report, ["versions"])
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
