"""Stored rulebook versions: publishing one, and finding (compiled, cached) the one in force."""

from __future__ import annotations

import difflib
import functools
import threading
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
import yaml
from sqlalchemy import orm

from carbon_platform.clock import as_utc, utcnow
from carbon_platform.errors import Conflict, Forbidden, InvalidInput
from carbon_platform.extensions import db
from carbon_platform.models import COUNTED, Action, CarbonAccount, RulebookStatus, RulebookVersion
from carbon_platform.services import audit
from carbon_platform.services import budgets as campaign_budgets
from points_rules import Action as Simulated
from points_rules import CampaignStops, Facts, Rulebook, RulebookError, load_rulebook, parse_yaml


class NoRulebookInForce(Conflict):
    code, message = "no_rulebook", "No published rulebook is in force."


class InForce(NamedTuple):
    """The id of the published version in force and its compiled rulebook."""

    version_id: int
    rulebook: Rulebook


#: Compiled rulebooks by version. Published versions never change, so a version's identity is the key (with
#: its creation time, because a test database reuses ids).
_compiled: dict[tuple, Rulebook] = {}
#: One compilation at a time: threads that miss together wait for the first instead of all compiling (CPython
#: 3.11's parser is not safe to run from many threads at once: "AST constructor recursion depth mismatch").
_compiling = threading.Lock()


def compiled(version: RulebookVersion) -> Rulebook:
    """The rulebook of a stored version, compiled once per process (its document is read only then)."""
    key = (version.id, version.rulebook, version.version, version.created_at)
    rulebook = _compiled.get(key)
    if rulebook is None:
        with _compiling:
            rulebook = _compiled.get(key)
            if rulebook is None:
                if len(_compiled) > 64:
                    _compiled.clear()
                rulebook = _compiled[key] = load_rulebook(version.document)
    return rulebook


def compiled_by_id(version_id: int) -> Rulebook:
    """The rulebook of the stored version ``version_id`` (the one that judged an action, say)."""
    return compiled(db.session.get(RulebookVersion, version_id))


def publish(document: dict[str, Any], *, effective_from: datetime, actor: audit.Actor) -> RulebookVersion:
    """Validate and store a version that takes effect at ``effective_from`` (now, or scheduled)."""
    try:
        rulebook = load_rulebook(document)
    except RulebookError as exc:
        raise InvalidInput("the rulebook is not valid", errors=exc.describe()) from None
    exists = db.session.execute(
        sa.select(RulebookVersion.id).where(RulebookVersion.rulebook == rulebook.id,
                                            RulebookVersion.version == rulebook.version)
    ).first()
    if exists:
        raise Conflict(f"version {rulebook.version} of {rulebook.id} exists; give the change a new version")
    version = RulebookVersion(rulebook=rulebook.id, version=rulebook.version, document=document,
                              status=RulebookStatus.PUBLISHED, effective_from=effective_from)
    db.session.add(version)
    db.session.flush()
    audit.record(actor, "rulebook.publish", version, rulebook=rulebook.id, version=rulebook.version,
                 effective_from=effective_from.isoformat())
    return version


def rules_in_force(at: datetime) -> InForce:
    """The published version with the latest effective_from not after ``at``: its id and compiled rules.

    The one lookup of the rules in force. One small query: the version's document is deferred, and read only
    when this process has not compiled the version yet."""
    version = db.session.execute(_in_force_at(), {"at": at}).scalar()
    if version is None:
        raise NoRulebookInForce()
    return InForce(version.id, compiled(version))


@functools.cache
def _in_force_at() -> sa.Select:
    """``rules_in_force``'s statement, built once per process (every award reads it); its parameter is ``at``."""
    return (sa.select(RulebookVersion).options(orm.defer(RulebookVersion.document))
            .where(RulebookVersion.status == RulebookStatus.PUBLISHED,
                   RulebookVersion.effective_from <= sa.bindparam("at", type_=RulebookVersion.effective_from.type))
            .order_by(RulebookVersion.effective_from.desc(), RulebookVersion.id.desc())
            .limit(1))


class AwardingRules(NamedTuple):
    """What awarding needs of the rules: the version in force and the campaigns stopped early."""

    in_force: InForce
    stops: CampaignStops


def awarding_rules(at: datetime) -> AwardingRules:
    """``rules_in_force(at)`` and the campaigns administrators have paused or ended early."""
    return AwardingRules(rules_in_force(at), campaign_budgets.stops())


def in_force(at: datetime) -> tuple[RulebookVersion, Rulebook]:
    """``rules_in_force`` with the version's row, for the console."""
    version_id, rulebook = rules_in_force(at)
    return db.session.get(RulebookVersion, version_id), rulebook


# -- drafts, review and publishing from the console (dual control) ------------------------------------


