"""Campaigns: list with state and live budget burn; create or edit (a rulebook draft, so the what-if and the
second administrator's approval apply); pause, resume and end at once; results."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from admin import choices
from admin.blueprint import blueprint, on_refusal
from admin.forms import CampaignForm, ConfirmForm
from admin.paging import paginate
from admin.permissions import current_admin, requires
from carbon_platform.clock import CITY_TZ, utcnow
from carbon_platform.errors import DomainError
from carbon_platform.services import audit, campaigns, rulebooks


def _actor() -> audit.Actor:
    return audit.Actor.admin(current_admin())


def _campaign_form(rulebook=None, **data) -> CampaignForm:
    """The campaign form with its pick lists: the scenarios of ``rulebook`` (by default the one in force, whose
    next version the campaign drafts), the districts, the account types, each by name. ``data`` fills it
    (editing); without, it reads the request."""
    form = CampaignForm(**data)
    form.scenarios.choices = choices.scenarios(rulebook)
    form.districts.choices = choices.districts()
    form.account_types.choices = choices.account_types()
    return form


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def document_of(form: CampaignForm) -> dict:
    """The campaign as the rulebook document holds it."""

    def moment(value: datetime) -> str:
        return value.replace(tzinfo=CITY_TZ).isoformat()

    target = {key: list(getattr(form, key).data or []) for key in ("scenarios", "districts", "account_types")}
    effects = []
    if form.multiplier.data and form.multiplier.data > 1:
        effects.append({"type": "multiplier", "factor": _number(form.multiplier.data)})
    if form.fixed_bonus.data:
        effects.append({"type": "fixed_bonus", "points": form.fixed_bonus.data})
    if form.first_time_bonus.data:
        effects.append({"type": "first_time_bonus", "points": form.first_time_bonus.data})
    if form.streak_points.data and form.streak_actions.data and form.streak_per.data:
        effects.append({"type": "streak_bonus", "points": form.streak_points.data,
                        "actions": form.streak_actions.data, "per": form.streak_per.data})
    document = {"id": form.id.data, "name_zh": form.name_zh.data, "name_en": form.name_en.data,
                "starts_at": moment(form.starts_at.data), "ends_at": moment(form.ends_at.data),
                "target": {k: v for k, v in target.items() if v}, "effects": effects,
                "budget_points": form.budget_points.data}
    if form.per_participant_points.data:
        document["per_participant_points"] = form.per_participant_points.data
    return document


def _form_for(campaign_id: str) -> CampaignForm:
    version, rulebook = campaigns.current()
    doc = next((c for c in version.document.get("campaigns", []) if c.get("id") == campaign_id), None)
    if doc is None:
        abort(404)
    effects = {e["type"]: e for e in doc.get("effects", [])}
    target = doc.get("target", {})

    def local(text: str) -> datetime:
        return datetime.fromisoformat(text).astimezone(CITY_TZ).replace(tzinfo=None)

    streak = effects.get("streak_bonus", {})
    return _campaign_form(
        rulebook, formdata=None, id=doc["id"], name_zh=doc["name_zh"], name_en=doc["name_en"],
        starts_at=local(doc["starts_at"]), ends_at=local(doc["ends_at"]),
        scenarios=target.get("scenarios", []), districts=target.get("districts", []),
        account_types=target.get("account_types", []),
        multiplier=Decimal(str(effects["multiplier"]["factor"])) if "multiplier" in effects else None,
        fixed_bonus=effects.get("fixed_bonus", {}).get("points"),
        first_time_bonus=effects.get("first_time_bonus", {}).get("points"),
        streak_actions=streak.get("actions"), streak_per=streak.get("per", ""), streak_points=streak.get("points"),
        budget_points=doc["budget_points"], per_participant_points=doc.get("per_participant_points"),
    )


@blueprint.get("/campaigns")
@requires("campaigns.view")
def campaign_list():
    try:
        _version, rulebook = campaigns.current()
    except rulebooks.NoRulebookInForce:
        return render_template("admin/campaigns/list.html", rows=[], listing=paginate([]), filters={},
                               confirm=ConfirmForm())
    controls, spent, now = campaigns.controls(), campaigns.spent(), utcnow()
    listing = paginate([{"campaign": c, "state": campaigns.state(c, controls.get(c.id), now),
                         "spent": spent.get(c.id, 0)} for c in reversed(rulebook.campaigns)])  # newest first
    return render_template("admin/campaigns/list.html", rows=listing.items, listing=listing, filters={},
                           confirm=ConfirmForm())


def _edit_page(form: CampaignForm, *, editing: str | None, status: int = 200):
    return render_template("admin/campaigns/edit.html", form=form, editing=editing), status


@blueprint.get("/campaigns/new")
@requires("campaigns.manage")
def new_campaign():
    return _edit_page(_campaign_form(), editing=None)


@blueprint.get("/campaigns/<campaign_id>/edit")
@requires("campaigns.manage")
def edit_campaign(campaign_id: str):
    return _edit_page(_form_for(campaign_id), editing=campaign_id)


@blueprint.post("/campaigns/new")
@requires("campaigns.manage")
@on_refusal(lambda: _edit_page(_campaign_form(), editing=None))
def draft_campaign():
    form = _campaign_form()
    if not form.validate_on_submit():
        flash(_("请检查活动信息：%(errors)s",
                errors="; ".join(f"{getattr(form, k).label.text}: {', '.join(map(str, v))}"
                                 for k, v in form.errors.items())), "error")
        return _edit_page(form, editing=None, status=400)
    document = document_of(form)
    if not document["effects"]:
        flash(_("至少设置一种奖励（倍数、额外积分、首次奖励或连续挑战）"), "error")
        return _edit_page(form, editing=None, status=400)
    draft = campaigns.draft_with(document, admin_id=current_admin().id, actor=_actor())
    flash(_("已生成规则草稿：先看模拟结果，再提交另一位管理员批准发布"), "success")
    return redirect(url_for("admin.rulebook_version", version_id=draft.id, what_if=30, _anchor="what-if"))


@blueprint.post("/campaigns/<campaign_id>/<any(pause, resume, end):change>")
@requires("campaigns.manage")
@on_refusal(lambda **_args: redirect(url_for("admin.campaign_list")))
def control_campaign(campaign_id: str, change: str):
    if not ConfirmForm().validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
        return campaign_list(), 400
    getattr(campaigns, change)(campaign_id, admin_id=current_admin().id, actor=_actor())
    flash({"pause": _("已暂停"), "resume": _("已恢复"), "end": _("已结束")}[change], "success")
    return redirect(url_for("admin.campaign_list"))


@blueprint.get("/campaigns/<campaign_id>")
@requires("campaigns.view")
def campaign_results(campaign_id: str):
    try:
        campaign = campaigns.find(campaign_id)
    except DomainError:
        abort(404)
    control = campaigns.controls().get(campaign_id)
    return render_template("admin/campaigns/results.html", campaign=campaign, results=campaigns.results(campaign_id),
                           state=campaigns.state(campaign, control), spent=campaigns.spent().get(campaign_id, 0))
