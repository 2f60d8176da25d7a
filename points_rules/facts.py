"""What ``evaluate`` is given: the facts of one green action, and the usage it is judged against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from points_rules.periods import Period


@dataclass(frozen=True)
class Facts:
    scenario: str
    inputs: Mapping[str, Any]
    account_type: str
    time: datetime  # when the action happened (aware)
    channel: str = "app"
    district: str | None = None
    in_household: bool = False
    received_at: datetime | None = None  # when the platform learned of it (default: time)
    # What the action is about, the same whichever channel reports it (a card and tap time, an
    # inverter and month): the core credits one natural key once, across all channels.
    fact_id: str | None = None
    # -- trust per channel (points_rules/trust.py) --
    photos: int = 0  # evidence photos the report carries (app self-reports)


@dataclass(frozen=True)
class Totals:
    count: int = 0
    grams: int = 0
    points: int = 0


ZERO = Totals()


@dataclass(frozen=True)
class CampaignUsage:
    spent: int = 0  # points the campaign has paid so far, to everyone
    participant_points: int = 0  # points this account has had from it
    participant_actions: int = 0  # this account's qualifying actions so far (0: a first-time bonus is due)
    streak_actions: Mapping[Period, int] = field(default_factory=dict)  # … in the current day/week/month


@dataclass(frozen=True)
class Usage:
    """What the account (and its household) already earned in the periods containing the action."""

    account: Mapping[tuple[str, Period], Totals] = field(default_factory=dict)
    household: Mapping[tuple[str, Period], Totals] = field(default_factory=dict)
    account_year_points: int = 0  # all scenarios, this Beijing year
    campaigns: Mapping[str, CampaignUsage] = field(default_factory=dict)
    stopped: frozenset[str] = frozenset()  # campaigns an administrator paused or ended: they pay nothing
    # -- trust per channel (points_rules/trust.py) --
    #: (scenario, channel) → this account's reports counted on the action's Beijing day, for a count_per_day bound.
    channel_day: Mapping[tuple[str, str], Totals] = field(default_factory=dict)


NO_USAGE = Usage()