class RulebookInvalid(InvalidInput):
    """A draft that does not validate: ``problems`` lists (line or None, path, message) for the editor."""

    code = "rulebook_invalid"

    def __init__(self, error: RulebookError):
        self.problems = [(error.line_of(path), path, message) for path, message in error.errors]
        super().__init__("the rulebook is not valid", errors=error.describe())


class SelfApproval(Forbidden):
    code = "self_approval"


def parse_source(source: str) -> tuple[dict[str, Any], Rulebook]:
    """The YAML text as a document and its compiled rulebook; RulebookInvalid names every problem's line."""
    try:
        document, lines = parse_yaml(source)
        return document, load_rulebook(document, lines)
    except RulebookError as exc:
        raise RulebookInvalid(exc) from None


def source_of(version: RulebookVersion) -> str:
    """What the editor shows: the author's YAML, or for a seeded version its document written as YAML."""
    return version.source if version.source is not None else yaml_of(version.document)


def yaml_of(document: dict[str, Any]) -> str:
    """A stored (JSON) document written as YAML, keys in their order."""
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)


def save_draft(source: str, *, admin_id: int, actor: audit.Actor, note: str = "",
               draft: RulebookVersion | None = None, based_on_id: int | None = None) -> RulebookVersion:
    """Create a draft, or change one that is still a draft. Only a valid rulebook is saved.

    A new draft records ``based_on_id``, the published version its text was taken from (None: there was
    none); approving it later is refused if another version has been published since (``StaleDraft``).
    A changed draft keeps the base it was made from.
    """
    if draft is not None and draft.status is not RulebookStatus.DRAFT:
        raise Conflict(f"version {draft.version} is {draft.status.value}; only a draft can change",
                       code="not_a_draft")
    document, rulebook = parse_source(source)
    clash = db.session.execute(
        sa.select(RulebookVersion.id).where(RulebookVersion.rulebook == rulebook.id,
                                            RulebookVersion.version == rulebook.version,
                                            RulebookVersion.id != (draft.id if draft else -1))
    ).first()
    if clash:
        raise Conflict(f"version {rulebook.version} of {rulebook.id} exists; give the change a new version",
                       code="version_exists")
    if draft is None:
        published = sa.select(RulebookVersion.id).where(RulebookVersion.id == based_on_id,
                                                        RulebookVersion.status == RulebookStatus.PUBLISHED)
        if based_on_id is not None and db.session.execute(published).first() is None:
            raise InvalidInput("a draft is based on a published version", code="invalid_base", field="based_on_id")
        draft = RulebookVersion(status=RulebookStatus.DRAFT, created_by_id=admin_id, based_on_id=based_on_id)
        db.session.add(draft)
    draft.rulebook, draft.version, draft.document, draft.source = rulebook.id, rulebook.version, document, source
    draft.note = note.strip()[:500]
    db.session.flush()
    audit.record(actor, "rulebook.draft", draft, rulebook=rulebook.id, version=rulebook.version)
    return draft


def submit(draft: RulebookVersion, *, effective_from: datetime, admin_id: int, actor: audit.Actor,
           now: datetime | None = None) -> RulebookVersion:
    """Ask a second administrator to publish the draft, to take effect at ``effective_from`` (now or later)."""
    now = utcnow() if now is None else now
    if draft.status is not RulebookStatus.DRAFT:
        raise Conflict(f"version {draft.version} is {draft.status.value}", code="not_a_draft")
    parse_source(source_of(draft))  # still valid (the schema may have moved on since it was saved)
    effective_from = max(as_utc(effective_from), now)
    check_base(draft, effective_from)  # refused now rather than at approval: the author can redo it at once
    draft.status, draft.submitted_by_id, draft.submitted_at = RulebookStatus.PENDING, admin_id, now
    draft.effective_from = effective_from
    draft.decided_by_id = draft.decided_at = draft.decision_note = None
    audit.record(actor, "rulebook.submit", draft, version=draft.version,
                 effective_from=draft.effective_from.isoformat())
    return draft


