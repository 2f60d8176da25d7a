"""Bindings (how partners know a person) and authorisations (which scenes a partner may report)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from carbon_platform.clock import utcnow
from carbon_platform.errors import Conflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import (
    AccountKind,
    Authorisation,
    Binding,
    BindingCode,
    BindingKind,
    BindingStatus,
    CarbonAccount,
    Partner,
)
from carbon_platform.services import holders

_SEPARATORS = re.compile(r"[\s\-_.:/]")

#: What a household's account may bind: what partners know a household (not a person) by. Its electricity
#: meter is the household's alone (electricity saving is credited to households only), so a resident's
#: account may not hold one: bound to a member, the meter's readings would reach an account the scenario
#: refuses, and the household could not bind it.
HOUSEHOLD_KINDS = frozenset({BindingKind.ELECTRICITY_METER})


def check_holds(account_id: int, kind: BindingKind, digest: str) -> None:
    """Refuse a binding of ``kind`` on an account of a kind that cannot hold it (422), and a household's
    second meter (409): its saving is one figure a month (the scenario counts one), so a second meter
    would only be capped away. The household's account is locked first, so two additions queue."""
    account_kind = db.session.execute(sa.select(CarbonAccount.kind).where(CarbonAccount.id == account_id)).scalar()
    if account_kind is AccountKind.RESIDENT and kind in HOUSEHOLD_KINDS:
        raise InvalidInput("an electricity meter is bound to the household, by its head, not to a member",
                           field="kind", code="binding_kind_refused")
    if account_kind is not AccountKind.HOUSEHOLD:
        return
    if kind not in HOUSEHOLD_KINDS:
        raise InvalidInput("a household binds only its electricity meter", field="kind", code="binding_kind_refused")
    holders.lock(account_id)
    held = db.session.execute(
        sa.select(Binding.identifier_hash).where(Binding.account_id == account_id, Binding.kind == kind,
                                                 Binding.status != BindingStatus.REVOKED)).scalars()
    if any(other != digest for other in held):
        raise Conflict("the household already has a meter; unbind it first", code="household_has_meter")


def identifier_hash(kind: BindingKind, identifier: str) -> str:
    """The same card typed as '8801 2345-6789' or '880123456789' hashes the same."""
    return hashlib.sha256(f"{kind.value}:{normalise(identifier)}".encode()).hexdigest()


def normalise(identifier: str) -> str:
    value = _SEPARATORS.sub("", identifier or "").upper()
    if not 4 <= len(value) <= 64 or not value.isalnum():
        raise InvalidInput("an identifier has 4 to 64 letters or digits", field="identifier")
    return value


def add_binding(account_id: int, kind: BindingKind, identifier: str) -> Binding:
    """The person's own claim to an identifier: pending, matching nothing, until a partner confirms it
    (``confirm_by_partner``). The answer is the same whether or not someone else holds the identifier:
    a typed number proves nothing, so it must not tell anything either."""
    digest = identifier_hash(kind, identifier)
    check_holds(account_id, kind, digest)
    return _own(account_id, digest) or _add_pending(account_id, kind, digest, normalise(identifier)[-4:])


def _own(account_id: int, digest: str) -> Binding | None:
    return db.session.execute(
        sa.select(Binding).where(Binding.account_id == account_id, Binding.identifier_hash == digest,
                                 Binding.status != BindingStatus.REVOKED)
    ).scalar_one_or_none()


def _add_pending(account_id: int, kind: BindingKind, digest: str, last4: str,
                 partner_id: int | None = None) -> Binding:
    """A new pending binding; when the same person's concurrent request added it first, that one."""
    binding = Binding(account_id=account_id, kind=kind, identifier_hash=digest, last4=last4,
                      status=BindingStatus.PENDING, proposed_by_partner_id=partner_id)
    try:
        with db.session.begin_nested():  # a savepoint: on PostgreSQL a failed insert spoils the transaction
            db.session.add(binding)
    except IntegrityError:  # uq_bindings_account_identifier: one live binding per person and identifier
        existing = _own(account_id, digest)
        if existing is None:
            raise
        return existing
    return binding


def revoke_binding(account_id: int, binding_id: int) -> None:
    binding = db.session.get(Binding, binding_id)
    if binding is None or binding.account_id != account_id or binding.status == BindingStatus.REVOKED:
        raise NotFound("binding not found")
    binding.status, binding.revoked_at = BindingStatus.REVOKED, utcnow()


