"""The versioned factor registry: a YAML document in, a validated ``Registry`` out, or every problem with its path.

The document's shape is in seeds/enterprise-factors-2026.1.yaml. Values are decimal text (or YAML integers); a YAML
float is read through its text too, never as a binary float, so ``0.6410`` stays 0.6410.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml


class RegistryError(ValueError):
    """A registry document that cannot be used; ``problems`` lists (path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


@dataclass(frozen=True)
class Value:
    """One default value with where it comes from."""

    value: Decimal
    unit: str
    source: str  # a key of Registry.sources
    table: str
    year: int
    confirmed: bool

    def cite(self, registry: Registry) -> dict[str, Any]:
        return {"value": str(self.value), "unit": self.unit, "source": registry.sources[self.source]["zh"],
                "table": self.table, "year": self.year, "confirmed": self.confirmed}


@dataclass(frozen=True)
class Fuel:
    kind: str
    name_zh: str
    name_en: str
    unit: str  # the physical unit reports give: t or Nm3
    ncv: Value  # GJ per ``ncv_per`` units
    ncv_per: int
    carbon_content: Value  # kgC/GJ
    oxidation: Value  # fraction


@dataclass(frozen=True)
class GridFactor:
    region: str
    data_year: int
    published: date
    factor: Value  # kgCO2/kWh


@dataclass(frozen=True)
class Registry:
    version: str
    method: str
    sources: Mapping[str, Mapping[str, str]]
    fuels: Mapping[str, Fuel]
    grid: Mapping[str, tuple[GridFactor, ...]]  # region -> factors, by data year
    heat: Value  # kgCO2/GJ


FUEL_UNITS = {"t", "Nm3"}
_VALUE_KEYS = {"value", "unit", "source", "table", "year", "confirmed"}


class _Reader:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.sources: dict[str, Any] = {}

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def mapping(self, raw: Any, path: str, required: set[str], optional: frozenset[str] = frozenset()) -> dict:
        if not isinstance(raw, Mapping):
            self.fail(path, "must be a mapping")
            return {}
        for key in sorted(set(raw) - required - optional, key=str):
            self.fail(f"{path}.{key}", "unknown field")
        for key in sorted(required - set(raw)):
            self.fail(f"{path}.{key}", "missing")
        return dict(raw)

    def text(self, raw: Any, path: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            self.fail(path, "must be non-empty text")
            return ""
        return raw.strip()

    def number(self, raw: Any, path: str, *, at_most: Decimal | None = None) -> Decimal:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            self.fail(path, "must be a number written as text, e.g. \"0.6410\"")
            return Decimal(0)
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            self.fail(path, f"{raw!r} is not a number")
            return Decimal(0)
        if not value.is_finite() or value <= 0:
            self.fail(path, "must be a positive number")
        elif at_most is not None and value > at_most:
            self.fail(path, f"must be at most {at_most}")
        return value

    def integer(self, raw: Any, path: str, low: int, high: int) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
            self.fail(path, f"must be a whole number from {low} to {high}")
            return low
        return raw

    def value(self, raw: Any, path: str, *, fraction: bool = False, extra: frozenset[str] = frozenset(),
              dated: bool = True) -> Value:
        """``dated``: the value carries its source's ``year`` (grid factors carry a data year instead)."""
        data = self.mapping(raw, path, _VALUE_KEYS if dated else _VALUE_KEYS - {"year"}, extra)
        source = self.text(data.get("source"), f"{path}.source")
        if source and source not in self.sources:
            self.fail(f"{path}.source", f"{source!r} is not one of the registry's sources")
        confirmed = data.get("confirmed")
        if not isinstance(confirmed, bool):
            self.fail(f"{path}.confirmed", "must be true or false")
        year = data.get("year", 0)
        return Value(
            value=self.number(data.get("value"), f"{path}.value", at_most=Decimal(1) if fraction else None),
            unit=self.text(data.get("unit"), f"{path}.unit"), source=source,
            table=self.text(data.get("table"), f"{path}.table"),
            year=self.integer(year, f"{path}.year", 1990, 2100) if "year" in data else year,
            confirmed=bool(confirmed),
        )

    def fuel(self, kind: str, raw: Any) -> Fuel:
        path = f"fuels.{kind}"
        data = self.mapping(raw, path, {"name_zh", "name_en", "unit", "ncv", "carbon_content", "oxidation"})
        unit = self.text(data.get("unit"), f"{path}.unit")
        if unit and unit not in FUEL_UNITS:
            self.fail(f"{path}.unit", f"must be one of {sorted(FUEL_UNITS)}")
        ncv_raw = data.get("ncv") if isinstance(data.get("ncv"), Mapping) else {}
        per = self.integer(ncv_raw.get("per"), f"{path}.ncv.per", 1, 1_000_000) if ncv_raw else 1
        return Fuel(
            kind=kind, name_zh=self.text(data.get("name_zh"), f"{path}.name_zh"),
            name_en=self.text(data.get("name_en"), f"{path}.name_en"), unit=unit,
            ncv=self.value(data.get("ncv"), f"{path}.ncv", extra=frozenset({"per"})), ncv_per=per,
            carbon_content=self.value(data.get("carbon_content"), f"{path}.carbon_content"),
            oxidation=self.value(data.get("oxidation"), f"{path}.oxidation", fraction=True),
        )

    def grid(self, region: str, raw: Any) -> tuple[GridFactor, ...]:
        path = f"grid.{region}"
        data = self.mapping(raw, path, {"name_zh", "name_en", "factors"})
        self.text(data.get("name_zh"), f"{path}.name_zh")
        self.text(data.get("name_en"), f"{path}.name_en")
        rows = data.get("factors")
        if not isinstance(rows, list) or not rows:
            self.fail(f"{path}.factors", "must be a non-empty list")
            return ()
        found: dict[int, GridFactor] = {}
        for i, row in enumerate(rows):
            where = f"{path}.factors[{i}]"
            entry = self.mapping(row, where, {"data_year", "published"} | _VALUE_KEYS - {"year"})
            year = self.integer(entry.get("data_year"), f"{where}.data_year", 1990, 2100)
            published = entry.get("published")
            if not isinstance(published, date):
                self.fail(f"{where}.published", "must be a date, e.g. 2024-12-20")
                published = date.min
            elif published.year < year:
                self.fail(f"{where}.published", "a factor is published after its data year")
            factor = self.value({k: v for k, v in entry.items() if k not in ("data_year", "published")}, where,
                                dated=False)
            if year in found:
                self.fail(f"{where}.data_year", f"{year} is given twice for {region}")
            found[year] = GridFactor(region, year, published, factor)
        return tuple(found[y] for y in sorted(found))


def parse_registry(document: Any) -> Registry:
    """A validated registry from its document (a mapping), or RegistryError listing every problem."""
    reader = _Reader()
    data = reader.mapping(document, "(document)", {"version", "method", "sources", "fuels", "grid", "heat"})
    version = reader.text(data.get("version"), "version")
    method = reader.text(data.get("method"), "method")
    sources = data.get("sources")
    if not isinstance(sources, Mapping) or not sources:
        reader.fail("sources", "must be a non-empty mapping")
        sources = {}
    for key, entry in sources.items():
        entry = reader.mapping(entry, f"sources.{key}", {"zh", "en"})
        reader.text(entry.get("zh"), f"sources.{key}.zh")
        reader.text(entry.get("en"), f"sources.{key}.en")
    reader.sources = dict(sources)
    fuels_raw = data.get("fuels")
    if not isinstance(fuels_raw, Mapping) or not fuels_raw:
        reader.fail("fuels", "must be a non-empty mapping")
        fuels_raw = {}
    fuels = {str(kind): reader.fuel(str(kind), raw) for kind, raw in fuels_raw.items()}
    grid_raw = data.get("grid")
    if not isinstance(grid_raw, Mapping) or not grid_raw:
        reader.fail("grid", "must be a non-empty mapping")
        grid_raw = {}
    grid = {str(region): reader.grid(str(region), raw) for region, raw in grid_raw.items()}
    heat = reader.value(data.get("heat"), "heat")
    if reader.problems:
        raise RegistryError(reader.problems)
    return Registry(version=version, method=method, sources=reader.sources, fuels=fuels, grid=grid, heat=heat)


def load_registry(path: str | Path) -> Registry:
    """Read and validate a registry file; a file that is not YAML is refused like any other bad document."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError([("(document)", f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    return parse_registry(document)
