"""Structured rulebook changes: a factor's new value (with its source, year and validity), a scenario's cap
limit, or what one of a scenario's channels trusts (photos, bounds on the report alone, review), as a draft of
the latest published version, its YAML edited only where that is; the draft then goes through the same review
and dual-control approval as one written in the YAML editor."""

from __future__ import annotations

import copy

import sqlalchemy as sa
import yaml
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.blueprint import blueprint, on_refusal
from admin.choices import english
from admin.forms import CapChangeForm, FactorChangeForm, TrustChangeForm
from admin.labels import channel_name
from admin.paging import whole_number
from admin.permissions import current_admin, requires
from admin.views.scenarios import trust_words
from carbon_platform.clock import CITY_TZ, utcnow
from carbon_platform.extensions import db
from carbon_platform.models import RulebookVersion
from carbon_platform.services import audit, rulebook_edits, rulebooks


def proposed_version(base: RulebookVersion | None) -> str:
    """The name a new draft is offered: the next ``YEAR.N`` after the latest published one, not yet taken."""
    taken = set(db.session.execute(sa.select(RulebookVersion.version)).scalars())
    return rulebook_edits.next_version(base.version if base else None, taken, utcnow().astimezone(CITY_TZ).year)


def _choices(base: RulebookVersion | None) -> list[tuple[str, str]]:
    if base is None:
        return []
    return [(fid, f"{fid} — {item['value']} {item['unit']}")  # the table above the form gives each source
            for fid, item in rulebook_edits.factor_versions(base.document).items()]


def _page(form: FactorChangeForm, base: RulebookVersion | None, status: int = 200):
    current = rulebook_edits.factor_versions(base.document) if base else {}
    return render_template("admin/rulebooks/factor.html", form=form, base=base, current=current), status


def _form(base: RulebookVersion | None, **data) -> FactorChangeForm:
    form = FactorChangeForm(**data)
    form.factor.choices = _choices(base)
    return form


def _base_of(form: FactorChangeForm | None = None) -> RulebookVersion | None:
    base_id = whole_number(form.based_on.data or "") if form is not None else None
    return db.session.get(RulebookVersion, base_id) if base_id else rulebooks.latest_published()


@blueprint.get("/rulebooks/factor")
@requires("rules.manage")
def change_factor_form():
    base = rulebooks.latest_published()
    form = _form(base, formdata=None, version=proposed_version(base), based_on=str(base.id) if base else "",
                 year=utcnow().astimezone(CITY_TZ).year)
    return _page(form, base)


def _not_ready(form, base: RulebookVersion | None, page):
    """The form again (400) when no version is published to base a draft on, or the form does not validate."""
    if base is None:
        flash(_("还没有已发布的规则版本"), "error")
        return page(form, base, 400)
    if not form.validate_on_submit():
        return page(form, base, 400)
    return None


def _refused_page():
    form = FactorChangeForm()
    base = _base_of(form)
    form.factor.choices = _choices(base)
    return _page(form, base)


@blueprint.post("/rulebooks/factor")
@requires("rules.manage")
@on_refusal(_refused_page)
def change_factor():
    probe = FactorChangeForm()
    base = _base_of(probe)
    form = _form(base)
    if (again := _not_ready(form, base, _page)) is not None:
        return again
    change = rulebook_edits.FactorChange(form.factor.data, form.value.data, form.source.data, form.year.data,
                                         form.published.data, form.valid_from.data)
    before = rulebooks.source_of(base)
    after = rulebook_edits.with_version(rulebook_edits.with_factor(before, change), form.version.data.strip())
    document, _rulebook = rulebooks.parse_source(after)  # a refusal names each problem (on_refusal shows them)
    rulebook_edits.only_changed(base.document, document, ("factors", "version"))
    note = form.note.data or _("排放因子 %(f)s 自 %(d)s 起为 %(v)s", f=change.factor_id,
                               d=change.valid_from.isoformat(), v=format(change.value.normalize(), "f"))
    saved = rulebooks.save_draft(after, admin_id=current_admin().id, actor=audit.Actor.admin(current_admin()),
                                 note=note, based_on_id=base.id)
    flash(_("草稿已保存：请核对下方与现行版本的差异，再提交审批"), "success")
    return redirect(url_for("admin.rulebook_version", version_id=saved.id))


