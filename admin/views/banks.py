"""Banks by consent (issue #18 item 7): the financial institutions (super admins register them; their staff are
administrators with the bank role), and the bank staff's own pages: the enterprises that let their institution in,
each one's grade and statements. Without a live grant an enterprise is not found (404), however it is asked for;
every page a bank opens about an enterprise is written into the access log that enterprise reads."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _

from admin.blueprint import blueprint, on_refusal, record_read
from admin.forms import InstitutionForm
from admin.permissions import current_admin, requires
from carbon_platform.clock import city_day, utcnow
from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole, BankGrant
from carbon_platform.services import audit, bank_access, energy_reports, statement_files, statements

#: The years a bank's page shows the grade of: the last three that are over, newest first.
YEARS_SHOWN = 3


@blueprint.get("/institutions")
@requires("institutions.view")
def institutions():
    return _institutions(InstitutionForm())


def _institutions(form: InstitutionForm, status: int = 200):
    now = utcnow()
    staff = dict(db.session.execute(
        sa.select(Administrator.institution_id, sa.func.count()).where(Administrator.role == AdminRole.BANK,
                                                                        Administrator.active.is_(True))
        .group_by(Administrator.institution_id)).all())
    grants = dict(db.session.execute(
        sa.select(BankGrant.institution_id, sa.func.count()).where(BankGrant.revoked_at.is_(None),
                                                                    BankGrant.expires_at > now)
        .group_by(BankGrant.institution_id)).all())
    return render_template("admin/banks/institutions.html", institutions=bank_access.institutions(), staff=staff,
                           grants=grants, form=form), status


@blueprint.post("/institutions")
@requires("institutions.manage")
@on_refusal(lambda: _institutions(InstitutionForm()))
def register_institution():
    form = InstitutionForm()
    if form.validate_on_submit():
        institution = bank_access.register_institution(name=form.name.data, uscc=form.uscc.data,
                                                       actor=audit.Actor.admin(current_admin()))
        flash(_("已登记金融机构 %(name)s。请在“管理员”页为其员工建立银行角色的账号。", name=institution.name),
              "success")
        return redirect(url_for("admin.institutions"))
    return _institutions(form, 400)


# -- the bank's own pages ---------------------------------------------------------------------------------------


@blueprint.get("/bank")
@requires("bank.enterprises")
def bank_enterprises():
    admin = current_admin()
    return render_template("admin/banks/enterprises.html", granted=bank_access.granting(admin),
                           institution=admin.institution.name,
                           industries=energy_reports.industries())


@blueprint.get("/bank/enterprises/<int:enterprise_id>")
@requires("bank.enterprises")
def bank_enterprise(enterprise_id: int):
    admin = current_admin()
    granted = bank_access.granted_enterprise(admin, enterprise_id)
    enterprise = granted.enterprise
    years = []
    if enterprise.industry_code is not None:
        last = city_day(utcnow()).year - 1
        years = [energy_reports.year_figures(enterprise, year) for year in range(last, last - YEARS_SHOWN, -1)]
    shown = [(s, statements.status(s)) for s in statements.of_enterprise(enterprise)]
    bank_access.record_view(admin, enterprise, "enterprise")
    record_read()
    return render_template("admin/banks/enterprise.html", enterprise=enterprise, grant=granted.grant,
                           why_no_grade=statement_files.WHY_NO_GRADE,
                           years=years, statements=shown,
                           industry=energy_reports.industries().get(enterprise.industry_code or ""))


@blueprint.get("/bank/statements/<serial>.<any(pdf, json):kind>")
@requires("bank.enterprises")
def bank_statement(serial: str, kind: str):
    """A statement of an enterprise that let the bank in, as the enterprise itself downloads it."""
    admin = current_admin()
    statement = bank_access.granted_statement(admin, serial)
    file = statement_files.as_file(statement, kind)
    bank_access.record_view(admin, statement.enterprise, f"statement_{kind}", serial=statement.serial)
    record_read()
    return send_file(io.BytesIO(file.body), mimetype=file.mimetype, as_attachment=True, download_name=file.name,
                     max_age=0)


