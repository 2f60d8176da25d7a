"""Structured changes to a rulebook's YAML text (a factor's new value, the version name) for the console's forms.

Each change edits only the lines it concerns, found through the YAML parser's own positions, so the rest of the
file, its comments included, is kept byte for byte; the result is parsed again and compared with the base, and a
change that cannot be placed that way is refused (the YAML editor remains for it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import yaml

from carbon_platform.errors import InvalidInput


class EditRefused(InvalidInput):
    """The structured form cannot make this change; ``code`` says why (the console words each)."""


@dataclass(frozen=True)
class FactorChange:
    factor_id: str
    value: Decimal
    source: str
    year: int
    published: date | None
    valid_from: date


def _node(source: str) -> yaml.MappingNode:
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        raise EditRefused("the base is not valid YAML", code="edit_unparsable") from None
    if not isinstance(node, yaml.MappingNode):
        raise EditRefused("the base is not a rulebook", code="edit_unparsable")
    return node


def _value(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    return next((v for k, v in mapping.value if k.value == key), None)


def _scalar(text: Any) -> str:
    """``text`` as a one-line YAML scalar: plain where YAML reads it back unchanged, quoted otherwise."""
    dumped = yaml.safe_dump(text, allow_unicode=True, width=1_000_000, default_flow_style=True)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def _replace_scalar(lines: list[str], node: yaml.Node, text: str) -> None:
    """Replace a one-line scalar in place (what follows it on its line, a comment say, stays)."""
    start, end = node.start_mark, node.end_mark
    if start.line != end.line:
        raise EditRefused("the value spans several lines", code="edit_unplaceable")
    line = lines[start.line]
    lines[start.line] = line[:start.column] + text + line[end.column:]


def with_version(source: str, version: str) -> str:
    """``source`` with its top-level ``version:`` set to ``version`` (nothing else changes)."""
    node = _value(_node(source), "version")
    if node is None:
        raise EditRefused("the rulebook has no version line", code="edit_unplaceable")
    lines = source.split("\n")
    _replace_scalar(lines, node, _scalar(str(version)) if not re.fullmatch(r"[0-9.]+", version) else f'"{version}"')
    return "\n".join(lines)


def next_version(latest: str | None, taken: set[str], year: int) -> str:
    """The version name to propose: the next ``YEAR.N`` after ``latest`` (``year``.1 in a new year), never one
    already ``taken``."""
    match = re.fullmatch(r"(\d{4})\.(\d+)", latest or "")
    if match and int(match.group(1)) >= year:
        stem, n = match.group(1), int(match.group(2)) + 1
    elif match or not latest:
        stem, n = str(year), 1
    else:
        stem, n = latest[:28], 1  # a name of another form: a numbered successor
        while f"{stem}.{n}" in taken:
            n += 1
        return f"{stem}.{n}"
    while f"{stem}.{n}" in taken:
        n += 1
    return f"{stem}.{n}"


def factor_versions(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every factor id → its latest version (the one a change follows), in the file's order."""
    latest: dict[str, dict[str, Any]] = {}
    for item in document.get("factors", []):
        current = latest.get(item["id"])
        if current is None or (item.get("valid_from") or "") >= (current.get("valid_from") or ""):
            latest[item["id"]] = item
    return latest


