"""Emissions of one enterprise's energy report (a site's month or year) per GB/T 32150-2015, with a receipt.

E_fuel  = AD × NCV × CC × OF × 44/12      (scope 1, fuel combustion; AD in t or Nm3, NCV per the registry's unit)
E_elec  = (kWh − green kWh) × EF_grid     (scope 2; green kWh: electricity bought with green certificates, at zero)
E_heat  = GJ × EF_heat                    (scope 2, purchased heat or steam)

Rounding, written down once: every line is computed exactly (fractions, no floating point) in kg CO2 and then
rounded **up** to a whole kilogram, against the reporting enterprise (an account never shows less than its
energy emitted). The total is the sum of the rounded lines, so the receipt adds up as printed.

The grid factor in force for a data year is the registry's factor for that region with the latest data year not
after the report's, among those published on or before the day of the calculation: a factor is never used before
its publication, and a report for a year with no factor of its own (2024, say) takes the latest one published.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from emissions.registry import GridFactor, Registry

ROUNDING = "each line exact, then rounded up to a whole kg CO2 (against the reporting enterprise); total = sum of lines"
CO2_PER_C = Fraction(44, 12)


class EmissionsError(ValueError):
    """Inputs the method cannot compute: an unknown fuel, a negative quantity, no grid factor for the year."""

    def __init__(self, code: str, message: str, **details: Any):
        self.code, self.message, self.details = code, message, details
        super().__init__(message)


@dataclass(frozen=True)
class Activity:
    """One report's activity data, in physical units. Quantities are Decimal or int, never float."""

    data_year: int
    electricity_kwh: int = 0
    green_kwh: int = 0  # of electricity_kwh, bought with green certificates (绿证)
    heat_gj: Decimal = Decimal(0)
    fuels: Mapping[str, Decimal] = field(default_factory=dict)  # fuel kind -> quantity in the fuel's unit


@dataclass(frozen=True)
class Line:
    source: str  # fuel | electricity | heat
    kind: str  # the fuel kind, or the grid region, or "heat"
    scope: int
    kg: int
    receipt: dict[str, Any]


@dataclass(frozen=True)
class Emissions:
    total_kg: int
    scope1_kg: int
    scope2_kg: int
    lines: tuple[Line, ...]
    receipt: dict[str, Any]


