"""A Hypothesis state machine drives earn / spend / settle (release, expire) / reverse / replay through
the ledger service, committing each step, and compares the database with a reference model after
every step; the invariant check runs after every step too. Runs on both databases.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from carbon_platform.db import commit
from carbon_platform.errors import InsufficientPoints
from carbon_platform.extensions import db
from carbon_platform.models import CarbonAccount
from carbon_platform.services import invariants, ledger
from tests import factories as f

START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class ModelLot:
    journal_id: int
    points: int
    grams: int
    remaining: int
    release_at: datetime | None
    released: bool
    expires_at: datetime
    reversed: bool = False
    expired: int = 0


class LedgerModel:
    """The ledger as the specification says it behaves, in plain Python."""

    def __init__(self):
        self.lots: list[ModelLot] = []
        self.grams = 0
        self.shortfall = 0

    def settle(self, now):
        for lot in self.lots:
            if lot.remaining and not lot.released and lot.release_at <= now:
                lot.released = True
            if lot.remaining and lot.expires_at <= now:
                lot.expired, lot.remaining = lot.remaining, 0

    def available(self):
        return sum(lot.remaining for lot in self.lots if lot.released)

    def pending(self):
        return sum(lot.remaining for lot in self.lots if not lot.released)

    def take(self, points, now, *, include_pending):
        order = sorted(
            (lot for lot in self.lots if lot.remaining and lot.expires_at > now and (lot.released or include_pending)),
            key=lambda lot: (not lot.released, lot.expires_at, lot.journal_id),
        )
        for lot in order:
            part = min(points, lot.remaining)
            lot.remaining -= part
            points -= part
        return points  # what could not be taken


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, app):
        super().__init__()
        self.app = app
        self.context = app.app_context()
        self.context.push()
        self.model = LedgerModel()
        self.now = START
        self.earnings: list[tuple[str, dict]] = []

    @initialize()
    def open_account(self):
        self.account_id = f.resident().account_id
        commit()

    def teardown(self):
        db.session.rollback()
        self.context.pop()

    @rule(points=st.integers(0, 400), grams=st.integers(0, 4000), hold_hours=st.sampled_from([0, 0, 6, 48]),
          life_days=st.integers(1, 40))
    def earn(self, points, grams, hold_hours, life_days):
        if points == 0 and grams == 0:
            return
        release_at = self.now + timedelta(hours=hold_hours) if hold_hours else None
        kwargs = dict(points=points, grams=grams, scenario="cycling", now=self.now, release_at=release_at,
                      expires_at=self.now + timedelta(hours=hold_hours, days=life_days))
        key = f.key("stateful")
        journal = ledger.earn(self.account_id, idempotency_key=key, **kwargs)
        commit()
        self.earnings.append((key, kwargs))
        self.model.grams += grams
        if points:
            self.model.lots.append(ModelLot(journal.id, points, grams, points, release_at, release_at is None,
                                            kwargs["expires_at"]))
        else:
            self.model.lots.append(ModelLot(journal.id, 0, grams, 0, None, True, kwargs["expires_at"]))

    @precondition(lambda self: self.earnings)
    @rule(data=st.data())
    def replay_an_earning(self, data):
        key, kwargs = data.draw(st.sampled_from(self.earnings))
        ledger.earn(self.account_id, idempotency_key=key, **kwargs)  # same key, same request: no effect
        commit()

    @rule(points=st.integers(1, 600))
    def spend(self, points):
        settled = copy.deepcopy(self.model)  # a refused spend rolls back its settling too
        settled.settle(self.now)
        try:
            ledger.spend(self.account_id, points=points, idempotency_key=f.key("spend"), now=self.now)
            commit()
        except InsufficientPoints:
            db.session.rollback()
            assert points > settled.available()
            return
        assert points <= settled.available()
        assert settled.take(points, self.now, include_pending=False) == 0
        self.model = settled

    @rule(hours=st.integers(1, 24 * 15))
    def time_passes(self, hours):
        self.now += timedelta(hours=hours)

    @rule()
    def settle(self):
        list(ledger.settle_due(self.now))
        commit()
        self.model.settle(self.now)

    @precondition(lambda self: any(not lot.reversed for lot in self.model.lots))
    @rule(data=st.data())
    def reverse(self, data):
        lot = data.draw(st.sampled_from([lot for lot in self.model.lots if not lot.reversed]))
        ledger.reverse(lot.journal_id, idempotency_key=f.key("reverse"), reason="model", now=self.now)
        commit()
        self.model.settle(self.now)
        lot.reversed = True
        owed = lot.points - lot.remaining - lot.expired  # expired points never served the holder
        lot.remaining = 0
        self.model.shortfall += self.model.take(owed, self.now, include_pending=True)
        self.model.grams -= lot.grams

    @invariant()
    def database_equals_model(self):
        if not hasattr(self, "account_id"):
            return
        account = db.session.get(CarbonAccount, self.account_id, populate_existing=True)
        # The database settles lazily (on spend, reverse or the job); compare what it has applied.
        assert account.reduction_grams == self.model.grams
        assert account.points_available + account.points_pending == sum(lot.remaining for lot in self.model.lots)
        assert account.flagged == (self.model.shortfall > 0)

    @invariant()
    def ledger_invariants_hold(self):
        assert invariants.verify() == []


@pytest.mark.parametrize("steps", [40])
def test_ledger_matches_its_model(app, steps):
    run_state_machine_as_test(
        lambda: LedgerMachine(app),
        settings=settings(max_examples=40, stateful_step_count=steps, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
