"""Partner feeds: a signed batch of events, each credited exactly once, with consent, or explained.

Each event is claimed by (partner, event id) with INSERT … ON CONFLICT DO NOTHING before anything
else (one insert for the batch), so a retried or concurrent copy of an event is a duplicate. Events
are credited only to an account bound to the identifier the partner sent and only with that
account's consent for the partner and scenario; otherwise they are kept as unmatched, and credited
once if the binding is proven or the consent given within the claim window (``credit_waiting``), or
purged later. The same fact under two event ids (its fact id) is credited once, through the awarding's
natural key. Corrections and cancellations name the credit they replace and carry a sequence; the
highest sequence of a chain is applied, whatever the order.

Plain credits are awarded together (``earning.award_many``), a fixed number of statements per run
of them; corrections, cancellations and credits whose chain has begun are settled one at a time,
in the order sent, between those runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from carbon_platform.clock import as_utc, utcnow
from carbon_platform.db import insert_ignoring_conflicts
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    ActionStatus,
    Binding,
    BindingKind,
    BindingStatus,
    EventKind,
    EventStatus,
    Partner,
    PartnerEvent,
)
from carbon_platform.services import consent, earning, holders, ledger, rulebooks
from carbon_platform.services.journal import fingerprint, jsonable

MAX_BATCH = 500


@dataclass(frozen=True)
class Outcome:
    event_id: str
    status: EventStatus
    reason: str | None = None
    action_id: int | None = None
    points: int = 0


class _Batch:
    """What one batch looks up once instead of per event: bindings, consents, holders, the rules in force.

    It locks every account the batch may credit (and their households) up front, in ascending order,
    after the events are claimed: claims, then accounts, then campaign budgets is the order every
    writer takes its locks in, so concurrent batches and self-reports never deadlock.
    """

    def __init__(self, partner: Partner, events: list[dict[str, Any]], now: datetime):
        self.partner, self.events, self.now = partner, events, now
        self.keys = [consent.binding_key(BindingKind(e["binding"]["kind"]), e["binding"]["id"]) for e in events]
        self.bound = consent.accounts_bound_to(self.keys)
        accounts = set(self.bound.values())
        self.consented = consent.consents(accounts, partner.id)
        self.holders = holders.of(accounts)
        self.context: earning.Context | None = None

    def lock(self, events: list[dict[str, Any]]) -> None:
        """Lock the accounts this batch may credit, and read the rules in force, once."""
        wanted = set()
        for event, key in zip(events, self.keys, strict=True):
            account_id = self.bound.get(key)
            if account_id is not None and (account_id, event["scenario"]) in self.consented:
                wanted |= {account_id, self.holders[account_id].household_account_id} - {None}
        self.context = earning.Context(*rulebooks.awarding_rules(self.now), ledger.lock_accounts(wanted),
                                       keys_are_new=True)

    def claim_for(self, event: dict[str, Any], key: str) -> earning.Claim | Outcome:
        """What to award for a credit event, or why it is not credited."""
        event_id, scenario = event["event_id"], event["scenario"]
        allowed = self.partner.allowed_scenarios
        if allowed and scenario not in allowed:
            return Outcome(event_id, EventStatus.REJECTED, f"{self.partner.name} may not report {scenario}")
        account_id = self.bound.get(key)
        if account_id is None:
            return Outcome(event_id, EventStatus.UNMATCHED, "no account is bound to this identifier")
        if (account_id, scenario) not in self.consented:
            return Outcome(event_id, EventStatus.UNMATCHED,
                           "the account has not authorised this partner for this scene")
        holder = self.holders[account_id]
        return earning.Claim(account_id, holder.account_type, scenario, event.get("inputs", {}), event["occurred_at"],
                             f"partner:{self.partner.id}:{event_id}", channel=f"partner:{self.partner.kind.value}",
                             district=holder.district, household_account_id=holder.household_account_id,
                             fact_id=event.get("fact_id"))


@dataclass(frozen=True)
class _Claimed:
    """This batch's own row for an event: the claim on (partner, event id), and its place in a chain."""

    id: int
    event_id: str
    kind: EventKind
    root_event_id: str
    sequence: int


def ingest(partner: Partner, events: list[dict[str, Any]], now: datetime | None = None) -> list[Outcome]:
    """Credit a batch: plain credits are awarded together (``earning.award_many``), in runs between
    the corrections and cancellations, which are settled one at a time, in the order sent."""
    now = now or utcnow()
    outcomes: list[Outcome | None] = [None] * len(events)
    claimed = _claim(partner, events, now, outcomes)
    _settle_batch(partner, events, claimed, outcomes, now)
    _repeats(events, outcomes)
    return outcomes


