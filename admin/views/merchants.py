"""Merchants, their staff and their rewards (stock changes are journaled; pictures cleaned like evidence)."""

from __future__ import annotations

import os
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from admin import choices
from admin.blueprint import blueprint, on_refusal
from admin.forms import CheckinScenesForm, ConfirmForm, MerchantForm, PictureForm, RewardForm, StaffForm, StockForm
from admin.paging import paginate, url_filters
from admin.permissions import current_admin, requires
from carbon_platform.clock import CITY_TZ, as_utc, utcnow
from carbon_platform.extensions import db
from carbon_platform.models import Merchant, MerchantStaff, Reward, StaffRole, StockChange, Voucher
from carbon_platform.services import audit, checkins, evidence, organisations, rewards, rulebooks


def _actor() -> audit.Actor:
    return audit.Actor.admin(current_admin())


def _get(model, object_id: int):
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


def _merchant_form(form: MerchantForm | None = None) -> MerchantForm:
    form = form or MerchantForm()
    form.district.choices = choices.districts()
    return form


def _reward_form(**data) -> RewardForm:
    """The reward form with its districts to pick; ``data`` fills it (editing), otherwise it reads the request."""
    form = RewardForm(**data)
    form.districts.choices = choices.districts()
    return form


# -- merchants -------------------------------------------------------------------------------------


@blueprint.get("/merchants")
@requires("merchants.view")
def merchants(form: MerchantForm | None = None, status: int = 200):
    filters = url_filters("q")
    query = sa.select(Merchant)
    if filters["q"]:
        query = query.where(Merchant.name.contains(filters["q"], autoescape=True))
    listing = paginate(query.order_by(Merchant.id.desc()))
    return render_template("admin/merchants/list.html", listing=listing, filters=filters,
                           form=_merchant_form(form)), status


@blueprint.post("/merchants")
@requires("merchants.manage")
@on_refusal(merchants)
def create_merchant():
    form = _merchant_form()
    if not form.validate_on_submit():
        flash(_("请填写商户名称、区县和 18 位统一社会信用代码"), "error")
        return merchants(form, 400)
    merchant = organisations.register_merchant(name=form.name.data, district_code=form.district.data,
                                               uscc=form.uscc.data, address=form.address.data or "",
                                               actor=_actor())
    return redirect(url_for("admin.merchant", merchant_id=merchant.id))


@blueprint.get("/merchants/<int:merchant_id>")
@requires("merchants.view")
def merchant(merchant_id: int, staff_form: StaffForm | None = None, reward_form: RewardForm | None = None,
             status: int = 200, scenes_form: CheckinScenesForm | None = None):
    shop = _get(Merchant, merchant_id)
    scenes_form = _scenes_form(shop, scenes_form)
    shop_rewards = db.session.execute(sa.select(Reward).where(Reward.merchant_id == shop.id)
                                      .order_by(Reward.id.desc())).scalars().all()
    return render_template("admin/merchants/detail.html", merchant=shop, rewards=shop_rewards,
                           staff_form=staff_form or StaffForm(), reward_form=reward_form or _reward_form(),
                           scenes_form=scenes_form, confirm=ConfirmForm()), status


def _scenes_form(shop: Merchant, form: CheckinScenesForm | None = None) -> CheckinScenesForm:
    """The checkboxes of the in-force rulebook's check-in scenes, in the console's language, the offered ones ticked."""
    english = str(get_locale()) == "en"
    offerable = checkins.checkin_scenarios(rulebooks.rules_in_force(utcnow()).rulebook)
    if form is None:
        form = CheckinScenesForm(scenarios=list(shop.checkin_scenarios or []))
    form.scenarios.choices = [(sid, s.name_en if english else s.name_zh) for sid, s in offerable.items()]
    return form


@blueprint.post("/merchants/<int:merchant_id>/checkin-scenes")
@requires("merchants.manage")
@on_refusal(lambda merchant_id: merchant(merchant_id, scenes_form=CheckinScenesForm()))
def checkin_scenes(merchant_id: int):
    shop, form = _get(Merchant, merchant_id), CheckinScenesForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
        return merchant(merchant_id, status=400)
    checkins.set_scenarios(shop, form.scenarios.data or [], actor=_actor())
    flash(_("已保存低碳场景打卡"), "success")
    return redirect(url_for("admin.merchant", merchant_id=merchant_id))


@blueprint.post("/merchants/<int:merchant_id>/staff")
@requires("merchants.manage")
@on_refusal(lambda merchant_id: merchant(merchant_id, staff_form=StaffForm()))
def add_staff(merchant_id: int):
    shop, form = _get(Merchant, merchant_id), StaffForm()
    if not form.validate_on_submit():
        flash(_("请填写手机号、姓名和岗位"), "error")
        return merchant(merchant_id, staff_form=form, status=400)
    organisations.add_staff(shop, phone=form.phone.data, display_name=form.display_name.data,
                            role=StaffRole(form.role.data), actor=_actor())
    flash(_("已添加店员"), "success")
    return redirect(url_for("admin.merchant", merchant_id=merchant_id))


@blueprint.post("/merchants/<int:merchant_id>/staff/<int:staff_id>/<any(activate, deactivate):change>")
@requires("merchants.manage")
def staff_active(merchant_id: int, staff_id: int, change: str):
    if not ConfirmForm().validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
        return merchant(merchant_id, status=400)
    staff = _get(MerchantStaff, staff_id)
    if staff.merchant_id != merchant_id:
        abort(404)
    organisations.set_staff_active(staff, change == "activate", actor=_actor())
    return redirect(url_for("admin.merchant", merchant_id=merchant_id))


