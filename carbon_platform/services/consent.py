"""Bindings (how partners know a person) and authorisations (which scenes a partner may report)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.errors import Conflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Authorisation, Binding, BindingCode, BindingKind, BindingStatus, Partner

_SEPARATORS = re.compile(r"[\s\-_.:/]")


def identifier_hash(kind: BindingKind, identifier: str) -> str:
    """The same card typed as '8801 2345-6789' or '880123456789' hashes the same."""
    return hashlib.sha256(f"{kind.value}:{normalise(identifier)}".encode()).hexdigest()


def normalise(identifier: str) -> str:
    value = _SEPARATORS.sub("", identifier or "").upper()
    if not 4 <= len(value) <= 64 or not value.isalnum():
        raise InvalidInput("an identifier has 4 to 64 letters or digits", field="identifier")
    return value


def add_binding(account_id: int, kind: BindingKind, identifier: str) -> Binding:
    digest = identifier_hash(kind, identifier)
    taken = db.session.execute(
        sa.select(Binding).where(Binding.identifier_hash == digest, Binding.status != BindingStatus.REVOKED)
    ).scalar_one_or_none()
    if taken is not None:
        if taken.account_id == account_id:
            return taken
        raise Conflict("this identifier is bound to another account", code="identifier_taken")
    binding = Binding(account_id=account_id, kind=kind, identifier_hash=digest, last4=normalise(identifier)[-4:],
                      status=BindingStatus.ACTIVE)
    db.session.add(binding)
    db.session.flush()
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


def grant(account_id: int, partner: Partner, scenario: str, accepted_channels: frozenset[str]) -> Authorisation:
    """Consent for ``partner`` to report ``scenario``; the scenario must take that partner's feed."""
    if f"partner:{partner.kind.value}" not in accepted_channels:
        raise InvalidInput(f"{partner.name} does not report {scenario}", field="scenario")
    live = db.session.execute(
        sa.select(Authorisation).where(Authorisation.account_id == account_id, Authorisation.partner_id == partner.id,
                                       Authorisation.scenario == scenario, Authorisation.revoked_at.is_(None))
    ).scalar_one_or_none()
    if live is not None:
        return live
    authorisation = Authorisation(account_id=account_id, partner_id=partner.id, scenario=scenario)
    db.session.add(authorisation)
    db.session.flush()
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


def propose_binding(partner: Partner, code: str, kind: BindingKind, identifier: str) -> Binding:
    """A partner proposes an identifier for the person who showed it ``code``; it stays pending (and
    matches nothing) until that person confirms it."""
    record = db.session.execute(
        sa.select(BindingCode).where(BindingCode.code_hash == _code_hash(code)).with_for_update()
    ).scalar_one_or_none()
    if record is None or record.used_at is not None or record.expires_at <= utcnow():
        raise NotFound("binding code not found or no longer valid", code="binding_code_invalid")
    record.used_at = utcnow()
    digest = identifier_hash(kind, identifier)
    taken = db.session.execute(
        sa.select(Binding.id).where(Binding.identifier_hash == digest, Binding.status != BindingStatus.REVOKED)
    ).first()
    if taken is not None:
        raise Conflict("this identifier is already bound or proposed", code="identifier_taken")
    binding = Binding(account_id=record.account_id, kind=kind, identifier_hash=digest,
                      last4=normalise(identifier)[-4:], status=BindingStatus.PENDING,
                      proposed_by_partner_id=partner.id)
    db.session.add(binding)
    db.session.flush()
    return binding


def confirm_binding(account_id: int, binding_id: int) -> Binding:
    binding = db.session.get(Binding, binding_id)
    if binding is None or binding.account_id != account_id or binding.status is not BindingStatus.PENDING:
        raise NotFound("no pending binding with that id")
    binding.status = BindingStatus.ACTIVE
    return binding
