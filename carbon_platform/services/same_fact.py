"""One physical fact, one credit, across channels (issue #17 item 9): finding the record of another channel that a
claim is the same fact as, by the rulebook's ``same_fact`` rule (``points_rules.same_fact``).

``earning.award_many`` asks once per batch, before it reads usage: an app report that an attested record (a
partner's, a check-in's) already credited is a duplicate of it; an attested record that an app report already
credited replaces the report, which ``earning`` reverses so that the caps and budgets see one credit. One query
for the batch, and none at all when no claim's scenario has a rule.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from carbon_platform.clock import as_utc
from carbon_platform.extensions import db
from carbon_platform.models import COUNTED, Action
from points_rules.same_fact import APP, Sighting, attests

if TYPE_CHECKING:
    from carbon_platform.services.earning import Claim
    from points_rules import Rulebook

REASON = "superseded"


@dataclass(frozen=True)
class Match:
    """The action of another channel a claim is the same fact as. ``replaces``: the claim is the attested record
    and ``action`` the app report it replaces; otherwise the claim is an app report, a duplicate of ``action``."""

    action: Action
    replaces: bool


def find(claims: Sequence[Claim], rulebook: Rulebook, *, skip: Collection[int] = ()) -> list[Match | None]:
    """For each claim, the counted action of another channel that is the same fact, or None. Claims on the
    accounts in ``skip`` (frozen: nothing of theirs is reversed) are not matched. An app report is never replaced
    twice, neither by two claims of the batch nor by a claim after another record already replaced it (it is
    reversed then, and no longer counted)."""
    rules = {i: rule for i, claim in enumerate(claims)
             if claim.account_id not in skip
             and (scenario := rulebook.scenarios.get(claim.scenario)) is not None
             and (rule := scenario.same_fact) is not None and claim.channel in scenario.channels}
    found: list[Match | None] = [None] * len(claims)
    if not rules:
        return found
    window = max(rule.window for rule in rules.values())
    times = [as_utc(claims[i].occurred_at) for i in rules]
    candidates = db.session.scalars(_query(), {
        "accounts": sorted({claims[i].account_id for i in rules}),
        "scenarios": sorted({claims[i].scenario for i in rules}),
        "start": min(times) - window, "end": max(times) + window,
    }).all()
    # Every pair of a claim and an action that are the same fact, the closest in time first (then the earliest
    # action, the first claim): each claim takes its closest action, and each app report is replaced once.
    pairs = []
    for i, rule in rules.items():
        claim = claims[i]
        seen = Sighting(claim.channel, as_utc(claim.occurred_at), claim.inputs)
        for order, action in enumerate(candidates):
            if action.account_id != claim.account_id or action.scenario != claim.scenario:
                continue
            other = Sighting(action.channel, as_utc(action.occurred_at), action.inputs or {})
            if rule.matches(seen, other):
                pairs.append((abs(seen.time - other.time), order, i, action))
    pairs.sort(key=lambda pair: pair[:3])
    replaced: set[int] = set()
    for _gap, _order, i, action in pairs:
        replaces = attests(claims[i].channel)
        if found[i] is not None or (replaces and action.id in replaced):
            continue
        if replaces:
            replaced.add(action.id)
        found[i] = Match(action, replaces)
    return found


def _query() -> sa.Select:
    """The counted actions of the given accounts and scenarios between ``start`` and ``end``, oldest first."""
    return (sa.select(Action)
            .where(Action.account_id.in_(sa.bindparam("accounts", expanding=True)),
                   Action.scenario.in_(sa.bindparam("scenarios", expanding=True)),
                   Action.status.in_(COUNTED),
                   Action.occurred_at.between(sa.bindparam("start"), sa.bindparam("end")))
            .order_by(Action.occurred_at, Action.id))


def words(channel: str) -> str:
    """The reversed report's detail, for operators: which channel's record replaced it."""
    return f"the same fact as the {channel} record that replaced this {APP} report"

