"""One physical fact, one credit, across channels (issue #17 item 9): when an app report and a partner's record (or
a merchant check-in) tell of the same ride, deposit or planting.

A fact id (``fact_id``) joins two records of one channel; it cannot join a resident's report to the card
operator's record of the same ride, since the resident never sees the operator's id. A scenario's ``same_fact`` is
the natural key across channels instead: the same account, the same scenario, times within a window and, where
the scenario names one, a quantity that agrees::

    same_fact:
      window_minutes: 90                          # the resident's stated time and the card's tap-in
      quantity: {input: distance_km, within: 0.5} # |a − b| ≤ 0.5 × the larger; a missing or zero value agrees

The record of the channel that **attests** the fact (any channel but ``app``: the operator's data, the station's
scale, the merchant's check-in) is the one that stands:

- an attested record arriving after a matching app report replaces it: the report is reversed (its points and
  grams taken back) and the record credited in full as the rules judge it, so one credit remains, the partner's;
- an app report arriving after a matching attested record is a duplicate of it, and nothing is written.

Between two app reports, or two attested records, nothing is matched here: those are different facts unless their
fact ids say otherwise. Where several records match, the closest in time are paired first (then the earliest), and
each record replaces at most one other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

APP = "app"
#: The widest window a rulebook may give: a day either side (a planting day reported the next morning).
MAX_WINDOW_MINUTES = 24 * 60


def attests(channel: str) -> bool:
    """Whether ``channel``'s records stand over an app report of the same fact."""
    return channel != APP


@dataclass(frozen=True)
class Sighting:
    """One record of a fact, as matching sees it."""

    channel: str
    time: datetime
    inputs: Mapping[str, Any]


@dataclass(frozen=True)
class SameFact:
    """A scenario's natural key across channels."""

    window: timedelta
    quantity: str | None = None  # an input of the scenario
    within: Decimal = Decimal(0)  # the relative difference allowed between the two quantities

    def matches(self, a: Sighting, b: Sighting) -> bool:
        """Whether ``a`` and ``b`` are the same fact: one attested and one app report, times within the window,
        and quantities that agree."""
        if attests(a.channel) == attests(b.channel):
            return False
        if abs(a.time - b.time) > self.window:
            return False
        if self.quantity is None:
            return True
        x, y = _amount(a.inputs.get(self.quantity)), _amount(b.inputs.get(self.quantity))
        if not x or not y:  # a ride reported without its distance is still that ride
            return True
        return abs(x - y) <= self.within * max(x, y)


def _amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number > 0 else None


# -- loading ---------------------------------------------------------------------------------------------


def build(path: str, raw: Mapping[str, Any] | None, scenario: Mapping[str, Any], error) -> SameFact | None:
    """The scenario's rule (None when it declares none), reporting every problem through
    ``error(path, code, **params)``. The schema has checked the shapes; this checks them against the scenario."""
    if raw is None:
        return None
    where = f"{path}.same_fact"
    channels = set(scenario["channels"])
    if APP not in channels or not any(attests(c) for c in channels):
        error(where, "same_fact_channels", channels=sorted(channels))
    quantity = raw.get("quantity")
    name = None
    within = Decimal(0)
    if quantity is not None:
        name, within = quantity["input"], quantity["within"]
        if name not in {i["name"] for i in scenario["inputs"]}:
            error(f"{where}.quantity.input", "same_fact_unknown_input", name=name)
    return SameFact(timedelta(minutes=raw["window_minutes"]), name, within)
