"""Usage for awarding: what the ledger has already counted, read for exactly the periods a batch needs.

The figures seed a ``points_rules.simulate.UsageBook``; awarding then keeps it in memory while it
evaluates the batch in order (``services.earning.award_many``).
"""

from __future__ import annotations

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
    """Fill the book with what the ledger has counted for exactly the entries these actions will read:
    one grouped query per kind of entry and period, whatever the number of accounts. Daily caps are
    read for all the batch's days at once (a feed often sends a few days of rides)."""
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
    days: dict[tuple[str, str], list] = {}  # (book, scenario) -> [owners, first day's start, last day's end]
    for group in [g for g in wanted if g[0] in ("account", "household") and g[2] is Period.DAY]:
        start, end = period_bounds(moments[group], Period.DAY)
        span = days.setdefault(group[:2], [set(), start, end])
        span[0] |= {key[0] for key in wanted.pop(group)}
        span[1], span[2] = min(span[1], start), max(span[2], end)
    for (name, subject), (owners, start, end) in days.items():
        target = book.account if name == "account" else book.household
        for owner, day, count, grams, points in db.session.execute(
                _USAGE[f"{name}_days"], {"owners": sorted(owners), "subject": subject, "start": start, "end": end}):
            target[(owner, subject, day)] = Totals(int(count), int(grams), int(points))
    for group, keys in wanted.items():
        name, subject, per, period = group
        start, end = period_bounds(moments[group], per)
        params = {"subject": subject, "start": start, "end": end or _END_OF_TIME}
        if name in ("account", "household"):
            params["owners"] = sorted({key[0] for key in keys})
            target = book.account if name == "account" else book.household
            for owner, count, grams, points in db.session.execute(_USAGE[name], params):
                target[(owner, subject, period)] = Totals(int(count), int(grams), int(points))
        elif name == "year_points":
            params["owners"] = sorted({key[0] for key in keys})
            for owner, points in db.session.execute(_USAGE[name], params):
                book.year_points[(owner, period)] = int(points)
        else:  # the campaign's own rows: all of them ("participant"), or the current period's ("streaks")
            params["owners"] = sorted({key[1] for key in keys})
            for owner, count, points in db.session.execute(_USAGE[name], params):
                if name == "participant":
                    book.participant_actions[(subject, owner)] = int(count)
                    book.participant_points[(subject, owner)] = int(points)
                else:
                    book.streaks[(subject, owner, per, period)] = int(count)


def _usage_statements() -> dict[str, sa.Select]:
    """The seeding queries, built once: each groups one kind of usage by owner, for a set of owners."""
    owners, subject = sa.bindparam("owners", expanding=True), sa.bindparam("subject")
    start, end = sa.bindparam("start"), sa.bindparam("end")
    actions, awards = Action.__table__.c, CampaignAward.__table__.c
    counted = (actions.status.in_(COUNTED), actions.occurred_at >= start, actions.occurred_at < end)
    statements = {
        name: sa.select(column, sa.func.count(), sa.func.sum(actions.grams), sa.func.sum(actions.base_points))
        .where(column.in_(owners), actions.scenario == subject, *counted).group_by(column)
        for name, column in (("account", actions.account_id), ("household", actions.household_account_id))
    }
    for name, column in (("account", actions.account_id), ("household", actions.household_account_id)):
        day = city_date(actions.occurred_at)  # the same text as period_key(…, Period.DAY)
        statements[f"{name}_days"] = (
            sa.select(column, day, sa.func.count(), sa.func.sum(actions.grams), sa.func.sum(actions.base_points))
            .where(column.in_(owners), actions.scenario == subject, *counted).group_by(column, day))
    statements["year_points"] = (sa.select(actions.account_id, sa.func.sum(actions.points))
                                 .where(actions.account_id.in_(owners), *counted).group_by(actions.account_id))
    mine = (awards.campaign_id == subject, awards.account_id.in_(owners))
    statements["participant"] = (sa.select(awards.account_id, sa.func.count(), sa.func.sum(awards.points))
                                 .where(*mine).group_by(awards.account_id))
    statements["streaks"] = (sa.select(awards.account_id, sa.func.count(), sa.func.sum(awards.points))
                             .where(*mine, awards.occurred_at >= start, awards.occurred_at < end)
                             .group_by(awards.account_id))
    return statements


_USAGE = _usage_statements()
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