def _settle_batch(partner: Partner, events: list[dict[str, Any]], claimed: dict[int, _Claimed],
                  outcomes: list[Outcome | None], now: datetime) -> None:
    """Match, award and record the claimed events of a batch (new ones, or waiting ones retried)."""
    batch = _Batch(partner, events, now)
    batch.lock(events)
    chained = _chained(partner, events, claimed)
    run: list[int] = []
    for i, event in enumerate(events):
        if i not in claimed:
            continue
        if claimed[i].kind is EventKind.CREDIT and event["event_id"] not in chained:
            run.append(i)
            continue
        _award_run(batch, events, run, claimed, outcomes)
        run = []
        with db.session.begin_nested():
            outcomes[i] = _settle(batch, events, i, claimed[i])
            _record(batch, [i], claimed, outcomes)
    _award_run(batch, events, run, claimed, outcomes)


def credit_waiting(account_id: int, keys: set[str], *, now: datetime | None = None,
                   partner_id: int | None = None) -> list[Outcome]:
    """Settle, once, the unmatched events kept for these identifiers (binding keys), now that a binding
    of ``account_id`` was proven or it authorised a partner (then only ``partner_id``'s events).

    Each is settled as if it arrived now, in the order it first arrived: credited when it matches and
    has consent, otherwise kept as unmatched. Events older than the claim window stay unmatched (to
    be purged) rather than being refused. The rows are locked (partner, id order) and re-checked as
    unmatched, so two of these at once, or a resend, never credit an event twice.
    """
    now = now or utcnow()
    table = PartnerEvent.__table__
    query = (sa.select(table.c.id, table.c.partner_id, table.c.event_id, table.c.kind, table.c.root_event_id,
                       table.c.sequence, table.c.payload)
             .where(table.c.identifier_hash.in_(sorted(keys)), table.c.status == EventStatus.UNMATCHED,
                    table.c.payload.is_not(None))
             .order_by(table.c.partner_id, table.c.id).with_for_update())
    if partner_id is not None:
        query = query.where(table.c.partner_id == partner_id)
    rows = db.session.execute(query).all()
    if not rows:  # the usual case: nothing waited (and no rulebook need be read)
        return []
    claim_window = _claim_window(now)
    waiting: dict[int, list[tuple[_Claimed, dict[str, Any]]]] = {}
    for row in rows:
        event = _revived(row.payload)
        if now - as_utc(event["occurred_at"]) <= claim_window:
            waiting.setdefault(row.partner_id, []).append(
                (_Claimed(row.id, row.event_id, row.kind, row.root_event_id, row.sequence), event))
    settled: list[Outcome] = []
    for waiting_partner_id, batch in waiting.items():
        partner = db.session.get(Partner, waiting_partner_id)
        if partner is None or not partner.active:
            continue
        events = [event for _claimed, event in batch]
        outcomes: list[Outcome | None] = [None] * len(events)
        _settle_batch(partner, events, {i: claimed for i, (claimed, _event) in enumerate(batch)}, outcomes, now)
        settled += outcomes
    return settled


def settle_all_waiting(now: datetime | None = None) -> int:
    """``credit_waiting`` for every proven binding that has unmatched events waiting: a sweep (from cron)
    for the one case the proof itself cannot see, an event that arrived in the same instant as its
    binding's proof or consent, uncommitted while the proof looked. Returns how many were credited."""
    now = now or utcnow()
    events, bindings = PartnerEvent.__table__, Binding.__table__
    pairs = db.session.execute(
        sa.select(bindings.c.account_id, bindings.c.identifier_hash).distinct()
        .join(events, events.c.identifier_hash == bindings.c.identifier_hash)
        .where(bindings.c.status == BindingStatus.ACTIVE, events.c.status == EventStatus.UNMATCHED,
               events.c.payload.is_not(None), events.c.received_at >= now - _claim_window(now))
    ).all()
    keys: dict[int, set[str]] = {}
    for account_id, key in pairs:
        keys.setdefault(account_id, set()).add(key)
    # Every account (and household) the sweep may credit, locked at once in ascending order, as a batch does.
    households = {h.household_account_id for h in holders.of(set(keys)).values()} - {None}
    ledger.lock_accounts(set(keys) | households)
    outcomes = [o for account_id in sorted(keys) for o in credit_waiting(account_id, keys[account_id], now=now)]
    return sum(o.status is EventStatus.CREDITED for o in outcomes)


def _claim_window(now: datetime) -> timedelta:
    return rulebooks.rules_in_force(now).rulebook.claim_window