def decide(version: RulebookVersion, *, approve: bool, admin_id: int, actor: audit.Actor, note: str = "",
           now: datetime | None = None) -> RulebookVersion:
    """The second administrator's decision. Approving publishes (scheduled if effective_from is later);
    rejecting sends it back to draft with the note. Nobody decides their own submission."""
    now = utcnow() if now is None else now
    # Locked and re-read: two approvers of the same submission, or of two drafts of one base, take turns.
    db.session.execute(sa.select(RulebookVersion).where(RulebookVersion.id == version.id).with_for_update()
                       .execution_options(populate_existing=True))
    if version.status is not RulebookStatus.PENDING:
        raise Conflict(f"version {version.version} is {version.status.value}, not awaiting a decision",
                       code="not_pending")
    if admin_id == version.submitted_by_id:
        raise SelfApproval("a second administrator must decide; you submitted this version")
    if not approve and not note.strip():
        raise InvalidInput("say why it is rejected", code="reason_required", field="note")
    if approve:  # checked before anything changes: a refusal leaves the submission exactly as it was
        effective_from = max(version.effective_from or now, now)
        check_base(version, effective_from, lock=True)
    version.decided_by_id, version.decided_at, version.decision_note = admin_id, now, note.strip()[:500] or None
    if approve:
        version.status = RulebookStatus.PUBLISHED
        version.effective_from = effective_from
        audit.record(actor, "rulebook.publish", version, rulebook=version.rulebook, version=version.version,
                     effective_from=version.effective_from.isoformat(), submitted_by=version.submitted_by_id)
    else:
        version.status = RulebookStatus.DRAFT
        audit.record(actor, "rulebook.reject", version, version=version.version, note=version.decision_note)
    return version


class StaleDraft(Conflict):
    """The draft was made from a version that is no longer the latest published one: publishing it
    would silently undo what was published since. The author makes a new draft from the latest."""

    code = "rulebook_draft_stale"


def latest_published() -> RulebookVersion | None:
    """The published version with the latest effective_from (in force now, or scheduled): what a new
    draft must be based on for its approval to lose nothing."""
    return db.session.execute(
        sa.select(RulebookVersion).where(RulebookVersion.status == RulebookStatus.PUBLISHED)
        .order_by(RulebookVersion.effective_from.desc(), RulebookVersion.id.desc()).limit(1)
    ).scalar_one_or_none()


def check_base(draft: RulebookVersion, effective_from: datetime, *, lock: bool = False) -> None:
    """Refuse to publish ``draft`` at ``effective_from`` unless its base is the latest published version
    and it takes over only after its base has taken effect.

    A draft without a recorded base (saved before bases were recorded) is stale whenever any version is
    published: what it was made from is unknown, and guessing could undo a newer version.
    ``lock``: hold the base's row until the commit, so two drafts of one base cannot both be approved
    (the second approver's check then sees the first's version).
    """
    if lock and draft.based_on_id is not None:
        db.session.execute(sa.select(RulebookVersion.id).where(RulebookVersion.id == draft.based_on_id)
                           .with_for_update())
    latest = latest_published()
    if latest is None or latest.id == draft.based_on_id:
        if latest is not None and latest.effective_from and effective_from < as_utc(latest.effective_from):
            raise StaleDraft(
                f"version {draft.version} would take effect before {latest.version}, the version it is based on "
                f"(from {as_utc(latest.effective_from).isoformat()}); submit it again with a later time",
                code="rulebook_draft_early", base=latest.version,
                base_effective_from=as_utc(latest.effective_from).isoformat())
        return
    base = db.session.get(RulebookVersion, draft.based_on_id) if draft.based_on_id is not None else None
    raise StaleDraft(
        f"version {draft.version} was made from {base.version if base else 'an unknown version'}; "
        f"{latest.version} has been published since. Make a new draft from {latest.version}",
        base=base.version if base else None, latest=latest.version)


def diff(base: RulebookVersion | None, other: RulebookVersion) -> list[str]:
    """A unified diff of the YAML: what the other version changes."""
    before = source_of(base).splitlines() if base else []
    return list(difflib.unified_diff(before, source_of(other).splitlines(),
                                     f"{base.version if base else '(none)'}", other.version, lineterm=""))


def recorded_actions(days: int, *, now: datetime | None = None, shift_to: datetime | None = None) -> list:
    """The last ``days`` of actions the platform counted, as simulation input.

    ``shift_to`` replays them as if the period had started then (to try a campaign whose window is
    still ahead on the behaviour of the last weeks).
    """
    now = utcnow() if now is None else now
    start = now - timedelta(days=days)
    shift = (as_utc(shift_to) - start) if shift_to else timedelta(0)
    rows = db.session.execute(
        sa.select(Action, CarbonAccount.kind).join(CarbonAccount, CarbonAccount.id == Action.account_id)
        .where(Action.status.in_(COUNTED), Action.occurred_at >= start, Action.occurred_at < now)
        .order_by(Action.occurred_at, Action.id)
    ).all()
    return [
        Simulated(
            account=str(action.account_id),
            household=str(action.household_account_id) if action.household_account_id else None,
            facts=Facts(action.scenario, action.inputs or {}, kind.value, action.occurred_at + shift,
                        channel=action.channel, district=action.district,
                        in_household=action.household_account_id is not None,
                        received_at=action.received_at + shift,
                        fact_id=action.natural_key.split(":", 1)[1] if action.natural_key else None),
        )
        for action, kind in rows
    ]
