"""What each channel of a scenario trusts (issue #17 item 8): partner data as it comes, reports with evidence, or
reports only within plausibility bounds.

A scenario's ``trust`` names every one of its channels::

    trust:
      "partner:transit": as_reported                      # credited as the rules compute
      app: {below: {count_per_day: 2, distance_km: 15}}   # within the bounds on the report alone; beyond: review
      app: {evidence: photo}                              # every report carries a photo, else it is refused
      app: {evidence: photo_and_certificate, review: always}   # … and a reviewer checks every one

- ``evidence`` (app only: photos come through ``/api/v1/evidence``): a report without that many photos is
  **refused** (``evidence_missing``). Not held: the platform has no way to add a photo to a report afterwards, so a
  reviewer would have nothing to decide on; the client says what is needed before the resident submits, and the API
  refuses such a report with a 422 before anything is written.
- ``below``: ``count_per_day`` (this channel's reports of the scenario by the account on the action's Beijing day,
  this one included, counted like caps: credited or in review) and any of the scenario's inputs (at most this value
  per report). All bounds are inclusive. A report beyond any of them is **held for review** (``over_bound``), never
  credited without a reviewer; whatever photo it carries is shown to the reviewer.
- ``review: always``: every report is held for a reviewer (``review_required``).

Scenarios of rulebooks published before ``trust`` existed (2026.1, 2026.2) keep their scenario-wide ``evidence`` and
``review`` keys; ``Scenario.trust_for`` gives those as a ``Trust`` marked ``declared=False``, which judges exactly as
before (the engine never refused for missing photos then: the API did) and adds nothing to the receipt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

#: How many photos each evidence requirement asks for.
PHOTOS_NEEDED = {"none": 0, "photo": 1, "photo_and_certificate": 2}
COUNT_PER_DAY = "count_per_day"
AS_REPORTED = "as_reported"
APP = "app"


@dataclass(frozen=True)
class Trust:
    """One channel's trust rule."""

    channel: str
    evidence: str = "none"  # none | photo | photo_and_certificate
    review_always: bool = False
    count_per_day: int | None = None
    input_bounds: tuple[tuple[str, Decimal], ...] = ()  # (input name, the most a report may say), rulebook order
    declared: bool = True  # False: derived from a pre-2026.3 scenario's evidence/review keys

    @property
    def photos(self) -> int:
        return PHOTOS_NEEDED[self.evidence]

    @property
    def bounded(self) -> bool:
        return self.count_per_day is not None or bool(self.input_bounds)

    @property
    def as_reported(self) -> bool:
        return self.evidence == "none" and not self.review_always and not self.bounded

    @property
    def review(self) -> str:
        """When a report waits for a reviewer: never, beyond_bounds or always."""
        return "always" if self.review_always else "beyond_bounds" if self.bounded else "never"


@dataclass(frozen=True)
class Bound:
    """One bound as a report met it: ``value`` against ``limit``."""

    name: str  # count_per_day or an input name
    limit: Decimal | int
    value: Decimal | int

    @property
    def over(self) -> bool:
        return self.value > self.limit

    def as_dict(self) -> dict[str, Any]:
        return {"bound": self.name, "limit": _text(self.limit), "value": _text(self.value), "over": self.over}


@dataclass(frozen=True)
class Check:
    """How one report met its channel's trust rule: the photos it carried and each bound."""

    trust: Trust
    photos: int
    bounds: tuple[Bound, ...]

    @property
    def over(self) -> tuple[Bound, ...]:
        return tuple(b for b in self.bounds if b.over)

    def detail(self) -> str:
        """For operators, and parsed back by ``points_rules.reasons``: ``name=value>limit`` per bound exceeded."""
        return "; ".join(f"{b.name}={_text(b.value)}>{_text(b.limit)}" for b in self.over)

    def as_dict(self, outcome: str) -> dict[str, Any]:
        return {"channel": self.trust.channel, "evidence": self.trust.evidence, "photos_needed": self.trust.photos,
                "photos": self.photos, "review": self.trust.review,
                "bounds": [b.as_dict() for b in self.bounds], "outcome": outcome}


def _text(value) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def check(trust: Trust, photos: int, values: Mapping[str, Decimal], count_today: int) -> Check:
    """The bounds of ``trust`` for a report with these input ``values``, ``count_today`` reports of its channel
    already counted on its Beijing day, and ``photos`` photos (missing evidence is the engine's refusal)."""
    bounds = []
    if trust.count_per_day is not None:
        bounds.append(Bound(COUNT_PER_DAY, trust.count_per_day, count_today + 1))
    bounds.extend(Bound(name, limit, values[name]) for name, limit in trust.input_bounds)
    return Check(trust, photos, tuple(bounds))


def parse_detail(detail: str | None) -> list[tuple[str, str, str]]:
    """``Check.detail`` back as (name, value, limit) triples; nothing for any other text."""
    found = []
    for part in (detail or "").split("; "):
        name, equals, rest = part.partition("=")
        value, greater, limit = rest.partition(">")
        if equals and greater and name and value and limit:
            found.append((name, value, limit))
    return found


# -- loading ---------------------------------------------------------------------------------------------


def build(path: str, raw: Mapping[str, Any] | None, scenario: Mapping[str, Any], inputs: Mapping[str, Any],
          error) -> Mapping[str, Trust]:
    """The scenario's declared rules by channel (empty when it declares none), reporting every problem through
    ``error(path, code, **params)`` (a code of ``points_rules.problems``). The schema has checked the shapes; this
    checks them against the scenario."""
    if raw is None:
        return {}
    where = f"{path}.trust"
    channels = set(scenario["channels"])
    for key in ("evidence", "review"):
        if scenario.get(key) is not None:
            error(f"{path}.{key}", "trust_scenario_wide", key=key)
    for channel in sorted(channels - set(raw)):
        error(where, "trust_channel_missing", channel=channel)
    rules = {}
    for channel, rule in raw.items():
        at = f'{where}."{channel}"'
        if channel not in channels:
            error(at, "trust_unknown_channel", channel=channel, channels=sorted(channels))
            continue
        if rule == AS_REPORTED:
            rules[channel] = Trust(channel)
            continue
        below = rule.get("below") or {}
        evidence = rule.get("evidence") or "none"
        review_always = rule.get("review") == "always"
        if evidence != "none" and channel != APP:
            error(f"{at}.evidence", "trust_evidence_not_app")
        if review_always and below:
            error(f"{at}.below", "trust_review_and_bounds")
        if not below and evidence == "none" and not review_always:
            error(at, "trust_says_nothing")
        bounds = []
        for name, limit in below.items():
            if name == COUNT_PER_DAY:
                continue
            spec = inputs.get(name)
            if spec is None:
                if inputs:
                    error(f"{at}.below.{name}", "trust_unknown_input", name=name, inputs=list(inputs))
                else:
                    error(f"{at}.below.{name}", "trust_unknown_input_none", name=name)
            elif spec["max"] is not None and limit >= spec["max"]:
                error(f"{at}.below.{name}", "trust_bound_not_lower", name=name, maximum=spec["max"])
            else:
                bounds.append((name, limit))
        count = below.get(COUNT_PER_DAY)
        rules[channel] = Trust(channel, evidence, review_always, count, tuple(sorted(
            bounds, key=lambda b: list(inputs).index(b[0]))))
    return rules


def legacy(channel: str, evidence: str, review: bool) -> Trust:
    """A scenario without ``trust``: its scenario-wide keys, as 2026.1 and 2026.2 meant them (photos from the app
    only; review for every channel)."""
    return Trust(channel, evidence if channel == APP else "none", review, declared=False)