# -- a scenario's cap -------------------------------------------------------------------------------


def _cap_label(scenario_id: str, cap: dict, scenario: dict) -> str:
    periods = {"day": _("每天"), "week": _("每周"), "month": _("每月"), "year": _("每年"), "ever": _("累计")}
    units = {"count": _("次"), "grams": _("克"), "points": _("积分")}
    scopes = {"account": _("每个账户"), "household": _("每户")}
    name = scenario.get("name_en" if english() else "name_zh") or scenario_id
    return (f"{name} ({scenario_id}) — {cap['limit']} {units.get(cap['unit'], cap['unit'])} · "
            f"{periods.get(cap['per'], cap['per'])} · {scopes.get(cap.get('scope', 'account'), '')}")


def _cap_form(base: RulebookVersion | None, **data) -> CapChangeForm:
    form = CapChangeForm(**data)
    form.cap.choices = [(f"{sid}:{index}", _cap_label(sid, cap, scenario))
                        for sid, index, cap, scenario in rulebook_edits.caps(base.document)] if base else []
    return form


def _cap_page(form: CapChangeForm, base: RulebookVersion | None, status: int = 200):
    return render_template("admin/rulebooks/cap.html", form=form, base=base), status


@blueprint.get("/rulebooks/cap")
@requires("rules.manage")
def change_cap_form():
    base = rulebooks.latest_published()
    form = _cap_form(base, formdata=None, version=proposed_version(base), based_on=str(base.id) if base else "")
    return _cap_page(form, base)


def _refused_cap_page():
    base = _base_of(CapChangeForm())
    return _cap_page(_cap_form(base), base)


@blueprint.post("/rulebooks/cap")
@requires("rules.manage")
@on_refusal(_refused_cap_page)
def change_cap():
    base = _base_of(CapChangeForm())
    form = _cap_form(base)
    if (again := _not_ready(form, base, _cap_page)) is not None:
        return again
    scenario_id, index = form.cap.data.rsplit(":", 1)
    before = rulebooks.source_of(base)
    after = rulebook_edits.with_version(rulebook_edits.with_cap_limit(before, scenario_id, int(index), form.limit.data),
                                        form.version.data.strip())
    document, _rulebook = rulebooks.parse_source(after)
    expected = copy.deepcopy(base.document)
    expected["version"] = document["version"]
    scenario = next(s for s in expected["scenarios"] if s["id"] == scenario_id)
    scenario["caps"][int(index)]["limit"] = form.limit.data
    if document != expected:  # the text edit must have changed that number and nothing else
        raise rulebook_edits.EditRefused("the edit changed more than it should", code="edit_unplaceable")
    note = form.note.data or _("%(s)s 的上限改为 %(n)s", s=scenario_id, n=form.limit.data)
    saved = rulebooks.save_draft(after, admin_id=current_admin().id, actor=audit.Actor.admin(current_admin()),
                                 note=note, based_on_id=base.id)
    flash(_("草稿已保存：请核对下方与现行版本的差异，再提交审批"), "success")
    return redirect(url_for("admin.rulebook_version", version_id=saved.id))


# -- what a channel of a scenario trusts --------------------------------------------------------------------------


def _rule_name(scenario: dict, channel: str) -> str:
    return f"{scenario.get('name_en' if english() else 'name_zh') or scenario['id']} · {channel_name(channel)}"