# -- rewards ---------------------------------------------------------------------------------------


def _reward_fields(form: RewardForm) -> dict:
    """The form's values as the rewards service takes them: UTC times, fen, district codes."""

    def instant(value: datetime | None):
        return None if value is None else as_utc(value.replace(tzinfo=CITY_TZ))

    yuan = form.face_value_yuan.data or Decimal(0)
    return {
        "name_zh": form.name_zh.data, "name_en": form.name_en.data,
        "description_zh": form.description_zh.data or "", "description_en": form.description_en.data or "",
        "points_price": form.points_price.data, "limit_count": form.limit_count.data,
        "limit_period": form.limit_period.data or None,
        "districts": list(form.districts.data or []),
        "starts_at": instant(form.starts_at.data), "ends_at": instant(form.ends_at.data),
        "voucher_days": form.voucher_days.data,
        "face_value_fen": int((yuan * 100).quantize(Decimal(1), rounding=ROUND_DOWN)),
        "funder": form.funder.data, "sponsor": form.sponsor.data or None,
        "refund_on_expiry": form.refund_on_expiry.data, "active": form.active.data,
    }


@blueprint.post("/merchants/<int:merchant_id>/rewards")
@requires("merchants.manage")
@on_refusal(lambda merchant_id: merchant(merchant_id, reward_form=_reward_form()))
def create_reward(merchant_id: int):
    shop, form = _get(Merchant, merchant_id), _reward_form()
    if not form.validate_on_submit():
        flash(_("请检查奖品信息：%(errors)s", errors=_form_errors(form)), "error")
        return merchant(merchant_id, reward_form=form, status=400)
    reward = rewards.create(shop, stock=form.stock.data or 0, actor=_actor(), **_reward_fields(form))
    return redirect(url_for("admin.reward", reward_id=reward.id))


def _form_errors(form) -> str:
    return "; ".join(f"{getattr(form, name).label.text}: {', '.join(map(str, errors))}"
                     for name, errors in form.errors.items())


def _reward_form_for(reward: Reward) -> RewardForm:
    def local(moment):
        return None if moment is None else moment.astimezone(CITY_TZ).replace(tzinfo=None)

    return _reward_form(
        formdata=None, name_zh=reward.name_zh, name_en=reward.name_en, description_zh=reward.description_zh,
        description_en=reward.description_en, points_price=reward.points_price, limit_count=reward.limit_count,
        limit_period=reward.limit_period.value if reward.limit_period else "",
        districts=list(reward.districts or []), starts_at=local(reward.starts_at), ends_at=local(reward.ends_at),
        voucher_days=reward.voucher_days, face_value_yuan=Decimal(reward.face_value_fen) / 100,
        funder=reward.funder.value, sponsor=reward.sponsor or "", refund_on_expiry=reward.refund_on_expiry,
        active=reward.active,
    )


@blueprint.get("/rewards/<int:reward_id>")
@requires("merchants.view")
def reward(reward_id: int, form: RewardForm | None = None, status: int = 200):
    item = _get(Reward, reward_id)
    changes = db.session.execute(sa.select(StockChange).where(StockChange.reward_id == item.id)
                                 .order_by(StockChange.id.desc()).limit(50)).scalars().all()
    issued = db.session.execute(sa.select(Voucher.status, sa.func.count()).where(Voucher.reward_id == item.id)
                                .group_by(Voucher.status)).all()
    return render_template("admin/merchants/reward.html", reward=item, changes=changes,
                           vouchers={s.value: n for s, n in issued}, form=form or _reward_form_for(item),
                           stock_form=StockForm(), picture_form=PictureForm()), status


@blueprint.post("/rewards/<int:reward_id>")
@requires("merchants.manage")
@on_refusal(lambda reward_id: reward(reward_id, _reward_form()))
def update_reward(reward_id: int):
    item, form = _get(Reward, reward_id), _reward_form()
    if not form.validate_on_submit():
        flash(_("请检查奖品信息：%(errors)s", errors=_form_errors(form)), "error")
        return reward(reward_id, form, 400)
    rewards.update(item, actor=_actor(), **_reward_fields(form))
    flash(_("已保存"), "success")
    return redirect(url_for("admin.reward", reward_id=reward_id))


@blueprint.post("/rewards/<int:reward_id>/stock")
@requires("merchants.manage")
@on_refusal(reward)
def change_stock(reward_id: int):
    item, form = _get(Reward, reward_id), StockForm()
    if not form.validate_on_submit():
        flash(_("请填写非零的库存变化和原因"), "error")
        return reward(reward_id, status=400)
    rewards.change_stock(item, form.delta.data, reason=form.reason.data, actor=_actor())
    flash(_("库存已更新"), "success")
    return redirect(url_for("admin.reward", reward_id=reward_id))


@blueprint.post("/rewards/<int:reward_id>/picture")
@requires("merchants.manage")
@on_refusal(reward)
def reward_picture(reward_id: int):
    item, form = _get(Reward, reward_id), PictureForm()
    if not form.validate_on_submit():
        flash(_("请选择一张图片"), "error")
        return reward(reward_id, status=400)
    rewards.set_picture(item, form.picture.data.read(), actor=_actor())
    return redirect(url_for("admin.reward", reward_id=reward_id))


@blueprint.get("/rewards/<int:reward_id>/picture")
@requires("merchants.view")
def reward_picture_file(reward_id: int):
    item = _get(Reward, reward_id)
    if not item.picture:
        abort(404)
    return send_file(os.path.join(evidence.folder("rewards"), item.picture), mimetype="image/jpeg")
