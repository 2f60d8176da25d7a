"""Usage bookkeeping: what each account, household and campaign has earned so far, period by period.

A ``UsageBook`` answers ``usage(action)`` (the ``Usage`` that ``evaluate`` needs) and is told of each
outcome with ``record(action, result)``, so that actions evaluated one after another see each other: the
tenth ride of a day sees the nine before it. The simulator starts a book empty. The core
(``carbon_platform.services.usage``) asks the book which figures a batch will read (``needs``), reads
exactly those from the ledger, hands them over with ``seed`` and ``seed_budget``, then awards the batch
in memory, as the simulator does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from points_rules.engine import Result, Status
from points_rules.facts import ZERO, CampaignUsage, Facts, Totals, Usage
from points_rules.periods import Period, period_key
from points_rules.rulebook import Campaign, Rulebook

_PERIODS = tuple(Period)


@dataclass(frozen=True)
class Action:
    """An action and whose it is: the account (and household, if any) whose usage it reads and adds to."""

    account: Hashable
    facts: Facts
    household: Hashable | None = None


@dataclass(frozen=True)
class CampaignStops:
    """Campaigns an administrator paused (they pay nothing) or ended (nothing that happened from then on)."""

    paused: frozenset[str] = frozenset()
    ended: tuple[tuple[str, datetime], ...] = ()  # (campaign id, when it ended)

    def at(self, moment: datetime) -> frozenset[str]:
        if not self.ended:
            return self.paused
        return self.paused | {campaign for campaign, ended_at in self.ended if ended_at <= moment}


class Tally(StrEnum):
    """The kinds of figure a book keeps."""

    ACCOUNT = "account"  # an account's count, grams and base points in one scenario and period
    HOUSEHOLD = "household"  # the same for a household
    YEAR = "year_points"  # an account's points, all scenarios, in a Beijing year
    PARTICIPANT = "participant"  # an account's qualifying actions and points from one campaign, ever
    STREAK = "streaks"  # an account's qualifying actions for one campaign in a day, week or month
    CHANNEL = "channel"  # an account's reports of one scenario on one channel in a Beijing day (trust bounds)


@dataclass(frozen=True)
class Need:
    """One figure ``usage(action)`` reads: a ``tally`` of an ``owner`` (account or household) about a
    ``subject`` (a scenario for ACCOUNT and HOUSEHOLD, a campaign for PARTICIPANT and STREAK, None for
    YEAR) in the Beijing period ``per`` whose ``period_key`` is given (None for "ever")."""

    tally: Tally
    owner: Hashable
    subject: str | None
    per: Period
    period_key: str | None
    channel: str | None = None  # CHANNEL only: the channel counted


class UsageBook:
    """What each account, household and campaign has earned so far, period by period.

    The figures live in dictionaries keyed by plain tuples, private to the book: ``seed`` and ``record``
    put figures in, ``usage`` takes them out.
    """

    def __init__(self, rulebook: Rulebook, stops: CampaignStops = CampaignStops()):
        self.rulebook = rulebook
        self.stops = stops  # campaigns an administrator paused or ended pay and count nothing
        self._account: dict[tuple, Totals] = {}  # (account, scenario, period key)
        self._household: dict[tuple, Totals] = {}  # (household, scenario, period key)
        self._year_points: dict[tuple, int] = defaultdict(int)  # (account, year key)
        self._campaign_spent: dict[str, int] = defaultdict(int)  # campaign id
        self._participant_points: dict[tuple, int] = defaultdict(int)  # (campaign id, account)
        self._participant_actions: dict[tuple, int] = defaultdict(int)  # (campaign id, account)
        self._streaks: dict[tuple, int] = defaultdict(int)  # (campaign id, account, per, period key)
        self._targeted: dict[int, tuple[Action, list[Campaign]]] = {}
        self._channel_day: dict[tuple, Totals] = {}  # (account, scenario, channel, day key)

    # -- what an action reads --------------------------------------------------------------------

    def targeted(self, action: Action) -> list[Campaign]:
        """The running campaigns that count this action (whether or not they pay it anything)."""
        # Asked several times per action (needs, usage, record, the caller's budgets): kept for the
        # last few thousand actions. The entry holds the action, so its id cannot be reused meanwhile.
        found = self._targeted.get(id(action))
        if found is not None and found[0] is action:
            return found[1]
        facts = action.facts
        stopped = self.stops.at(facts.time)
        campaigns = [c for c in self.rulebook.campaigns_for.get(facts.scenario, ())
                     if c.id not in stopped and c.targets(facts.scenario, facts.district, facts.account_type,
                                                          facts.time)]
        if len(self._targeted) >= 4096:
            self._targeted.clear()
        self._targeted[id(action)] = (action, campaigns)
        return campaigns

    def _capped(self, action: Action) -> set[tuple[str, Period]]:
        """(scenario, period) pairs the action's caps and exclusions read."""
        scenario = self.rulebook.scenarios[action.facts.scenario]
        wanted = {(scenario.id, cap.per) for cap in scenario.caps}
        return wanted | {(other, Period.MONTH) for other in scenario.excludes}

    def needs(self, action: Action) -> Iterator[Need]:
        """Every figure ``usage(action)`` reads, apart from the budgets of the campaigns ``targeted`` names
        (``seed_budget``)."""
        facts = action.facts
        if facts.scenario not in self.rulebook.scenarios:
            return
        for scenario, per in self._capped(action):
            key = period_key(facts.time, per)
            yield Need(Tally.ACCOUNT, action.account, scenario, per, key)
            if action.household is not None:
                yield Need(Tally.HOUSEHOLD, action.household, scenario, per, key)
        yield Need(Tally.YEAR, action.account, None, Period.YEAR, period_key(facts.time, Period.YEAR))
        if _counts_channel(self.rulebook, facts):
            yield Need(Tally.CHANNEL, action.account, facts.scenario, Period.DAY, period_key(facts.time, Period.DAY),
                       facts.channel)
        for campaign in self.targeted(action):
            yield Need(Tally.PARTICIPANT, action.account, campaign.id, Period.EVER, None)
            for effect in campaign.effects:
                if effect.per:
                    yield Need(Tally.STREAK, action.account, campaign.id, effect.per,
                               period_key(facts.time, effect.per))

    # -- figures in -------------------------------------------------------------------------------

    def seed(self, need: Need, totals: Totals) -> None:
        """Start the figure ``need`` names at ``totals`` (what the ledger has already counted). YEAR keeps
        the points, PARTICIPANT the count and points, STREAK the count."""
        if need.tally is Tally.ACCOUNT:
            self._account[(need.owner, need.subject, need.period_key)] = totals
        elif need.tally is Tally.HOUSEHOLD:
            self._household[(need.owner, need.subject, need.period_key)] = totals
        elif need.tally is Tally.YEAR:
            self._year_points[(need.owner, need.period_key)] = totals.points
        elif need.tally is Tally.CHANNEL:
            self._channel_day[(need.owner, need.subject, need.channel, need.period_key)] = totals
        elif need.tally is Tally.PARTICIPANT:
            self._participant_actions[(need.subject, need.owner)] = totals.count
            self._participant_points[(need.subject, need.owner)] = totals.points
        else:
            self._streaks[(need.subject, need.owner, need.per, need.period_key)] = totals.count

    def seed_budget(self, campaign_id: str, spent: int) -> None:
        """Start a campaign's spending, to everyone, at ``spent`` points."""
        self._campaign_spent[campaign_id] = spent

    def record(self, action: Action, result: Result) -> None:
        """Count an evaluated action: a rejected one counts nothing; one held for review counts as if
        credited (the conservative choice for caps and budgets)."""
        if result.status is Status.REJECTED:
            return
        facts = action.facts
        keys = {period: period_key(facts.time, period) for period in _PERIODS}
        for key in keys.values():
            _add(self._account, (action.account, facts.scenario, key), result)
            if action.household is not None:
                _add(self._household, (action.household, facts.scenario, key), result)
        self._year_points[(action.account, keys[Period.YEAR])] += result.points
        if _counts_channel(self.rulebook, facts):
            _add(self._channel_day, (action.account, facts.scenario, facts.channel, keys[Period.DAY]), result)
        if result.grams or result.base_points:
            for campaign in self.targeted(action):
                paid = result.campaign_points.get(campaign.id, 0)
                self._campaign_spent[campaign.id] += paid
                self._participant_points[(campaign.id, action.account)] += paid
                self._participant_actions[(campaign.id, action.account)] += 1
                for effect in campaign.effects:
                    if effect.per:
                        self._streaks[(campaign.id, action.account, effect.per, keys[effect.per])] += 1

    # -- figures out ------------------------------------------------------------------------------

    def usage(self, action: Action) -> Usage:
        """What ``evaluate`` needs to judge the action after everything seeded and recorded so far."""
        facts = action.facts
        if facts.scenario not in self.rulebook.scenarios:
            return Usage()
        keys = {period: period_key(facts.time, period) for period in _PERIODS}
        capped = self._capped(action)
        account = {(scenario, per): found for scenario, per in capped
                   if (found := self._account.get((action.account, scenario, keys[per]))) is not None}
        household = {}
        if action.household is not None:
            household = {(scenario, per): found for scenario, per in capped
                         if (found := self._household.get((action.household, scenario, keys[per]))) is not None}
        campaigns = {
            c.id: CampaignUsage(
                spent=self._campaign_spent[c.id],
                participant_points=self._participant_points[(c.id, action.account)],
                participant_actions=self._participant_actions[(c.id, action.account)],
                streak_actions={e.per: self._streaks[(c.id, action.account, e.per, keys[e.per])]
                                for e in c.effects if e.per},
            )
            for c in self.targeted(action)
        }
        channel_day = {}
        if _counts_channel(self.rulebook, facts):
            found = self._channel_day.get((action.account, facts.scenario, facts.channel, keys[Period.DAY]))
            if found is not None:
                channel_day[(facts.scenario, facts.channel)] = found
        return Usage(account=account, household=household,
                     account_year_points=self._year_points[(action.account, keys[Period.YEAR])],
                     campaigns=campaigns, stopped=self.stops.at(facts.time), channel_day=channel_day)


def _counts_channel(rulebook: Rulebook, facts: Facts) -> bool:
    """The action's channel has a declared count_per_day bound (only then is its day's count kept)."""
    scenario = rulebook.scenarios.get(facts.scenario)
    trust = scenario.trust.get(facts.channel) if scenario is not None else None
    return trust is not None and trust.count_per_day is not None


def _add(book: dict[tuple, Totals], key: tuple, result: Result) -> None:
    old = book.get(key, ZERO)
    book[key] = Totals(count=old.count + 1, grams=old.grams + result.grams,
                       points=old.points + result.base_points)