def _revived(payload: dict[str, Any]) -> dict[str, Any]:
    """An event as kept while unmatched (JSON) back as the feed's schema loads it."""
    return {**payload, "occurred_at": datetime.fromisoformat(payload["occurred_at"]),
            "inputs": {name: Decimal(str(value)) for name, value in payload.get("inputs", {}).items()}}


def _claim(partner: Partner, events: list[dict[str, Any]], now: datetime,
           outcomes: list[Outcome | None]) -> dict[int, _Claimed]:
    """Claim every new (partner, event id) in one insert, in event id order (two batches sharing events
    then wait on each other instead of deadlocking); answer resent events as duplicates."""
    first: dict[str, int] = {}
    rows = []
    for i, event in enumerate(events):
        event_id = event["event_id"]
        if event_id in first:
            continue  # repeated within the batch: answered by _repeats once the first is settled
        first[event_id] = i
        kind = EventKind(event.get("type", EventKind.CREDIT))
        rows.append({"partner_id": partner.id, "event_id": event_id, "request_hash": fingerprint(event),
                     "status": EventStatus.UNMATCHED, "received_at": now, "kind": kind,
                     "root_event_id": event.get("corrects") or event_id,
                     "sequence": event.get("sequence", 0) if kind is not EventKind.CREDIT else 0})
    rows.sort(key=lambda row: row["event_id"])
    table = PartnerEvent.__table__
    ids = dict(db.session.execute(
        insert_ignoring_conflicts(table, ["partner_id", "event_id"], returning=["event_id", "id"]), rows).all()) \
        if rows else {}
    resent = [row for row in rows if row["event_id"] not in ids]
    if resent:
        earlier = {row.event_id: row for row in db.session.execute(
            sa.select(table.c.event_id, table.c.request_hash, table.c.received_at, table.c.action_id)
            .where(table.c.partner_id == partner.id, table.c.event_id.in_([r["event_id"] for r in resent])))}
        for row in resent:
            old = earlier[row["event_id"]]
            i = first[row["event_id"]]
            outcomes[i] = (Outcome(row["event_id"], EventStatus.REJECTED, "event id reused with different content")
                           if old.request_hash != row["request_hash"] else
                           Outcome(row["event_id"], EventStatus.DUPLICATE,
                                   f"first received {old.received_at.isoformat()}", old.action_id))
    return {first[row["event_id"]]: _Claimed(ids[row["event_id"]], row["event_id"], row["kind"], row["root_event_id"],
                                             row["sequence"])
            for row in rows if row["event_id"] in ids}


def _chained(partner: Partner, events: list[dict[str, Any]], claimed: dict[int, _Claimed]) -> set[str]:
    """Credit events that are part of a chain (a correction or cancellation names them, in this batch or
    before): they are settled one at a time, through the chain's rules."""
    named = {event["corrects"] for event in events if event.get("corrects")}
    credits = [c.event_id for c in claimed.values() if c.kind is EventKind.CREDIT and c.event_id not in named]
    if credits:
        named |= set(db.session.execute(
            sa.select(PartnerEvent.root_event_id).where(
                PartnerEvent.partner_id == partner.id, PartnerEvent.root_event_id.in_(credits),
                PartnerEvent.id.not_in([c.id for c in claimed.values()]))).scalars())
    return named


def _award_run(batch: _Batch, events: list[dict[str, Any]], run: list[int], claimed: dict[int, _Claimed],
               outcomes: list[Outcome | None]) -> None:
    """Award a run of plain credit events together, and record their outcomes."""
    if not run:
        return
    claims = []
    for i in run:
        found = batch.claim_for(events[i], batch.keys[i])
        if isinstance(found, Outcome):
            outcomes[i] = found
        else:
            claims.append((i, found))
    awards = earning.award_many([claim for _, claim in claims], now=batch.now, context=batch.context)
    for (i, _claim), award in zip(claims, awards, strict=True):
        outcomes[i] = _rejected(events[i]["event_id"], award) if isinstance(award, DomainError) \
            else _outcome(events[i]["event_id"], award)
    _record(batch, run, claimed, outcomes)


def _rejected(event_id: str, error: DomainError) -> Outcome:
    return Outcome(event_id, EventStatus.REJECTED, error.message)


