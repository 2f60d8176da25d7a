"""Administrators: list, create, deactivate and reactivate (super admins only)."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from admin import choices
from admin.blueprint import blueprint, on_refusal
from admin.forms import AdminCreateForm, ConfirmForm
from admin.paging import paginate
from admin.permissions import current_admin, requires
from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole
from carbon_platform.services import admins, audit


@blueprint.get("/administrators")
@requires("admins.view")
def administrators():
    return _list(AdminCreateForm())


def _list(form: AdminCreateForm, status: int = 200):
    form.institution.choices = choices.institutions()
    listing = paginate(sa.select(Administrator).order_by(Administrator.id))
    return render_template("admin/administrators/list.html", administrators=listing.items, listing=listing,
                           filters={}, form=form, confirm=ConfirmForm(),
                           institution_names={int(key): name for key, name in form.institution.choices if key}), status


@blueprint.post("/administrators")
@requires("admins.manage")
@on_refusal(lambda: _list(AdminCreateForm()))
def create_administrator():
    form = AdminCreateForm()
    form.institution.choices = choices.institutions()
    if form.validate_on_submit():
        admin = admins.create_admin(username=form.username.data, password=form.password.data,
                                    role=AdminRole(form.role.data), display_name=form.display_name.data,
                                    institution_id=int(form.institution.data) if form.institution.data else None,
                                    actor=audit.Actor.admin(current_admin()))
        flash(_("已创建管理员 %(name)s", name=admin.username), "success")
        return redirect(url_for("admin.administrators"))
    for field, errors in form.errors.items():
        flash(f"{form[field].label.text}: {'; '.join(map(str, errors))}", "error")  # lazy messages, by the label
    return _list(form, 400)


@blueprint.post("/administrators/<int:admin_id>/<any(deactivate, activate):change>")
@requires("admins.manage")
@on_refusal(lambda **_args: _list(AdminCreateForm()))  # only oneself: the list shows no button for it
def administrator_active(admin_id: int, change: str):
    if not ConfirmForm().validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
        return _list(AdminCreateForm(), 400)
    admin = db.session.get(Administrator, admin_id) or abort(404)
    admins.set_active(admin, change == "activate", actor=audit.Actor.admin(current_admin()))
    if change == "activate":
        flash(_("已启用管理员 %(name)s", name=admin.username), "success")
    else:
        flash(_("已停用管理员 %(name)s，其登录已立即失效", name=admin.username), "success")
    return redirect(url_for("admin.administrators"))