def _fmt(value: Fraction | Decimal | int) -> str:
    """An exact value for a receipt: integers as they are, others to 6 decimal places (display only)."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return str(value) if isinstance(value, int) else f"{value:.6f}".rstrip("0").rstrip(".")


def _up(kg: Fraction) -> int:
    return math.ceil(kg)


def _check_quantity(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise EmissionsError("invalid_quantity", f"{what} must be an integer or a Decimal", field=what)
    value = Decimal(value)
    if not value.is_finite() or value < 0:
        raise EmissionsError("invalid_quantity", f"{what} cannot be negative", field=what)
    return value


def grid_factor(registry: Registry, region: str, data_year: int, on: date) -> GridFactor:
    """The factor in force for ``data_year`` on the day ``on`` (see the module docstring)."""
    factors = registry.grid.get(region)
    if factors is None:
        raise EmissionsError("unknown_grid_region", f"the registry has no grid factors for {region!r}", region=region)
    usable = [f for f in factors if f.data_year <= data_year and f.published <= on]
    if not usable:
        raise EmissionsError("no_grid_factor", f"no {region} grid factor for data year {data_year} was published "
                             f"by {on.isoformat()}", region=region, data_year=data_year)
    return max(usable, key=lambda f: f.data_year)


def _fuel_line(registry: Registry, kind: str, quantity: Decimal) -> Line:
    fuel = registry.fuels.get(kind)
    if fuel is None:
        raise EmissionsError("unknown_fuel", f"the registry has no fuel {kind!r}", fuel=kind,
                             known=sorted(registry.fuels))
    ad, ncv, cc, of = (Fraction(quantity), Fraction(fuel.ncv.value), Fraction(fuel.carbon_content.value),
                       Fraction(fuel.oxidation.value))
    gj = ad * ncv / fuel.ncv_per
    kgc = gj * cc
    burnt = kgc * of
    kg = burnt * CO2_PER_C
    rounded = _up(kg)
    per = f" / {fuel.ncv_per}" if fuel.ncv_per != 1 else ""
    steps = [
        f"heat: {_fmt(quantity)} {fuel.unit} × {_fmt(fuel.ncv.value)} {fuel.ncv.unit}{per} = {_fmt(gj)} GJ",
        f"carbon: {_fmt(gj)} GJ × {_fmt(fuel.carbon_content.value)} kgC/GJ = {_fmt(kgc)} kgC",
        f"oxidised: {_fmt(kgc)} kgC × {_fmt(fuel.oxidation.value)} = {_fmt(burnt)} kgC",
        f"CO2: {_fmt(burnt)} kgC × 44/12 = {_fmt(kg)} kg",
        f"rounded up: {rounded} kg",
    ]
    factors = {"ncv": fuel.ncv.cite(registry), "carbon_content": fuel.carbon_content.cite(registry),
               "oxidation": fuel.oxidation.cite(registry)}
    return Line("fuel", kind, 1, rounded, {
        "source": "fuel", "kind": kind, "name_zh": fuel.name_zh, "name_en": fuel.name_en, "scope": 1,
        "inputs": {"quantity": _fmt(quantity), "unit": fuel.unit},
        "factors": factors, "steps": steps, "kg": rounded,
    })


def _electricity_line(registry: Registry, activity: Activity, region: str, on: date) -> Line:
    total, green = activity.electricity_kwh, activity.green_kwh
    if green > total:
        raise EmissionsError("green_exceeds_total", "green-certificate electricity cannot exceed the electricity "
                             "bought", field="green_kwh", electricity_kwh=total, green_kwh=green)
    factor = grid_factor(registry, region, activity.data_year, on)
    grid_kwh = total - green
    kg = grid_kwh * Fraction(factor.factor.value)
    rounded = _up(kg)
    cited = {**factor.factor.cite(registry), "region": region, "data_year": factor.data_year,
             "published": factor.published.isoformat()}
    share = _fmt(Fraction(green, total) * 100) if total else "0"
    steps = [
        f"grid electricity: {total} kWh − {green} kWh with green certificates ({share} %) = {grid_kwh} kWh",
        f"CO2: {grid_kwh} kWh × {_fmt(factor.factor.value)} kgCO2/kWh ({region}, data year {factor.data_year}, "
        f"published {factor.published.isoformat()}) = {_fmt(kg)} kg",
        f"rounded up: {rounded} kg",
    ]
    return Line("electricity", region, 2, rounded, {
        "source": "electricity", "kind": region, "scope": 2,
        "inputs": {"electricity_kwh": total, "green_kwh": green, "data_year": activity.data_year},
        "factors": {"grid": cited}, "steps": steps, "kg": rounded,
    })


def _heat_line(registry: Registry, gj: Decimal) -> Line:
    kg = Fraction(gj) * Fraction(registry.heat.value)
    rounded = _up(kg)
    steps = [f"CO2: {_fmt(gj)} GJ × {_fmt(registry.heat.value)} kgCO2/GJ = {_fmt(kg)} kg", f"rounded up: {rounded} kg"]
    return Line("heat", "heat", 2, rounded, {
        "source": "heat", "kind": "heat", "scope": 2, "inputs": {"heat_gj": _fmt(gj)},
        "factors": {"heat": registry.heat.cite(registry)}, "steps": steps, "kg": rounded,
    })


def compute(activity: Activity, registry: Registry, *, on: date, region: str = "shandong") -> Emissions:
    """The emissions of ``activity`` with ``registry``'s factors, as computed on the day ``on``."""
    for name in ("electricity_kwh", "green_kwh"):
        value = getattr(activity, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise EmissionsError("invalid_quantity", f"{name} must be a whole number of kWh", field=name)
        _check_quantity(value, name)
    heat = _check_quantity(activity.heat_gj, "heat_gj")
    lines = [_fuel_line(registry, kind, _check_quantity(quantity, f"fuels.{kind}"))
             for kind, quantity in sorted(activity.fuels.items())]
    if activity.electricity_kwh or activity.green_kwh:
        lines.append(_electricity_line(registry, activity, region, on))
    if heat:
        lines.append(_heat_line(registry, heat))
    scope1 = sum(line.kg for line in lines if line.scope == 1)
    scope2 = sum(line.kg for line in lines if line.scope == 2)
    unconfirmed = sorted({f"{line.kind}.{name}" for line in lines
                          for name, cited in line.receipt["factors"].items() if not cited["confirmed"]})
    receipt = {
        "method": registry.method, "registry_version": registry.version, "computed_on": on.isoformat(),
        "data_year": activity.data_year, "rounding": ROUNDING, "unit": "kg CO2",
        "lines": [line.receipt for line in lines],
        "scope1_kg": scope1, "scope2_kg": scope2, "total_kg": scope1 + scope2,
        "steps": [f"total: {' + '.join(str(line.kg) for line in lines) or '0'} = {scope1 + scope2} kg"],
        "unconfirmed": unconfirmed,
    }
    return Emissions(scope1 + scope2, scope1, scope2, tuple(lines), receipt)
