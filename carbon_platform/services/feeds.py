"""Partner feeds: a signed batch of events, each credited exactly once, with consent, or explained.

Each event is claimed by (partner, event id) with INSERT … ON CONFLICT DO NOTHING before anything
else, inside its own savepoint, so a retried or concurrent copy of an event is a duplicate and one
bad event never undoes the others. Events are credited only to an account bound to the identifier
the partner sent and only with that account's consent for the partner and scenario; otherwise they
are kept as unmatched (and purged later). The same fact under two event ids (its fact id) is
credited once, through award_action's natural key. Corrections and cancellations name the credit
they replace and carry a sequence; the highest sequence of a chain is applied, whatever the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import insert_ignoring_conflicts
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db
from carbon_platform.models import (
    AccountKind,
    Action,
    ActionStatus,
    BindingKind,
    CarbonAccount,
    District,
    Enterprise,
    EventKind,
    EventStatus,
    Household,
    HouseholdMembership,
    Partner,
    PartnerEvent,
    Resident,
)
from carbon_platform.services import consent, earning, ledger, rulebooks
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
    """What one batch looks up once instead of per event: bindings, consents, holders, the rules in force."""

    def __init__(self, partner: Partner, events: list[dict[str, Any]], now: datetime):
        self.now = now
        self.keys = [consent.binding_key(BindingKind(e["binding"]["kind"]), e["binding"]["id"]) for e in events]
        self.bound = consent.accounts_bound_to(self.keys)
        accounts = set(self.bound.values())
        self.consented = consent.consents(accounts, partner.id)
        self.holders = holder_contexts(accounts)
        self._context: earning.Context | None = None
        self.locked: set[int] = set()

    def context(self) -> earning.Context:
        if self._context is None:
            rules = rulebooks.in_force(self.now)
            self._context = earning.Context(rules, earning.stopped_campaigns(self.now))
        return earning.Context(self._context.rules, self._context.stopped, frozenset(self.locked))

    def lock(self, account_id: int, household_account_id: int | None) -> None:
        """Lock the holder's rows (and its household's) once for the batch, in ascending order."""
        wanted = sorted({account_id, household_account_id} - {None} - self.locked)
        for locked_id in wanted:
            ledger.lock_account(locked_id)
        self.locked.update(wanted)


def ingest(partner: Partner, events: list[dict[str, Any]], now: datetime | None = None) -> list[Outcome]:
    now = now or utcnow()
    batch = _Batch(partner, events, now)
    outcomes = []
    for event, key in zip(events, batch.keys, strict=True):
        account_id = batch.bound.get(key)
        # Locks are taken outside the event's savepoint: rolling a savepoint back would release them.
        if account_id is not None and (account_id, event["scenario"]) in batch.consented:
            batch.lock(account_id, batch.holders[account_id][2])
        with db.session.begin_nested():
            outcomes.append(_one(partner, event, account_id, now, batch))
    return outcomes


def _one(partner: Partner, event: dict[str, Any], account_id: int | None, now: datetime, batch: _Batch) -> Outcome:
    event_id, digest = event["event_id"], fingerprint(event)
    kind = EventKind(event.get("type", EventKind.CREDIT))
    root = event.get("corrects") or event_id
    sequence = event.get("sequence", 0) if kind is not EventKind.CREDIT else 0
    claimed = db.session.execute(
        insert_ignoring_conflicts(PartnerEvent, ["partner_id", "event_id"])
        .values(partner_id=partner.id, event_id=event_id, request_hash=digest, status=EventStatus.UNMATCHED,
                received_at=now, kind=kind, root_event_id=root, sequence=sequence)
        .returning(PartnerEvent.id)
    ).scalar()
    if claimed is None:
        first = db.session.execute(sa.select(PartnerEvent).where(
            PartnerEvent.partner_id == partner.id, PartnerEvent.event_id == event_id)).scalar_one()
        if first.request_hash != digest:
            return Outcome(event_id, EventStatus.REJECTED, "event id reused with different content")
        return Outcome(event_id, EventStatus.DUPLICATE, f"first received {first.received_at.isoformat()}",
                       first.action_id)
    record = db.session.get(PartnerEvent, claimed)
    outcome = _credit(partner, event, account_id, record, now, batch)
    record.status, record.reason, record.action_id = outcome.status, outcome.reason, outcome.action_id
    record.payload = jsonable(event) if outcome.status is EventStatus.UNMATCHED else None
    return outcome


def _credit(partner: Partner, event: dict[str, Any], account_id: int | None, record: PartnerEvent, now: datetime,
            batch: _Batch) -> Outcome:
    event_id, scenario = event["event_id"], event["scenario"]
    if partner.allowed_scenarios and scenario not in partner.allowed_scenarios:
        return Outcome(event_id, EventStatus.REJECTED, f"{partner.name} may not report {scenario}")
    if account_id is None:
        return Outcome(event_id, EventStatus.UNMATCHED, "no account is bound to this identifier")
    if (account_id, scenario) not in batch.consented:
        return Outcome(event_id, EventStatus.UNMATCHED, "the account has not authorised this partner for this scene")
    account_type, district, household_account_id = batch.holders[account_id]  # locked by ingest: one decision
    newer = _settle_chain(partner, record, now)
    if newer is not None:
        return newer
    if record.kind is EventKind.CANCELLATION:
        return Outcome(event_id, EventStatus.CANCELLED, f"cancels {record.root_event_id}")
    try:
        award = earning.award_action(
            account_id, account_type=account_type, scenario=scenario, inputs=event.get("inputs", {}),
            occurred_at=event["occurred_at"], idempotency_key=f"partner:{partner.id}:{event_id}",
            channel=f"partner:{partner.kind.value}", district=district, household_account_id=household_account_id,
            fact_id=event.get("fact_id"), now=now, context=batch.context(),
        )
    except DomainError as exc:
        return Outcome(event_id, EventStatus.REJECTED, exc.message)
    return _outcome(event_id, award)


def _settle_chain(partner: Partner, record: PartnerEvent, now: datetime) -> Outcome | None:
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
    action: Action = award.action
    if award.duplicate_of is not None:
        return Outcome(event_id, EventStatus.DUPLICATE, "this fact was already credited", action.id)
    if action.status is ActionStatus.CREDITED:
        return Outcome(event_id, EventStatus.CREDITED, None, action.id, action.points)
    if action.status is ActionStatus.REVIEW:
        status = EventStatus.QUARANTINED if action.reason == "implausible" else EventStatus.REVIEW
        return Outcome(event_id, status, action.detail, action.id, action.points)
    return Outcome(event_id, EventStatus.REJECTED, action.reason + (f": {action.detail}" if action.detail else ""),
                   action.id)


def holder_contexts(account_ids: set[int]) -> dict[int, tuple[str, str | None, int | None]]:
    """(account type, district code, household account id) of whoever holds each account, in a few queries
    (one per kind of holder, and one for households)."""
    if not account_ids:
        return {}
    kinds = dict(db.session.execute(
        sa.select(CarbonAccount.id, CarbonAccount.kind).where(CarbonAccount.id.in_(account_ids))).all())
    found: dict[int, tuple[str, str | None, int | None]] = {
        account_id: (kind.value, None, None) for account_id, kind in kinds.items()}
    for kind, model in ((AccountKind.RESIDENT, Resident), (AccountKind.HOUSEHOLD, Household),
                        (AccountKind.ENTERPRISE, Enterprise)):
        ids = [a for a, k in kinds.items() if k is kind]
        if not ids:
            continue
        rows = db.session.execute(
            sa.select(model.account_id, District.code).outerjoin(District, District.id == model.district_id)
            .where(model.account_id.in_(ids))).all()
        for account_id, district in rows:
            found[account_id] = (kind.value, district, None)
    residents = [a for a, k in kinds.items() if k is AccountKind.RESIDENT]
    if residents:
        for account_id, household_account_id in db.session.execute(
                sa.select(Resident.account_id, Household.account_id)
                .join(HouseholdMembership, HouseholdMembership.resident_id == Resident.id)
                .join(Household, Household.id == HouseholdMembership.household_id)
                .where(Resident.account_id.in_(residents))).all():
            kind, district, _none = found[account_id]
            found[account_id] = (kind, district, household_account_id)
    return found


def purge_unmatched(older_than: datetime) -> int:
    """Forget the data of events matched to nobody before ``older_than``.

    The row stays (event id and hash) so a resend is still recognised and never credited; only the
    payload, which names a card or meter, goes.
    """
    return db.session.execute(
        sa.update(PartnerEvent)
        .where(PartnerEvent.status == EventStatus.UNMATCHED, PartnerEvent.payload.is_not(None),
               PartnerEvent.received_at < older_than)
        .values(payload=None)
    ).rowcount