def _record(batch: _Batch, indices: list[int], claimed: dict[int, _Claimed], outcomes: list[Outcome | None]) -> None:
    """Write the outcome onto each event's row (one statement); an unmatched event keeps its data and its
    identifier's hash, to be credited if its binding is proven or consent arrives in time, or purged."""
    table = PartnerEvent.__table__
    events = batch.events
    db.session.execute(
        sa.update(table).where(table.c.id == sa.bindparam("row"))
        .values(status=sa.bindparam("new_status"), reason=sa.bindparam("new_reason"),
                action_id=sa.bindparam("new_action"), payload=sa.bindparam("new_payload", type_=table.c.payload.type),
                identifier_hash=sa.bindparam("new_key")),
        [{"row": claimed[i].id, "new_status": outcomes[i].status, "new_reason": outcomes[i].reason,
          "new_action": outcomes[i].action_id,
          "new_payload": jsonable(events[i]) if outcomes[i].status is EventStatus.UNMATCHED else None,
          "new_key": batch.keys[i] if outcomes[i].status is EventStatus.UNMATCHED else None}
         for i in indices],
    )


def _repeats(events: list[dict[str, Any]], outcomes: list[Outcome | None]) -> None:
    """An event id sent twice in one batch: the second copy is a duplicate of the first (or, changed, rejected)."""
    first: dict[str, int] = {}
    for i, event in enumerate(events):
        j = first.setdefault(event["event_id"], i)
        if j != i:
            outcomes[i] = (Outcome(event["event_id"], EventStatus.DUPLICATE, "sent twice in this batch",
                                   outcomes[j].action_id)
                           if fingerprint(event) == fingerprint(events[j]) else
                           Outcome(event["event_id"], EventStatus.REJECTED, "event id reused with different content"))


def _settle(batch: _Batch, events: list[dict[str, Any]], i: int, claimed: _Claimed) -> Outcome:
    """A correction, a cancellation, or a credit whose chain has begun: settle the chain, then award."""
    event = events[i]
    found = batch.claim_for(event, batch.keys[i])
    if isinstance(found, Outcome):
        return found
    newer = _settle_chain(batch.partner, claimed, batch.now)
    if newer is not None:
        return newer
    if claimed.kind is EventKind.CANCELLATION:
        return Outcome(claimed.event_id, EventStatus.CANCELLED, f"cancels {claimed.root_event_id}")
    (award,) = earning.award_many([found], now=batch.now, context=batch.context)
    return _rejected(claimed.event_id, award) if isinstance(award, DomainError) else _outcome(claimed.event_id, award)


def _settle_chain(partner: Partner, record: _Claimed, now: datetime) -> Outcome | None:
    """Make ``record`` the chain's truth unless a later version already is (then: superseded).

    The chain is the credit and every correction or cancellation naming it; the highest sequence
    wins whatever the arrival order, so out-of-order delivery ends where in-order delivery does.
    """
    chain = db.session.execute(
        sa.select(PartnerEvent).where(PartnerEvent.partner_id == partner.id,
                                      PartnerEvent.root_event_id == record.root_event_id,
                                      PartnerEvent.id != record.id,
                                      PartnerEvent.status.not_in([EventStatus.REJECTED, EventStatus.UNMATCHED]))
    ).scalars().all()
    if any(other.sequence >= record.sequence for other in chain):
        return Outcome(record.event_id, EventStatus.SUPERSEDED,
                       f"a later version of {record.root_event_id} was already received")
    for other in chain:  # the version in force until now: undo it
        action = db.session.get(Action, other.action_id) if other.action_id else None
        if action is not None and action.status in (ActionStatus.CREDITED, ActionStatus.REVIEW):
            earning.reverse_action(action, reason=f"replaced by {record.kind.value} {record.event_id}", now=now)
    return None


def _outcome(event_id: str, award: earning.Award) -> Outcome:
    action = award.action
    if award.duplicate_of is not None:
        return Outcome(event_id, EventStatus.DUPLICATE, "this fact was already credited", action.id)
    replaced = f"replaces the app report of the same fact (action {award.replaced.id})" if award.replaced else None
    if action.status is ActionStatus.CREDITED:
        return Outcome(event_id, EventStatus.CREDITED, replaced, action.id, action.points)
    if action.status is ActionStatus.REVIEW:
        status = EventStatus.QUARANTINED if action.reason == "implausible" else EventStatus.REVIEW
        return Outcome(event_id, status, action.detail, action.id, action.points)
    return Outcome(event_id, EventStatus.REJECTED, action.reason + (f": {action.detail}" if action.detail else ""),
                   action.id)


def purge_unmatched(older_than: datetime) -> int:
    """Forget the data of events matched to nobody before ``older_than``.

    The row stays (event id and hash) so a resend is still recognised and never credited; only the
    payload, which names a card or meter, goes.
    """
    return db.session.execute(
        sa.update(PartnerEvent)
        .where(PartnerEvent.status == EventStatus.UNMATCHED, PartnerEvent.payload.is_not(None),
               PartnerEvent.received_at < older_than)
        .values(payload=None, identifier_hash=None)
    ).rowcount