def binding_key(kind: BindingKind, identifier: str) -> str | None:
    """How a binding is looked up: the identifier's hash, or None for an identifier that cannot be one."""
    try:
        return identifier_hash(kind, identifier)
    except InvalidInput:
        return None


def accounts_bound_to(keys: list[str | None]) -> dict[str, int]:
    """binding_key → account id, for those of ``keys`` bound (and confirmed) to an account."""
    keys = {key for key in keys if key}
    if not keys:
        return {}
    return dict(db.session.execute(
        sa.select(Binding.identifier_hash, Binding.account_id)
        .where(Binding.identifier_hash.in_(keys), Binding.status == BindingStatus.ACTIVE)
    ).all())


def grant(account_id: int, partner: Partner, scenario: str, accepted_channels: frozenset[str],
          account_types: frozenset[str] | None = None) -> Authorisation:
    """Consent for ``partner`` to report ``scenario``; the scenario must take that partner's feed and, when
    ``account_types`` is given (the scenario's), this kind of account. The partner's events that waited for
    it (on the account's proven bindings) are credited."""
    if f"partner:{partner.kind.value}" not in accepted_channels:
        raise InvalidInput(f"{partner.name} does not report {scenario}", field="scenario")
    # Locked as awarding locks it: a grant and a binding's proof queue, so the second credits what
    # waited for both (and two grants at once find one authorisation).
    holder = holders.lock(account_id).holder
    if account_types is not None and holder is not None and holder.account_type not in account_types:
        raise InvalidInput(f"{scenario} is not credited to a {holder.account_type}'s account", field="scenario",
                           code="scenario_not_for_account")
    live = db.session.execute(
        sa.select(Authorisation).where(Authorisation.account_id == account_id, Authorisation.partner_id == partner.id,
                                       Authorisation.scenario == scenario, Authorisation.revoked_at.is_(None))
    ).scalar_one_or_none()
    if live is not None:
        return live
    authorisation = Authorisation(account_id=account_id, partner_id=partner.id, scenario=scenario)
    db.session.add(authorisation)
    db.session.flush()
    proven = set(db.session.execute(
        sa.select(Binding.identifier_hash).where(Binding.account_id == account_id,
                                                 Binding.status == BindingStatus.ACTIVE)).scalars())
    if proven:
        from carbon_platform.services import feeds  # feeds builds on this module

        feeds.credit_waiting(account_id, proven, partner_id=partner.id)
    return authorisation


def revoke(account_id: int, authorisation_id: int) -> None:
    authorisation = db.session.get(Authorisation, authorisation_id)
    if authorisation is None or authorisation.account_id != account_id or authorisation.revoked_at is not None:
        raise NotFound("authorisation not found")
    authorisation.revoked_at = utcnow()


def consents(account_ids: set[int], partner_id: int) -> set[tuple[int, str]]:
    """(account id, scenario) for every live authorisation of ``partner_id`` by those accounts."""
    if not account_ids:
        return set()
    rows = db.session.execute(
        sa.select(Authorisation.account_id, Authorisation.scenario)
        .where(Authorisation.account_id.in_(account_ids), Authorisation.partner_id == partner_id,
               Authorisation.revoked_at.is_(None))
    ).all()
    return {(account_id, scenario) for account_id, scenario in rows}


BINDING_CODE_TTL = timedelta(minutes=15)
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # readable aloud: no 0/O, 1/I/L


def _code_hash(code: str) -> str:
    return hashlib.sha256(("binding:" + code.strip().upper()).encode()).hexdigest()


def issue_binding_code(account_id: int) -> tuple[BindingCode, str]:
    """A one-time code for a partner to propose a binding; shown once, valid 15 minutes."""
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    record = BindingCode(account_id=account_id, code_hash=_code_hash(code), expires_at=utcnow() + BINDING_CODE_TTL)
    db.session.add(record)
    db.session.flush()
    return record, code


def _spend_code(code: str) -> int:
    """Spend a one-time binding code in one guarded statement (of ten uses at once, one wins): its account."""
    now = utcnow()
    codes = BindingCode.__table__
    account_id = db.session.execute(
        sa.update(codes).where(codes.c.code_hash == _code_hash(code), codes.c.used_at.is_(None),
                               codes.c.expires_at > now)
        .values(used_at=now).returning(codes.c.account_id)
    ).scalar_one_or_none()
    if account_id is None:
        raise NotFound("binding code not found or no longer valid", code="binding_code_invalid")
    return account_id


