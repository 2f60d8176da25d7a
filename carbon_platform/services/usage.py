"""Usage for awarding: what the ledger has already counted, read for exactly the periods a batch needs.

The figures seed a ``points_rules.simulate.UsageBook``; awarding then keeps it in memory while it
evaluates the batch in order (``services.earning.award_many``).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa

from carbon_platform.db import city_date
from carbon_platform.extensions import db
from carbon_platform.models import COUNTED, Action, CampaignAward, CampaignBudget
from points_rules import Period, Totals, period_bounds
from points_rules.simulate import Action as UsageAction
from points_rules.simulate import UsageBook


def seed(book: UsageBook, actions: list[UsageAction], budgets: dict[str, CampaignBudget]) -> None:
    """Fill the book with what the ledger has counted for exactly the entries these actions will read,
    in one statement: a grouped query per kind of entry and period, whatever the number of accounts,
    joined by UNION ALL. Daily caps are read for all the batch's days at once (a feed often sends a few
    days of rides)."""
    wanted: dict[tuple, set] = defaultdict(set)  # (book, scenario or campaign, period, period key) -> owners
    moments: dict[tuple, datetime] = {}
    for action in actions:
        for name, key, per in book.reads(action):
            if name == "campaign_spent":
                continue
            group = _group(name, key, per)
            wanted[group].add(key)
            moments[group] = action.facts.time
    for campaign_id, row in budgets.items():
        book.campaign_spent[campaign_id] = row.spent
    reads: list[tuple[str, dict, tuple]] = []  # (query, its parameters, what its rows fill)
    days: dict[tuple[str, str], list] = {}  # (book, scenario) -> [owners, first day's start, last day's end]
    for group in [g for g in wanted if g[0] in ("account", "household") and g[2] is Period.DAY]:
        start, end = period_bounds(moments[group], Period.DAY)
        span = days.setdefault(group[:2], [set(), start, end])
        span[0] |= {key[0] for key in wanted.pop(group)}
        span[1], span[2] = min(span[1], start), max(span[2], end)
    for (name, subject), (owners, start, end) in days.items():
        reads.append((f"{name}_days", {"owners": sorted(owners), "subject": subject, "start": start, "end": end},
                      (name, subject, None, None)))
    for group, keys in wanted.items():
        name, subject, per, period = group
        start, end = period_bounds(moments[group], per)
        owners = sorted({key[1] if name in ("participant", "streaks") else key[0] for key in keys})
        reads.append((name, {"owners": owners, "subject": subject, "start": start, "end": end or _END_OF_TIME},
                      group))
    if not reads:
        return
    query = _union(tuple(name for name, _params, _group in reads))
    parameters = {f"{key}_{i}": value for i, (_name, params, _group) in enumerate(reads)
                  for key, value in params.items()}
    for part, owner, day, count, grams, points in db.session.connection().execute(query, parameters):
        _fill(book, reads[part][2], owner, day, int(count), int(grams), int(points))


def _fill(book: UsageBook, group: tuple, owner: int, day: str | None, count: int, grams: int, points: int) -> None:
    """Put one row of usage where the book keeps it."""
    name, subject, per, period = group
    if name in ("account", "household"):
        target = book.account if name == "account" else book.household
        target[(owner, subject, day if per is None else period)] = Totals(count, grams, points)
    elif name == "year_points":
        book.year_points[(owner, period)] = points
    elif name == "participant":
        book.participant_actions[(subject, owner)] = count
        book.participant_points[(subject, owner)] = points
    else:
        book.streaks[(subject, owner, per, period)] = count


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
    owner = actions.account_id if book == "account" else actions.household_account_id
    day = city_date(actions.occurred_at)  # the same text as period_key(…, Period.DAY)
    return (sa.select(part, owner, day if by_day else no_day, sa.func.count(), sa.func.sum(actions.grams),
                      sa.func.sum(actions.base_points))
            .where(owner.in_(owners), actions.scenario == subject, *counted)
            .group_by(owner, *((day,) if by_day else ())))


@functools.cache
def _union(names: tuple[str, ...]) -> sa.Select | sa.CompoundSelect:
    """The one statement for these usage queries in this order, built once per process."""
    parts = [_part(name, i) for i, name in enumerate(names)]
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)  # the end of the period "ever"


def _group(name: str, key: tuple, per: Period) -> tuple:
    """The query that answers an entry: its book, scenario or campaign, period and period key."""
    if name in ("account", "household"):
        return name, key[1], per, key[2]
    if name == "year_points":
        return name, None, per, key[1]
    if name == "participant":
        return name, key[0], per, None
    return name, key[0], per, key[3]  # streaks