def with_factor(source: str, change: FactorChange) -> str:
    """``source`` with a new version of a factor from ``change.valid_from``: the latest version so far ends then
    (its ``valid_to``), and the new one follows its block, in the same layout. Only those lines change."""
    root = _node(source)
    factors = _value(root, "factors")
    if not isinstance(factors, yaml.SequenceNode):
        raise EditRefused("the rulebook has no factor list", code="edit_unplaceable")
    versions = [item for item in factors.value if isinstance(item, yaml.MappingNode)
                and getattr(_value(item, "id"), "value", None) == change.factor_id]
    if not versions:
        raise EditRefused(f"no factor {change.factor_id}", code="unknown_factor", factor=change.factor_id)

    def start(item):
        node = _value(item, "valid_from")
        return date.fromisoformat(node.value) if node is not None else date.min

    latest = max(versions, key=start)
    if latest.flow_style:
        raise EditRefused("the factor is written on one line", code="edit_unplaceable", factor=change.factor_id)
    if start(latest) >= change.valid_from:
        raise EditRefused("the new version must start after the current one", code="factor_starts_too_early",
                          factor=change.factor_id, after=start(latest).isoformat())
    lines = source.split("\n")
    key_column = latest.value[0][0].start_mark.column
    last = latest.value[-1][1].end_mark
    last_line = last.line if last.column > 0 else last.line - 1
    ends = _value(latest, "valid_to")
    if ends is not None:
        if date.fromisoformat(ends.value) < change.valid_from:  # a gap: no value in force in between
            raise EditRefused("the current version ends before the new one starts", code="factor_gap",
                              factor=change.factor_id, ends=ends.value)
        _replace_scalar(lines, ends, change.valid_from.isoformat())
        added = []
    else:
        added = [" " * key_column + f"valid_to: {change.valid_from.isoformat()}"]
    unit = _value(latest, "unit")
    dash = lines[latest.start_mark.line][:key_column]
    if dash.strip() != "-":
        raise EditRefused("the factor's block has an unexpected layout", code="edit_unplaceable",
                          factor=change.factor_id)
    value = format(change.value.normalize(), "f")
    block = [f"{dash}id: {change.factor_id}", f"value: {value}", f"unit: {_scalar(unit.value)}",
             f"source: {_scalar(change.source.strip())}", f"year: {change.year}"]
    if change.published is not None:
        block.append(f"published: {change.published.isoformat()}")
    block.append(f"valid_from: {change.valid_from.isoformat()}")
    block[1:] = [" " * key_column + line for line in block[1:]]
    lines[last_line + 1:last_line + 1] = added + block
    return "\n".join(lines)


