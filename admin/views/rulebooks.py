"""Rulebook versions: edit as YAML (errors shown at their line), diff and what-if against the version in
force, submit for a second administrator's approval, and publish now or at a scheduled time."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.blueprint import blueprint, on_refusal
from admin.forms import DecisionForm, RulebookForm, SubmitForm
from admin.messages import problem_words
from admin.paging import paginate, whole_number
from admin.permissions import current_admin, requires
from admin.views.rulebook_forms import proposed_version
from carbon_platform.clock import CITY_TZ, as_utc, utcnow
from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AuditEvent, RulebookStatus, RulebookVersion
from carbon_platform.services import audit, campaigns, rulebook_edits, rulebooks
from points_rules import compare

WHAT_IF_DAYS = (30, 90)


def _actor() -> audit.Actor:
    return audit.Actor.admin(current_admin())


def _version(version_id: int) -> RulebookVersion:
    version = db.session.get(RulebookVersion, version_id)
    if version is None:
        abort(404)
    return version


def _active() -> RulebookVersion | None:
    try:
        return rulebooks.in_force(utcnow())[0]
    except rulebooks.NoRulebookInForce:
        return None


def listing_lines(source: str, problems: list[tuple[int | None, str, str]]) -> list[tuple[int, str, list[str]]]:
    """(line number, text, messages) for every line of the YAML: the editor shows each problem at its line."""
    at: dict[int, list[str]] = defaultdict(list)
    for line, path, message in problems:
        at[line or 1].append(f"{path}: {message}")
    return [(n, text, at.get(n, [])) for n, text in enumerate(source.splitlines() or [""], start=1)]


@blueprint.get("/rulebooks")
@requires("rules.view")
def rulebook_versions():
    listing = paginate(sa.select(RulebookVersion).order_by(RulebookVersion.id.desc()))
    versions = listing.items
    names = dict(db.session.execute(sa.select(Administrator.id, Administrator.username)).all())
    active = _active()
    return render_template("admin/rulebooks/list.html", versions=versions, names=names, listing=listing, filters={},
                           active_id=active.id if active else None, now=utcnow())


def _editor(form: RulebookForm, *, draft: RulebookVersion | None, problems=(), status: int = 200):
    base_id = draft.based_on_id if draft else whole_number(form.based_on.data or "")
    base = db.session.get(RulebookVersion, base_id) if base_id else None
    return render_template("admin/rulebooks/edit.html", form=form, draft=draft, base=base,
                           lines=listing_lines(form.source.data or "", list(problems)) if problems else None,
                           problems=list(problems)), status


@blueprint.get("/rulebooks/new")
@requires("rules.manage")
def new_rulebook():
    # From the latest published version (a scheduled one, if any): a draft of anything older would be
    # refused at approval, since publishing it would undo the newer one.
    base = rulebooks.latest_published()
    source = rulebooks.source_of(base) if base else ""
    if base:  # the next version name proposed in the text (editable there); only that line changes
        source = rulebook_edits.with_version(source, proposed_version(base))
    form = RulebookForm(formdata=None, source=source, based_on=str(base.id) if base else "")
    return _editor(form, draft=None)


@blueprint.post("/rulebooks/new")
@requires("rules.manage")
@on_refusal(lambda: _editor(RulebookForm(), draft=None))
def create_rulebook():
    return _save(RulebookForm(), draft=None)


@blueprint.post("/rulebooks/<int:version_id>/edit")
@requires("rules.manage")
@on_refusal(lambda version_id: _editor(RulebookForm(), draft=_version(version_id)))
def edit_rulebook(version_id: int):
    return _save(RulebookForm(), draft=_version(version_id))


def _save(form: RulebookForm, *, draft: RulebookVersion | None):
    if not form.validate_on_submit():
        flash(_("规则不能为空"), "error")
        return _editor(form, draft=draft, status=400)
    try:
        saved = rulebooks.save_draft(form.source.data.replace("\r\n", "\n"), admin_id=current_admin().id,
                                     actor=_actor(), note=form.note.data or "", draft=draft,
                                     based_on_id=whole_number(form.based_on.data or ""))
    except rulebooks.RulebookInvalid as exc:  # not a plain refusal: the editor marks each problem at its line
        flash(_("规则有 %(n)s 处问题，已在对应行标出；未保存。", n=len(exc.problems)), "error")
        problems = [(line, path, problem_words(problem)) for line, path, problem in exc.problems]
        return _editor(form, draft=draft, problems=problems, status=400)
    flash(_("草稿已保存"), "success")
    return redirect(url_for("admin.rulebook_version", version_id=saved.id))


@blueprint.get("/rulebooks/<int:version_id>")
@requires("rules.view")
def rulebook_version(version_id: int):
    version, active = _version(version_id), _active()
    what_if, forecasts, replayed_from = None, [], None
    days = request.args.get("what_if", type=int)
    if days is None and version.status is RulebookStatus.PENDING:  # the approver sees it without asking
        days = WHAT_IF_DAYS[0]
    if days in WHAT_IF_DAYS and active is not None and version.id != active.id:
        base, candidate = rulebooks.compiled(active), rulebooks.compiled(version)
        changed = campaigns.changed_campaigns(active, version)
        # A campaign still ahead is tried on the last weeks' behaviour replayed from its start.
        replayed_from = campaigns.replay_start(candidate, changed)
        actions = rulebooks.recorded_actions(days, shift_to=replayed_from)
        what_if = compare(base, candidate, actions)
        if changed:  # its pace: the replay with the changed campaigns running throughout
            start = replayed_from or utcnow() - timedelta(days=days)
            trial = campaigns.widened(version.document, changed, start, start + timedelta(days=days))
            forecasts = campaigns.forecast(compare(base, trial, actions), candidate, changed, days)
    history = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.target_type == RulebookVersion.__tablename__,
                                    AuditEvent.target_id == str(version.id)).order_by(AuditEvent.id)
    ).scalars().all()
    names = dict(db.session.execute(sa.select(Administrator.id, Administrator.username)).all())
    editable = version.status is RulebookStatus.DRAFT
    latest = rulebooks.latest_published()
    # Shown before anyone tries: approving a draft of an older version would be refused.
    stale = (version.status in (RulebookStatus.DRAFT, RulebookStatus.PENDING) and latest is not None
             and version.based_on_id != latest.id)
    form = RulebookForm(formdata=None, source=rulebooks.source_of(version), note=version.note) if editable else None
    return render_template(
        "admin/rulebooks/version.html", version=version, active=active, form=form,
        diff=rulebooks.diff(active, version) if active and active.id != version.id else [],
        what_if=what_if, what_if_days=days, days_choices=WHAT_IF_DAYS, forecasts=forecasts,
        replayed_from=replayed_from, history=history, names=names, latest=latest, stale=stale,
        base=db.session.get(RulebookVersion, version.based_on_id) if version.based_on_id else None,
        submit_form=SubmitForm(), decision_form=DecisionForm(), source=rulebooks.source_of(version),
    )


def _version_page_with_error(version_id: int, message: str, status: int):
    """The version's page again with the message above it: the approver sees why, beside the diff."""
    flash(message, "error")
    return rulebook_version(version_id), status


