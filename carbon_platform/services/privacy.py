"""A resident's rights over their personal data (PIPL): access and portability (``export``) and erasure
(``delete_resident``).

Erasure removes everything that identifies the person and keeps the ledger's anonymised figures: the journals,
entries and certified grams stay under a closed account whose holder is a tombstone row with no phone, no name
and no district, so the city's totals stay true (PIPL art. 47 erases personal information; art. 73 says data
that can no longer identify anyone is not personal information). What must finish first blocks it
(``deletion_blockers``)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from carbon_platform.clock import utc_or_now
from carbon_platform.errors import Conflict
from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    ActionStatus,
    AdjustmentRequest,
    AdjustmentStatus,
    Audience,
    Authorisation,
    AuthToken,
    Binding,
    BindingCode,
    Book,
    Evidence,
    HouseholdInvitation,
    Journal,
    LedgerEntry,
    LoginCode,
    MemberRole,
    Partner,
    PointLot,
    Resident,
    TokenKind,
    Voucher,
    VoucherStatus,
)
from carbon_platform.services import audit, auth, evidence, households, ledger, vouchers

FORMAT = "carbon-taian-personal-data/1"
#: Each list in an export holds at most this many rows (newest first); ``truncated`` names the lists cut. Ten
#: years of four bus rides a day is under 15,000 actions, so a real resident never reaches it.
MAX_ROWS = 20_000
#: The display name a deleted resident's row keeps (the column cannot be empty); identifies no one.
DELETED_NAME = "已注销用户"


def _t(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def tombstone_phone(resident_id: int) -> str:
    """What replaces a deleted resident's phone: unique (the column is), never a phone number (so the same
    number logs in to a new, empty account) and saying nothing about the person."""
    return f"del-{resident_id}"


# -- access and portability ---------------------------------------------------------------------------


def export(resident: Resident, now: datetime | None = None) -> dict[str, Any]:
    """Everything the platform holds about the resident, as one JSON-ready document. Reads only.

    Never in it: token and code hashes, binding identifiers' hashes (only their last four), voucher codes
    (bearer credentials), photo bytes (their ids and sizes; each photo downloads from /evidence/{id})."""
    now = utc_or_now(now)
    account = resident.account
    truncated: list[str] = []

    def rows(name: str, statement) -> list:
        found = db.session.execute(statement.limit(MAX_ROWS + 1)).all()
        if len(found) > MAX_ROWS:
            truncated.append(name)
        return found[:MAX_ROWS]

    membership = households.membership_of(resident)
    photos: dict[int, list[dict]] = {}
    for (photo,) in rows("evidence", sa.select(Evidence).where(Evidence.account_id == account.id)
                         .order_by(Evidence.id.desc())):
        photos.setdefault(photo.action_id, []).append(
            {"id": photo.id, "width": photo.width, "height": photo.height, "bytes": photo.bytes,
             "uploaded_at": _t(photo.created_at)})
    points = sa.func.sum(sa.case((LedgerEntry.book.in_([Book.AVAILABLE, Book.PENDING]), LedgerEntry.amount),
                                 else_=0))
    grams = sa.func.sum(sa.case((LedgerEntry.book == Book.REDUCTION, LedgerEntry.amount), else_=0))
    sessions = rows("sessions", sa.select(
        sa.func.min(AuthToken.created_at), sa.func.max(AuthToken.created_at), sa.func.max(AuthToken.expires_at),
        sa.func.count(AuthToken.revoked_at), sa.func.count())
        .where(AuthToken.audience == Audience.RESIDENT, AuthToken.subject_id == resident.id,
               AuthToken.kind == TokenKind.REFRESH)
        .group_by(AuthToken.session_id).order_by(sa.func.min(AuthToken.created_at).desc()))
    document = {
        "format": FORMAT, "generated_at": _t(now),
        "profile": {"id": resident.id, "phone": resident.phone, "display_name": resident.display_name,
                    "real_name": resident.real_name,
                    "district": None if resident.district is None else {
                        "code": resident.district.code, "name_zh": resident.district.name_zh,
                        "name_en": resident.district.name_en},
                    "created_at": _t(resident.created_at), "last_login_at": _t(resident.last_login_at)},
        "account": {"id": account.id, "points_available": account.points_available,
                    "points_pending": account.points_pending, "reduction_grams": account.reduction_grams,
                    "frozen": account.frozen, "created_at": _t(account.created_at)},
        "household": None if membership is None else {
            "id": membership.household_id, "name": membership.household.name,
            "address": membership.household.address, "district": membership.household.district.code,
            "role": membership.role.value, "joined_at": _t(membership.joined_at)},
        "bindings": [
            {"id": b.id, "kind": b.kind.value, "last4": b.last4, "status": b.status.value, "partner": partner,
             "created_at": _t(b.created_at), "revoked_at": _t(b.revoked_at)}
            for b, partner in rows("bindings", sa.select(Binding, Partner.name)
                                   .outerjoin(Partner, Partner.id == Binding.proposed_by_partner_id)
                                   .where(Binding.account_id == account.id).order_by(Binding.id.desc()))],
        "binding_codes": [
            {"id": c.id, "created_at": _t(c.created_at), "expires_at": _t(c.expires_at), "used_at": _t(c.used_at)}
            for (c,) in rows("binding_codes", sa.select(BindingCode).where(BindingCode.account_id == account.id)
                             .order_by(BindingCode.id.desc()))],
        "authorisations": [
            {"id": a.id, "partner": partner, "scenario": a.scenario, "created_at": _t(a.created_at),
             "revoked_at": _t(a.revoked_at)}
            for a, partner in rows("authorisations", sa.select(Authorisation, Partner.name)
                                   .join(Partner, Partner.id == Authorisation.partner_id)
                                   .where(Authorisation.account_id == account.id)
                                   .order_by(Authorisation.id.desc()))],
        "actions": [
            {"id": a.id, "scenario": a.scenario, "channel": a.channel, "status": a.status.value,
             "reason": a.reason, "detail": a.detail, "district": a.district, "occurred_at": _t(a.occurred_at),
             "received_at": _t(a.received_at), "inputs": a.inputs, "grams": a.grams, "points": a.points,
             "review_note": a.review_note, "receipt": a.receipt, "evidence": photos.pop(a.id, [])}
            for (a,) in rows("actions", sa.select(Action).where(Action.account_id == account.id)
                             .order_by(Action.id.desc()))],
        "unattached_evidence": [p for group in photos.values() for p in group],
        "vouchers": [
            {"id": v.id, "reward_name_zh": v.reward.name_zh, "reward_name_en": v.reward.name_en,
             "merchant": v.reward.merchant.name, "points": v.points, "face_value_fen": v.face_value_fen,
             "status": v.status.value, "issued_at": _t(v.issued_at), "expires_at": _t(v.expires_at),
             "consumed_at": _t(v.consumed_at), "closed_at": _t(v.closed_at), "refunded_points": v.refunded_points}
            for (v,) in rows("vouchers", sa.select(Voucher).where(Voucher.account_id == account.id)
                             .order_by(Voucher.id.desc()))],
        "points_history": [
            {"journal_id": j.id, "kind": j.kind.value, "points": int(p), "grams": int(g), "scenario": j.scenario,
             "memo": j.memo, "created_at": _t(j.created_at)}
            for j, p, g in rows("points_history", sa.select(Journal, points, grams)
                                .join(LedgerEntry, LedgerEntry.journal_id == Journal.id)
                                .where(LedgerEntry.account_id == account.id)
                                .group_by(Journal.id).order_by(Journal.id.desc()))],
        "point_lots": [
            {"id": lot.id, "points": lot.points, "remaining": lot.remaining, "earned_at": _t(lot.earned_at),
             "release_at": _t(lot.release_at), "released_at": _t(lot.released_at), "expires_at": _t(lot.expires_at)}
            for (lot,) in rows("point_lots", sa.select(PointLot).where(PointLot.account_id == account.id)
                               .order_by(PointLot.id.desc()))],
        "adjustments": [
            {"id": r.id, "points": r.points, "reason": r.reason, "status": r.status.value,
             "requested_at": _t(r.requested_at), "decided_at": _t(r.decided_at), "note": r.decision_note}
            for (r,) in rows("adjustments", sa.select(AdjustmentRequest)
                             .where(AdjustmentRequest.account_id == account.id)
                             .order_by(AdjustmentRequest.id.desc()))],
        "sessions": [
            {"started_at": _t(started), "last_refreshed_at": _t(last), "expires_at": _t(expires),
             "active": revoked < tokens and expires > now}
            for started, last, expires, revoked, tokens in sessions],
        "login_codes": [
            {"sent_at": _t(c.created_at), "expires_at": _t(c.expires_at), "used_at": _t(c.consumed_at),
             "wrong_tries": c.attempts}
            for (c,) in rows("login_codes", sa.select(LoginCode)
                             .where(LoginCode.phone == resident.phone, LoginCode.audience == Audience.RESIDENT)
                             .order_by(LoginCode.id.desc()))],
    }
    document["truncated"] = truncated
    document["limits"] = {"rows_per_list": MAX_ROWS}
    return document


# -- erasure -------------------------------------------------------------------------------------------


class DeletionBlocked(Conflict):
    code, message = "deletion_blocked", "The account cannot be deleted yet."


#: Why a deletion must wait, each something the resident (or a reviewer) can finish.
HEAD_WITH_MEMBERS = "household_head_with_members"  # hand the headship over first: the household is theirs too
ACTIONS_UNDER_REVIEW = "actions_under_review"  # a reviewer's decision would credit a closed account
ADJUSTMENT_PENDING = "adjustment_pending"  # an administrator's correction is awaiting its second approver
ACCOUNT_FROZEN = "account_frozen"  # frozen while a suspected abuse is looked into: the records are evidence


def deletion_blockers(resident: Resident) -> list[str]:
    """Why ``delete_resident`` would refuse now (empty: it can go ahead)."""
    reasons = []
    membership = households.membership_of(resident)
    if membership is not None and membership.role == MemberRole.HEAD and len(membership.household.memberships) > 1:
        reasons.append(HEAD_WITH_MEMBERS)
    account_id = resident.account_id
    if db.session.execute(sa.select(Action.id).where(Action.account_id == account_id,
                                                     Action.status == ActionStatus.REVIEW).limit(1)).first():
        reasons.append(ACTIONS_UNDER_REVIEW)
    if db.session.execute(sa.select(AdjustmentRequest.id).where(
            AdjustmentRequest.account_id == account_id,
            AdjustmentRequest.status == AdjustmentStatus.PENDING).limit(1)).first():
        reasons.append(ADJUSTMENT_PENDING)
    if resident.account.frozen:
        reasons.append(ACCOUNT_FROZEN)
    return reasons


@dataclass
class Deletion:
    """What a deletion did; ``files`` are the photos to remove from storage once it has committed."""

    resident_id: int
    vouchers_cancelled: int = 0
    points_cancelled: int = 0
    files: list[str] = field(default_factory=list)


def delete_resident(resident: Resident, now: datetime | None = None) -> Deletion:
    """Close the resident's account and erase their personal data, in the caller's transaction.

    Raises ``DeletionBlocked`` (nothing written) while something must finish first. Then: open vouchers are
    cancelled (refunded, restocked, as a cancellation always is) and ones past their expiry closed as the
    expiry job would; the points left are cancelled by a ``close`` journal; the account is closed and frozen
    so nothing credits it again; the phone, names and district, bindings (and their hashes), authorisations,
    binding codes, login codes, household membership and photos go; every token is revoked. Journals, entries,
    actions and their receipts stay, holding no personal data, so the city's totals stay true."""
    now = utc_or_now(now)
    account = ledger.lock_account(resident.account_id)  # first, as every ledger path does: no race with a spend
    reasons = deletion_blockers(resident)
    if reasons:
        raise DeletionBlocked("finish these first: " + ", ".join(reasons), reasons=reasons)
    done = Deletion(resident.id)
    for voucher in db.session.execute(sa.select(Voucher).where(Voucher.account_id == account.id,
                                                               Voucher.status == VoucherStatus.ISSUED)
                                      .order_by(Voucher.id)).scalars().all():
        if voucher.expires_at > now:
            try:
                vouchers.cancel(voucher, reason="account deleted", now=now)
            except Conflict as exc:  # consumed at a till meanwhile: its guarded transition won, nothing written
                if exc.code != "voucher_not_open":
                    raise
                continue
            done.vouchers_cancelled += 1
        else:
            vouchers.expire(voucher, now)
    closing = ledger.close(account.id, idempotency_key=f"close:{account.id}", reason="account deleted", now=now)
    if closing is not None:
        done.points_cancelled = int(db.session.execute(
            sa.select(sa.func.sum(LedgerEntry.amount))
            .where(LedgerEntry.journal_id == closing.id, LedgerEntry.book == Book.EXPIRED)).scalar_one())
    account.closed_at, account.frozen = now, True

    membership = households.membership_of(resident)
    if membership is not None:
        households.leave(resident)  # a head with members was refused above
    # Open invitations they issued, or meant for their phone: revoked, and the phone forgotten.
    db.session.execute(sa.update(HouseholdInvitation)
                       .where(sa.or_(HouseholdInvitation.phone == resident.phone,
                                     HouseholdInvitation.invited_by_id == resident.id),
                              HouseholdInvitation.accepted_at.is_(None))
                       .values(revoked_at=sa.func.coalesce(HouseholdInvitation.revoked_at, now)))
    db.session.execute(sa.update(HouseholdInvitation).where(HouseholdInvitation.phone == resident.phone)
                       .values(phone=None))
    photos = db.session.execute(sa.select(Evidence).where(Evidence.account_id == account.id)).scalars().all()
    for photo in photos:
        done.files += [evidence.path_of(photo), evidence.path_of(photo, thumbnail=True)]
    for model in (Evidence, Binding, BindingCode, Authorisation):
        db.session.execute(sa.delete(model).where(model.account_id == account.id))
    db.session.execute(sa.delete(LoginCode).where(LoginCode.phone == resident.phone,
                                                  LoginCode.audience == Audience.RESIDENT))
    auth.revoke_all(Audience.RESIDENT, resident.id)
    resident.phone = tombstone_phone(resident.id)
    resident.display_name, resident.real_name, resident.district = DELETED_NAME, None, None
    resident.last_login_at, resident.deleted_at = None, now
    db.session.flush()
    audit.record(audit.Actor("resident", resident.id, ""), "resident.delete", resident,
                 vouchers_cancelled=done.vouchers_cancelled, points_cancelled=done.points_cancelled,
                 photos=len(photos))
    return done


def remove_files(paths: list[str]) -> None:
    """Delete the photos of a committed deletion (after the commit: a rolled-back one keeps its photos)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