def propose_binding(partner: Partner, code: str, kind: BindingKind, identifier: str) -> Binding:
    """A partner proposes an identifier for the person who showed it ``code``; it stays pending (and
    matches nothing) until that person confirms it. A number the person typed in themselves is the one
    proposed: it then awaits their confirmation."""
    digest = identifier_hash(kind, identifier)
    account_id = _spend_code(code)
    check_holds(account_id, kind, digest)  # raising rolls the spent code back with the rest
    _refuse_if_proven_elsewhere(account_id, digest)
    binding = _own(account_id, digest) or _add_pending(account_id, kind, digest, normalise(identifier)[-4:],
                                                        partner.id)
    if binding.status is BindingStatus.PENDING:
        binding.proposed_by_partner_id = partner.id
    return binding


def confirm_binding(account_id: int, binding_id: int) -> Binding:
    """The person confirms what a partner proposed: the binding is proven. A number they typed in
    themselves cannot be confirmed by them: that proves nothing."""
    binding = db.session.get(Binding, binding_id)
    if binding is None or binding.account_id != account_id or binding.status is not BindingStatus.PENDING:
        raise NotFound("no pending binding with that id")
    if binding.proposed_by_partner_id is None:
        raise Conflict("a number you entered is confirmed by its partner (show them a binding code), not by you",
                       code="binding_not_proposed")
    return _prove(binding, binding.proposed_by_partner_id)


def confirm_by_partner(partner: Partner, code: str, kind: BindingKind, identifier: str) -> Binding:
    """A partner's signed word that ``identifier``, which the person who showed it ``code`` entered in the
    app, is theirs: the binding is proven at once. The code says which person is meant; an identifier
    alone would not, since anyone may have typed it in."""
    digest = identifier_hash(kind, identifier)
    account_id = _spend_code(code)
    binding = _own(account_id, digest)
    if binding is None:
        _refuse_if_proven_elsewhere(account_id, digest)  # their claim lost to someone's proof
        raise NotFound("the person who showed this code has not entered that identifier", code="binding_not_found")
    return _prove(binding, partner.id)


def _refuse_if_proven_elsewhere(account_id: int, digest: str) -> None:
    """Told only to partners (who know their own cards), never to a person typing a number."""
    held = db.session.execute(
        sa.select(Binding.id).where(Binding.identifier_hash == digest, Binding.status == BindingStatus.ACTIVE,
                                    Binding.account_id != account_id)
    ).first()
    if held is not None:
        raise Conflict("this identifier is already bound to another account", code="identifier_taken")


def _prove(binding: Binding, partner_id: int) -> Binding:
    """Make ``binding`` the identifier's proven binding, withdraw everyone else's pending claim to it (the
    proven one wins), and credit the partner events that waited for it.

    The account (and its household's) is locked first, as awarding locks it, so a proof and an
    authorisation of one account queue and the second credits what waited for both. Then every live
    binding of the identifier is locked, in id order, so two proofs of one identifier queue instead of
    deadlocking, and the second sees the first's result.
    """
    holders.lock(binding.account_id)
    rows = db.session.execute(
        sa.select(Binding).where(Binding.identifier_hash == binding.identifier_hash,
                                 Binding.status != BindingStatus.REVOKED)
        .order_by(Binding.id).with_for_update().execution_options(populate_existing=True)
    ).scalars().all()
    if binding in rows and binding.status is BindingStatus.ACTIVE:  # a concurrent confirmation of it won
        return binding
    if any(other.status is BindingStatus.ACTIVE for other in rows):  # another binding's proof won
        raise Conflict("this identifier is already bound to another account", code="identifier_taken")
    if binding not in rows:  # withdrawn meanwhile by its owner
        raise NotFound("no pending binding with that id")
    now = utcnow()
    for other in rows:
        if other is not binding:
            other.status, other.revoked_at = BindingStatus.REVOKED, now
    binding.status, binding.proposed_by_partner_id = BindingStatus.ACTIVE, partner_id
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # uq_bindings_proven_identifier: a proof that slipped past the locks
        raise Conflict("this identifier is already bound to another account", code="identifier_taken") from exc
    from carbon_platform.services import feeds  # feeds builds on this module

    feeds.credit_waiting(binding.account_id, {binding.identifier_hash}, now=now)
    return binding