def only_changed(before: dict[str, Any], after: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Refuse a structured edit whose parsed result differs from the base in anything but ``keys``."""
    if {k: v for k, v in before.items() if k not in keys} != {k: v for k, v in after.items() if k not in keys}:
        raise EditRefused("the edit changed more than it should", code="edit_unplaceable")


def caps(document: dict[str, Any]) -> list[tuple[str, int, dict[str, Any], dict[str, Any]]]:
    """Every scenario's caps: (scenario id, index in its caps, the cap, the scenario), in the file's order."""
    return [(scenario["id"], index, cap, scenario) for scenario in document.get("scenarios", [])
            for index, cap in enumerate(scenario.get("caps") or [])]


def with_cap_limit(source: str, scenario_id: str, index: int, limit: int) -> str:
    """``source`` with the ``limit`` of a scenario's cap set to ``limit``: only that number changes."""
    scenarios = _value(_node(source), "scenarios")
    scenario = next((item for item in getattr(scenarios, "value", []) if isinstance(item, yaml.MappingNode)
                     and getattr(_value(item, "id"), "value", None) == scenario_id), None)
    if scenario is None:
        raise EditRefused(f"no scenario {scenario_id}", code="unknown_cap", scenario=scenario_id)
    listed = _value(scenario, "caps")
    items = listed.value if isinstance(listed, yaml.SequenceNode) else []
    cap = items[index] if 0 <= index < len(items) and isinstance(items[index], yaml.MappingNode) else None
    node = _value(cap, "limit") if cap is not None else None
    if node is None:
        raise EditRefused(f"no cap {index} in {scenario_id}", code="unknown_cap", scenario=scenario_id)
    lines = source.split("\n")
    _replace_scalar(lines, node, str(int(limit)))
    return "\n".join(lines)


def _last_line(node: yaml.Node) -> int:
    """The 0-based line of the last character of ``node`` (a collection's end mark may lie past its comments)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        end = node.end_mark
        return end.line if end.column > 0 else end.line - 1
    children = [child for pair in node.value for child in pair] if isinstance(node, yaml.MappingNode) else node.value
    return max(_last_line(child) for child in children) if children else node.start_mark.line


def with_campaign(source: str, campaign: dict[str, Any]) -> str:
    """``source`` with ``campaign`` last in its campaigns, replacing the one with its id: that campaign's lines go,
    the new block follows the last campaign in the same indentation; every other line stays."""
    root = _node(source)
    listed = _value(root, "campaigns")
    lines = source.split("\n")
    block = yaml.safe_dump([campaign], allow_unicode=True, sort_keys=False, width=120).rstrip("\n").split("\n")
    if listed is None:
        while lines and lines[-1] == "":
            lines.pop()
        return "\n".join([*lines, "", "campaigns:", *("  " + line for line in block), ""])
    items = listed.value if isinstance(listed, yaml.SequenceNode) and not listed.flow_style else []
    if not items or not all(isinstance(item, yaml.MappingNode) and not item.flow_style for item in items):
        raise EditRefused("the campaigns are not laid out one block each", code="edit_unplaceable")
    key_column = items[0].value[0][0].start_mark.column
    dash = lines[items[0].start_mark.line][:key_column]
    if dash.strip() != "-":
        raise EditRefused("the campaigns have an unexpected layout", code="edit_unplaceable")
    indent = " " * (len(dash) - len(dash.lstrip()))
    lines[_last_line(items[-1]) + 1:_last_line(items[-1]) + 1] = [indent + line for line in block]
    old = next((item for item in items if getattr(_value(item, "id"), "value", None) == campaign["id"]), None)
    if old is not None:  # above the insertion, so deleting it moves nothing inserted
        del lines[old.start_mark.line:_last_line(old) + 1]
    return "\n".join(lines)


# -- a channel's trust rule (what a scenario's channel needs before a report is credited) -------------------------


def trust_rules(document: dict[str, Any]) -> list[tuple[str, str, Any, dict[str, Any]]]:
    """Every scenario's per-channel trust rule: (scenario id, channel, the rule as written, the scenario), in the
    file's order. Scenarios without ``trust`` (rulebooks before 2026.3) have none to edit here."""
    return [(scenario["id"], channel, rule, scenario) for scenario in document.get("scenarios", [])
            for channel, rule in (scenario.get("trust") or {}).items()]


def trust_text(rule: Any) -> str:
    """A trust rule as one line of YAML: ``as_reported`` or a flow mapping (evidence, review, below, in that order)."""
    if rule == "as_reported":
        return "as_reported"
    parts = []
    for key in ("evidence", "review"):
        if rule.get(key):
            parts.append(f"{key}: {_scalar(rule[key])}")
    if rule.get("below"):
        bounds = ", ".join(f"{name}: {format(Decimal(str(limit)).normalize(), 'f')}"
                           for name, limit in rule["below"].items())
        parts.append(f"below: {{{bounds}}}")
    return "{" + ", ".join(parts) + "}"


def with_trust(source: str, scenario_id: str, channel: str, rule: Any) -> str:
    """``source`` with the trust rule of one channel of a scenario replaced by ``rule`` (written on the channel's own
    line, ``trust_text``); the comments above the channel and every other line stay."""
    scenarios = _value(_node(source), "scenarios")
    scenario = next((item for item in getattr(scenarios, "value", []) if isinstance(item, yaml.MappingNode)
                     and getattr(_value(item, "id"), "value", None) == scenario_id), None)
    trust = _value(scenario, "trust") if scenario is not None else None
    pair = next(((k, v) for k, v in trust.value if k.value == channel), None) \
        if isinstance(trust, yaml.MappingNode) else None
    if pair is None:
        raise EditRefused(f"no trust rule for {channel} in {scenario_id}", code="unknown_trust_rule",
                          scenario=scenario_id, channel=channel)
    key, value = pair
    lines = source.split("\n")
    text = trust_text(rule)
    if key.start_mark.line != key.end_mark.line:
        raise EditRefused("the channel's name spans several lines", code="edit_unplaceable")
    if isinstance(value, yaml.ScalarNode) or value.flow_style:
        start, end = value.start_mark, value.end_mark  # one line, or a flow mapping over several
        lines[start.line:end.line + 1] = [lines[start.line][:start.column] + text + lines[end.line][end.column:]]
    else:  # a block mapping under the channel: the channel's line takes the rule, the block's lines go
        line = lines[key.start_mark.line]
        lines[key.start_mark.line:_last_line(value) + 1] = [line[:key.end_mark.column] + ": " + text]
    return "\n".join(lines)
