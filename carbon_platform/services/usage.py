"""Usage for awarding: what the ledger has already counted, read for exactly the periods a batch needs.

The figures seed a ``points_rules.UsageBook`` through its public ``needs`` and ``seed``; awarding then
keeps the book in memory while it evaluates the batch in order (``services.earning.award_many``).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from carbon_platform.db import city_date
from carbon_platform.extensions import db
from carbon_platform.models import COUNTED, Action, CampaignAward, CampaignBudget
from points_rules import Action as UsageAction
from points_rules import Need, Period, Tally, Totals, UsageBook, period_bounds


@dataclass(frozen=True)
class _Read:
    """One part of the usage statement: the query ``name``, its parameters, and the figure each of its
    rows seeds (``need`` without its owner, and without its day for the queries by day)."""

    name: str
    parameters: dict[str, Any]
    need: Need


def seed(book: UsageBook, actions: list[UsageAction], budgets: dict[str, CampaignBudget]) -> None:
    """Fill the book with what the ledger has counted for exactly the figures these actions will read,
    in one statement: a grouped query per kind of figure and period, whatever the number of accounts,
    joined by UNION ALL. Daily caps are read for all the batch's days at once (a feed often sends a few
    days of rides)."""
    for campaign_id, row in budgets.items():
        book.seed_budget(campaign_id, row.spent)
    owners: dict[Need, set] = defaultdict(set)  # a figure for everyone (owner None) -> whose is wanted
    moments: dict[Need, datetime] = {}  # … -> a moment in its period
    for action in actions:
        for need in book.needs(action):
            group = replace(need, owner=None)
            owners[group].add(need.owner)
            moments[group] = action.facts.time
    days: dict[Need, list] = {}  # a daily figure for everyone on no day -> [owners, first day's start, last day's end]
    for group in [g for g in owners if g.tally in (Tally.ACCOUNT, Tally.HOUSEHOLD, Tally.CHANNEL)
                  and g.per is Period.DAY]:
        start, end = period_bounds(moments[group], Period.DAY)
        span = days.setdefault(replace(group, period_key=None), [set(), start, end])
        span[0] |= owners.pop(group)
        span[1], span[2] = min(span[1], start), max(span[2], end)
    reads = [_Read(f"{need.tally}_days", {"owners": sorted(who), "subject": need.subject, "start": start,
                                          "end": end, **({"channel": need.channel} if need.channel else {})}, need)
             for need, (who, start, end) in days.items()]
    for need, who in owners.items():
        start, end = period_bounds(moments[need], need.per)
        reads.append(_Read(str(need.tally), {"owners": sorted(who), "subject": need.subject, "start": start,
                                             "end": end or _END_OF_TIME}, need))
    if not reads:
        return
    query = _union(tuple(read.name for read in reads))
    parameters = {f"{key}_{i}": value for i, read in enumerate(reads) for key, value in read.parameters.items()}
    for part, owner, day, count, grams, points in db.session.execute(query, parameters):
        need = reads[part].need
        book.seed(Need(tally=need.tally, owner=owner, subject=need.subject, per=need.per,
                       period_key=day if need.period_key is None and need.per is Period.DAY else need.period_key,
                       channel=need.channel),
                  Totals(count=int(count), grams=int(grams), points=int(points)))


def _part(name: str, i: int) -> sa.Select:
    """Usage query ``name`` with its parameters numbered ``i``, as rows of (i, owner, day or NULL, count,
    grams, points): one shape for every kind, so that several can be one UNION ALL."""
    owners, subject = sa.bindparam(f"owners_{i}", expanding=True), sa.bindparam(f"subject_{i}")
    start, end = sa.bindparam(f"start_{i}"), sa.bindparam(f"end_{i}")
    actions, awards = Action.__table__.c, CampaignAward.__table__.c
    part, no_day, zero = sa.literal_column(str(i)), sa.cast(sa.null(), sa.String), sa.literal_column("0")
    counted = (actions.status.in_(COUNTED), actions.occurred_at >= start, actions.occurred_at < end)
    if name == "year_points":
        return (sa.select(part, actions.account_id, no_day, zero, zero, sa.func.sum(actions.points))
                .where(actions.account_id.in_(owners), *counted).group_by(actions.account_id))
    if name in ("participant", "streaks"):
        period = (awards.occurred_at >= start, awards.occurred_at < end) if name == "streaks" else ()
        return (sa.select(part, awards.account_id, no_day, sa.func.count(), zero, sa.func.sum(awards.points))
                .where(awards.campaign_id == subject, awards.account_id.in_(owners), *period)
                .group_by(awards.account_id))
    book, _, by_day = name.partition("_")
    owner = actions.account_id if book in ("account", "channel") else actions.household_account_id
    # A trust bound's count is one channel's reports (points_rules.trust): the app's, not the card feed's.
    channel = (actions.channel == sa.bindparam(f"channel_{i}"),) if book == "channel" else ()
    day = city_date(actions.occurred_at)  # the same text as period_key(…, Period.DAY)
    return (sa.select(part, owner, day if by_day else no_day, sa.func.count(), sa.func.sum(actions.grams),
                      sa.func.sum(actions.base_points))
            .where(owner.in_(owners), actions.scenario == subject, *channel, *counted)
            .group_by(owner, *((day,) if by_day else ())))


@functools.cache
def _union(names: tuple[str, ...]) -> sa.Select | sa.CompoundSelect:
    """The one statement for these usage queries in this order, built once per process."""
    parts = [_part(name, i) for i, name in enumerate(names)]
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)  # the end of the period "ever"