def _trust_page(base: RulebookVersion | None, rule: str | None, form: TrustChangeForm | None = None,
                status: int = 200):
    """The picker of every scenario's channels, each with its rule in words, and the form for the chosen one."""
    rulebook = rulebooks.compiled(base) if base else None
    listed = [(f"{sid}|{channel}", _rule_name(scenario, channel),
               trust_words(rulebook.scenarios[sid].trust[channel], rulebook.scenarios[sid]))
              for sid, channel, _rule, scenario in rulebook_edits.trust_rules(base.document)] if base else []
    chosen = next((item for item in listed if item[0] == rule), None)
    return render_template("admin/rulebooks/trust.html", base=base, listed=listed, chosen=chosen, form=form), status


def _trust_form_class(base: RulebookVersion, rule: str) -> type[TrustChangeForm]:
    """The form for ``scenario|channel`` in ``base``, a bound field per input; 404 for a rule the base lacks."""
    scenario_id, _bar, channel = rule.partition("|")
    scenario = rulebooks.compiled(base).scenarios.get(scenario_id)
    if scenario is None or channel not in scenario.trust:
        abort(404)
    inputs = [(spec.name, (spec.label_en if english() else spec.label_zh) or spec.name, spec.unit, spec.max)
              for spec in scenario.inputs]
    return TrustChangeForm.for_inputs(inputs, app_channel=channel == "app")


@blueprint.get("/rulebooks/trust")
@requires("rules.manage")
def change_trust_form():
    base = rulebooks.latest_published()
    rule = request.args.get("rule") or None
    if base is None or rule is None:
        return _trust_page(base, None)
    scenario_id, _bar, channel = rule.partition("|")
    trust = _trust_form_class(base, rule)  # 404 first, for a rule the base does not have
    current = rulebooks.compiled(base).scenarios[scenario_id].trust[channel]
    form = trust(formdata=None, rule=rule, version=proposed_version(base), based_on=str(base.id),
                 evidence=current.evidence, review="always" if current.review_always else "beyond_bounds",
                 count_per_day=current.count_per_day,
                 **{f"bound_{name}": limit for name, limit in current.input_bounds})
    return _trust_page(base, rule, form)


def _posted_trust() -> tuple[RulebookVersion | None, TrustChangeForm]:
    probe = TrustChangeForm()
    base = _base_of(probe)
    if base is None:
        return None, probe
    return base, _trust_form_class(base, probe.rule.data or "")()


def _refused_trust_page():
    base, form = _posted_trust()
    return _trust_page(base, form.rule.data, form)


@blueprint.post("/rulebooks/trust")
@requires("rules.manage")
@on_refusal(_refused_trust_page)
def change_trust():
    base, form = _posted_trust()
    if (again := _not_ready(form, base, lambda f, b, status: _trust_page(b, f.rule.data, f, status))) is not None:
        return again
    scenario_id, _bar, channel = form.rule.data.partition("|")
    rule = form.rule_value()
    before = rulebooks.source_of(base)
    after = rulebook_edits.with_version(rulebook_edits.with_trust(before, scenario_id, channel, rule),
                                        form.version.data.strip())
    document, drafted = rulebooks.parse_source(after)
    expected = copy.deepcopy(base.document)
    expected["version"] = document["version"]
    scenario = next(s for s in expected["scenarios"] if s["id"] == scenario_id)
    scenario["trust"][channel] = yaml.safe_load(rulebook_edits.trust_text(rule))
    if document != expected:  # the text edit must have changed that rule and nothing else
        raise rulebook_edits.EditRefused("the edit changed more than it should", code="edit_unplaceable")
    changed = drafted.scenarios[scenario_id]
    note = form.note.data or _("%(rule)s 改为：%(words)s", rule=_rule_name(scenario, channel),
                               words=trust_words(changed.trust[channel], changed))
    saved = rulebooks.save_draft(after, admin_id=current_admin().id, actor=audit.Actor.admin(current_admin()),
                                 note=note, based_on_id=base.id)
    flash(_("草稿已保存：请核对下方与现行版本的差异，再提交审批"), "success")
    return redirect(url_for("admin.rulebook_version", version_id=saved.id))
