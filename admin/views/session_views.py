"""Log in, log out, change one's own password, switch language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from admin.blueprint import blueprint, on_refusal
from admin.forms import ConfirmForm, LoginForm, PasswordChangeForm
from admin.permissions import current_admin, home_url, requires, start_session
from carbon_platform.errors import AuthenticationFailed
from carbon_platform.extensions import limiter
from carbon_platform.services import admins


def _safe_next(target: str | None) -> str:
    """Only same-site paths under /admin; anything else goes to where the administrator's console starts."""
    if target and target.startswith("/admin") and not urlsplit(target).netloc and not target.startswith("//"):
        return target
    return home_url(current_admin())


def _username_key() -> str:
    return "admin-login:" + (request.form.get("username") or "").strip().lower()[:64]


login_limit = limiter.shared_limit(lambda: current_app.config["ADMIN_LOGIN_LIMIT"], scope="admin-login",
                                   methods=["POST"])
username_limit = limiter.limit(lambda: current_app.config["ADMIN_LOGIN_LIMIT"], key_func=_username_key,
                               methods=["POST"])


@blueprint.route("/login", methods=["GET", "POST"])
@login_limit
@username_limit
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            admin = admins.authenticate(form.username.data, form.password.data)
        except AuthenticationFailed:
            flash(_("用户名或密码错误"), "error")
        else:
            generation = admin.session_generation
            lang = session.get("lang")
            session.clear()  # a fresh session on every login
            start_session(admin, generation)
            if lang:
                session["lang"] = lang
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
    status = 200
    if form.is_submitted():
        status = 400 if form.errors else 401
    return render_template("admin/login.html", form=form), status


@blueprint.post("/logout")
def logout():
    form = ConfirmForm()
    admin = current_admin()
    if form.validate_on_submit() and admin is not None:
        admins.log_out(admin)  # ends this and every other session of the administrator
    session.clear()
    return redirect(url_for("admin.login"))


@blueprint.get("/profile")
@requires("profile.manage")
def profile():
    return render_template("admin/profile.html", form=PasswordChangeForm())


def _password_key() -> str:
    return f"admin-password:{session.get('admin_id')}"


# The current password is asked for so that a borrowed session cannot take the account over; guessing it
# through this form is throttled like guessing it at the login.
password_limit = limiter.limit(lambda: current_app.config["ADMIN_LOGIN_LIMIT"], key_func=_password_key,
                               methods=["POST"])


@blueprint.post("/profile/password")
@requires("profile.manage")
@password_limit
@on_refusal(lambda: (render_template("admin/profile.html", form=PasswordChangeForm()), 400))
def change_password():
    form, admin = PasswordChangeForm(), current_admin()
    if form.validate_on_submit():
        generation = admins.change_password(admin, current_password=form.current_password.data,
                                            new_password=form.new_password.data)
        # Every other session (a copied cookie included) has ended; this one carries on.
        start_session(admin, generation)
        flash(_("密码已修改，其他设备上的登录已退出"), "success")
        return redirect(url_for("admin.profile"))
    for field, errors in form.errors.items():
        flash(f"{form[field].label.text}: {'; '.join(errors)}", "error")
    return render_template("admin/profile.html", form=form), 400


@blueprint.get("/lang/<code>")
def set_language(code: str):
    if code in ("zh_CN", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))
