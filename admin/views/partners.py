"""Partners: create (the secret is shown once), rotate secrets, allowed scenes, rate, on/off.

A new secret is shown once, in the answer to the POST that made it (never stored in a session or a
redirect). Reloading that page re-posts the form: the creation form's one-time token and the rotation's
"newest secret seen" make the repeat a refusal (409, the list with a message), never a second secret.
"""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from admin import choices
from admin.blueprint import blueprint, on_refusal
from admin.forms import PartnerCreateForm, PartnerRotateForm, PartnerSettingsForm, spend, spent
from admin.paging import paginate
from admin.permissions import current_admin, requires
from carbon_platform.extensions import db
from carbon_platform.models import Partner, PartnerKind
from carbon_platform.services import audit, organisations
from points_rules import Rulebook


def _settings_form(partner: Partner, rulebook: Rulebook | None, **data) -> PartnerSettingsForm:
    """A partner's settings, its scenes picked from those its kind may report under ``rulebook`` (in force)."""
    form = PartnerSettingsForm(**data)
    form.allowed_scenarios.choices = choices.scenarios(rulebook, channel=f"partner:{partner.kind.value}")
    return form


def _list(form=None, status=200, *, posted: tuple[int, PartnerSettingsForm] | None = None):
    """The partners, each with its settings form (``posted``: the one just refused, as it was sent)."""
    listing = paginate(sa.select(Partner).order_by(Partner.id))
    rulebook = choices.rulebook_in_force()  # once for the page, not once per partner
    settings = {p.id: _settings_form(p, rulebook, formdata=None, allowed_scenarios=p.allowed_scenarios,
                                     rate_limit=p.rate_limit, active=p.active) for p in listing.items}
    if posted:
        settings[posted[0]] = posted[1]
    return render_template("admin/partners/list.html", partners=listing.items, listing=listing, filters={},
                           form=form or PartnerCreateForm(), settings=settings,
                           scenario_names=dict(choices.scenarios(rulebook)), rotate=PartnerRotateForm()), status


def _partner(partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        abort(404)
    return partner


def _secret_page(partner: Partner, secret: str):
    # Shown once, never stored in a form or a redirect: the page is marked no-store by the blueprint.
    return render_template("admin/partners/secret.html", partner=partner, secret=secret)


@blueprint.get("/partners")
@requires("partners.view")
def partners():
    return _list()


@blueprint.post("/partners")
@requires("partners.manage")
@on_refusal(lambda: _list(PartnerCreateForm()))
def create_partner():
    form = PartnerCreateForm()
    if not form.validate_on_submit():
        flash(_("请填写名称和类型"), "error")
        return _list(form, 400)
    if spent(form.once.data):
        flash(_("这个表单已经提交过（例如刷新了显示密钥的页面），没有再创建合作方。"), "error")
        return _list(status=409)
    partner, secret = organisations.register_partner(name=form.name.data, kind=PartnerKind(form.kind.data),
                                                     actor=audit.Actor.admin(current_admin()))
    spend(form.once.data)
    return _secret_page(partner, secret)


@blueprint.post("/partners/<int:partner_id>/rotate")
@requires("partners.manage")
@on_refusal(lambda partner_id: _list())
def rotate_partner_secret(partner_id: int):
    form, partner = PartnerRotateForm(), _partner(partner_id)
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
        return _list(status=400)
    secret = organisations.rotate_partner_secret(partner, actor=audit.Actor.admin(current_admin()),
                                                 after=int(form.after.data))
    return _secret_page(partner, secret)


@blueprint.post("/partners/<int:partner_id>/settings")
@requires("partners.manage")
@on_refusal(lambda partner_id: _list(posted=(partner_id, _settings_form(_partner(partner_id),
                                                                         choices.rulebook_in_force()))))
def partner_settings(partner_id: int):
    partner = _partner(partner_id)
    form = _settings_form(partner, choices.rulebook_in_force())
    if not form.validate_on_submit():
        flash(_("请检查合作方设置：%(errors)s",
                errors="; ".join(f"{getattr(form, k).label.text}: {', '.join(map(str, v))}"
                                 for k, v in form.errors.items())), "error")
        return _list(status=400, posted=(partner.id, form))
    organisations.update_partner(partner, allowed_scenarios=list(form.allowed_scenarios.data or []),
                                 rate_limit=form.rate_limit.data, active=form.active.data,
                                 actor=audit.Actor.admin(current_admin()))
    flash(_("已保存 %(name)s", name=partner.name), "success")
    return redirect(url_for("admin.partners"))