@blueprint.post("/rulebooks/<int:version_id>/submit")
@requires("rules.manage")
@on_refusal(lambda version_id: rulebook_version(version_id))  # the approver sees why, beside the diff
def submit_rulebook(version_id: int):
    version, form = _version(version_id), SubmitForm()
    if not form.validate_on_submit():
        return _version_page_with_error(version_id, _("生效时间格式不对"), 400)
    when = form.effective_from.data
    effective_from = as_utc(when.replace(tzinfo=CITY_TZ)) if when else utcnow()
    rulebooks.submit(version, effective_from=effective_from, admin_id=current_admin().id, actor=_actor())
    flash(_("已提交，等待另一位管理员批准"), "success")
    return redirect(url_for("admin.rulebook_version", version_id=version_id))


@blueprint.post("/rulebooks/<int:version_id>/<any(approve, reject):decision>")
@requires("rules.manage")
@on_refusal(lambda version_id, decision: rulebook_version(version_id))
def decide_rulebook(version_id: int, decision: str):
    version, form = _version(version_id), DecisionForm()
    if not form.validate_on_submit():
        return _version_page_with_error(version_id, _("表单已过期，请重试"), 400)
    rulebooks.decide(version, approve=decision == "approve", admin_id=current_admin().id, actor=_actor(),
                     note=form.note.data or "")
    flash(_("已发布") if decision == "approve" else _("已驳回，退回草稿"), "success")
    return redirect(url_for("admin.rulebook_version", version_id=version_id))
