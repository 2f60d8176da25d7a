"""Load the declarative seed files: reference data always, demo data on request.

Get-or-create by natural key (district code, phone, 统一社会信用代码, username, partner key id, ledger
idempotency key), so loading twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import sqlalchemy as sa
import yaml

from carbon_platform.clock import CITY_TZ, city_day, utcnow
from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    Administrator,
    AdminRole,
    Binding,
    BindingKind,
    BindingStatus,
    District,
    DistrictKind,
    Enterprise,
    EventStatus,
    FinancialInstitution,
    Household,
    Journal,
    Merchant,
    MerchantStaff,
    Partner,
    PartnerKind,
    PartnerSecret,
    Resident,
    Reward,
    RulebookVersion,
    StaffRole,
)
from carbon_platform.services import (
    accounts,
    admins,
    audit,
    bank_access,
    checkins,
    energy_reports,
    households,
    ledger,
    organisations,
    rulebooks,
    statements,
)
from carbon_platform.services.identity import normalise_phone
from points_rules import parse_yaml

SEED = audit.Actor("seed", None, "seed")


def read(name: str) -> dict[str, Any]:
    return yaml.safe_load(resources.files("seeds").joinpath(name).read_text(encoding="utf-8"))


@dataclass
class Report:
    created: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1

    def __str__(self) -> str:
        return ", ".join(f"{n} {what}" for what, n in self.created.items()) or "nothing new"


def load_reference(report: Report | None = None) -> Report:
    report = report or Report()
    data = read("districts.yaml")
    existing = {d.code: d for d in db.session.execute(sa.select(District)).scalars()}
    for order, row in enumerate(data["districts"]):
        district = existing.get(row["code"])
        if district is None:
            district = District(code=row["code"])
            db.session.add(district)
            report.count("districts")
        district.name_zh, district.name_en = row["name_zh"], row["name_en"]
        district.kind, district.city, district.sort_order = DistrictKind(row["kind"]), data["city"], order
    db.session.flush()
    load_rulebook(report)
    return report


#: The Tai'an rulebook's first version is in force from the platform's first day.
RULEBOOK_EFFECTIVE_FROM = datetime(2026, 1, 1, tzinfo=CITY_TZ)


def load_rulebook(report: Report) -> None:
    """Publish seeds/rulebook.yaml unless that version is already stored."""
    document, _lines = parse_yaml(resources.files("seeds").joinpath("rulebook.yaml").read_text(encoding="utf-8"))
    stored = db.session.execute(
        sa.select(RulebookVersion.id).where(RulebookVersion.rulebook == document["id"],
                                            RulebookVersion.version == document["version"])
    ).first()
    if stored is None:
        rulebooks.publish(document, effective_from=RULEBOOK_EFFECTIVE_FROM, actor=SEED)
        report.count("rulebook versions")


def is_empty() -> bool:
    """True when no one has signed up yet: the only time demo data may be loaded."""
    return db.session.execute(sa.select(sa.func.count()).select_from(Resident)).scalar_one() == 0 and (
        db.session.execute(sa.select(sa.func.count()).select_from(Administrator)).scalar_one() == 0
    )


def load_demo(report: Report | None = None) -> Report:
    report = report or Report()
    data = read("demo.yaml")
    for row in data["administrators"]:
        if not _exists(Administrator.username == row["username"]):
            admins.create_admin(username=row["username"], password=row["password"], role=AdminRole(row["role"]),
                                display_name=row["display_name"], actor=SEED)
            report.count("administrators")
    banks = _load_demo_banks(data, report)
    residents = {}
    for row in data["residents"]:
        resident = accounts.find_resident_by_phone(row["phone"])
        if resident is None:
            resident = accounts.register_resident(row["phone"], display_name=row["display_name"],
                                                  district_code=row["district"])
            report.count("residents")
        residents[row["phone"]] = resident
    for row in data["households"]:
        head = residents[row["head"]]
        if households.membership_of(head) is None:
            household = households.create_household(head, name=row["name"], address=row["address"],
                                                    district_code=row["district"])
            for phone in row["members"]:
                issued = households.invite(head, household.id)
                households.join(residents[phone], issued.code)
            report.count("households")
    for row in data["enterprises"]:
        if not _exists(Enterprise.uscc == row["uscc"]):
            enterprise = accounts.register_enterprise(
                name=row["name"], uscc=row["uscc"], industry=row["industry"], district_code=row["district"],
                contact_name=row["contact_name"], contact_phone=row["contact_phone"], actor=SEED)
            report.count("enterprises")
            if row.get("industry_code"):
                energy_reports.classify(enterprise, code=row["industry_code"],
                                        key_energy_user=row.get("key_energy_user", False), actor=SEED)
            _seed_energy_reports(enterprise, row.get("sites", []), report)
            for period in row.get("statements", []):
                statements.issue(enterprise, period_from=period["period_from"], period_to=period["period_to"],
                                 actor=SEED)
                report.count("enterprise statements")
            for grant in row.get("bank_grants", []):
                bank_access.grant(enterprise, institution_id=banks[grant["institution"]].id,
                                  until=city_day(utcnow()) + timedelta(days=grant["days"]), actor=SEED)
                report.count("bank grants")
    for row in data["merchants"]:
        merchant = db.session.execute(sa.select(Merchant).where(Merchant.name == row["name"])).scalar_one_or_none()
        if merchant is None:
            merchant = organisations.register_merchant(name=row["name"], district_code=row["district"],
                                                       uscc=row["uscc"], address=row["address"], actor=SEED)
            report.count("merchants")
        if row.get("checkin_scenarios") and not merchant.checkin_scenarios:  # a console edit is kept
            checkins.set_scenarios(merchant, row["checkin_scenarios"], actor=SEED)
        for staff in row["staff"]:
            if not _exists(MerchantStaff.merchant_id == merchant.id,
                           MerchantStaff.phone == normalise_phone(staff["phone"])):
                organisations.add_staff(merchant, phone=staff["phone"], display_name=staff["display_name"],
                                        role=StaffRole(staff["role"]), actor=SEED)
    for row in data["partners"]:
        if not _exists(Partner.key_id == row["key_id"]):
            # A fixed key and secret, so a developer can sign requests by hand against `make run`.
            partner = Partner(name=row["name"], kind=PartnerKind(row["kind"]), key_id=row["key_id"])
            db.session.add(partner)
            db.session.add(PartnerSecret(partner=partner, secret=row["secret"]))
            report.count("partners")
    _load_demo_ledger(data, residents, report)
    publish_corrections(report)
    _load_demo_meters(data, report)
    db.session.flush()
    return report


def _load_demo_banks(data: dict[str, Any], report: Report) -> dict[str, FinancialInstitution]:
    """The demo's financial institutions by name, with their staff (administrators with the bank role)."""
    banks = {}
    for row in data["financial_institutions"]:
        bank = db.session.execute(sa.select(FinancialInstitution).where(
            FinancialInstitution.uscc == row["uscc"])).scalar_one_or_none()
        if bank is None:
            bank = bank_access.register_institution(name=row["name"], uscc=row["uscc"], actor=SEED)
            report.count("financial institutions")
        for staff in row["staff"]:
            if not _exists(Administrator.username == staff["username"]):
                admins.create_admin(username=staff["username"], password=staff["password"], role=AdminRole.BANK,
                                    display_name=staff["display_name"], institution_id=bank.id, actor=SEED)
                report.count("administrators")
        banks[row["name"]] = bank
    return banks


def _seed_energy_reports(enterprise: Enterprise, sites: list[dict[str, Any]], report: Report) -> None:
    """A new demo enterprise's sites and their energy reports, submitted as its client would."""
    for row in sites:
        site = energy_reports.add_site(enterprise, name=row["name"], actor=SEED)
        for entry in row.get("reports", []):
            inputs = energy_reports.Inputs(entry.get("electricity_kwh", 0), entry.get("green_kwh", 0),
                                           Decimal(entry.get("heat_gj", "0")),
                                           {kind: Decimal(q) for kind, q in entry.get("fuels", {}).items()})
            energy_reports.submit(enterprise, site, year=entry["year"], month=entry.get("month"), inputs=inputs,
                                  actor=SEED)
            report.count("energy reports")


def _load_demo_meters(data: dict[str, Any], report: Report) -> None:
    """Each demo household's meter, proven by its utility, the utility's consent, and its readings, sent
    through the feed as the utility would send them."""
    from carbon_platform.services import consent, feeds

    now = utcnow()
    rulebook = rulebooks.rules_in_force(now).rulebook
    saving = rulebook.scenarios["electricity_saving"]
    for row in data.get("household_meters", []):
        household = db.session.execute(sa.select(Household).where(Household.name == row["household"])).scalar_one()
        utility = db.session.execute(sa.select(Partner).where(Partner.key_id == row["utility"])).scalar_one()
        kind = BindingKind.ELECTRICITY_METER
        if not _exists(Binding.identifier_hash == consent.identifier_hash(kind, row["meter"]),
                       Binding.status == BindingStatus.ACTIVE):
            consent.add_binding(household.account_id, kind, row["meter"])
            _record, code = consent.issue_binding_code(household.account_id)
            consent.confirm_by_partner(utility, code, kind, row["meter"])
            report.count("household meters")
        consent.grant(household.account_id, utility, saving.id, saving.channels, saving.account_types)
        events = [{"event_id": r["event_id"], "scenario": saving.id,
                   "binding": {"kind": kind.value, "id": row["meter"]},
                   "occurred_at": now - timedelta(days=r["days_ago"]),
                   "inputs": {"baseline_kwh": Decimal(r["baseline_kwh"]), "actual_kwh": Decimal(r["actual_kwh"])},
                   "fact_id": f"demo:{row['meter']}:{r['event_id']}"} for r in row["readings"]]
        for outcome in feeds.ingest(utility, events, now=now):
            if outcome.status is EventStatus.CREDITED:
                report.count("meter readings credited")


#: The corrected rulebooks, in order (each file's header says what it changes from the one before): new versions,
#: never edits of a published one, so receipts of actions judged by an earlier version keep its factors.
CORRECTIONS = ("rulebook-2026.2.yaml", "rulebook-2026.3.yaml", "rulebook-2026.4.yaml")


def publish_corrections(report: Report) -> None:
    """Publish the corrected rulebooks as the console would: for each, the operator drafts it from the version in
    force and submits it, and the super administrator approves it (dual control), in force from now. The demo's
    actions, all in the past, stay judged by the version they were credited under."""
    admin_of = {a.username: a for a in db.session.execute(sa.select(Administrator)).scalars()}
    author, approver = admin_of["operator"], admin_of["admin"]
    for name in CORRECTIONS:
        source = resources.files("seeds").joinpath(name).read_text(encoding="utf-8")
        _document, rulebook = rulebooks.parse_source(source)
        if _exists(RulebookVersion.rulebook == rulebook.id, RulebookVersion.version == rulebook.version):
            continue
        base = rulebooks.latest_published()
        draft = rulebooks.save_draft(source, admin_id=author.id, actor=audit.Actor.admin(author),
                                     note=f"demo: the corrections of {rulebook.version}",
                                     based_on_id=base.id if base else None)
        rulebooks.submit(draft, effective_from=utcnow(), admin_id=author.id, actor=audit.Actor.admin(author))
        rulebooks.decide(draft, approve=True, admin_id=approver.id, actor=audit.Actor.admin(approver),
                         note="demo: approved by a second administrator")
        report.count("rulebook versions")


def _load_demo_ledger(data: dict[str, Any], residents: dict[str, Resident], report: Report) -> None:
    from carbon_platform.services import earning, holders, rewards, vouchers

    now = utcnow()
    for n, row in enumerate(data["actions"]):
        key = f"demo:action:{n}"
        if _exists(Action.idempotency_key == key):
            continue  # times are relative to the first load, so a second load must not re-send them
        resident = residents[row["phone"]]
        when = now - timedelta(days=row["days_ago"], hours=2)
        holder = holders.of({resident.account_id})[resident.account_id]
        earning.award_action(
            resident.account_id, account_type=holder.account_type, scenario=row["scenario"], inputs=row["inputs"],
            occurred_at=when, idempotency_key=key, channel=row["channel"], district=holder.district,
            household_account_id=holder.household_account_id, now=when + timedelta(minutes=10),
        )
        report.count("demo actions")
    welcome = data["welcome_points"]
    if not _exists(Journal.idempotency_key == "demo:welcome"):
        ledger.adjust(residents[welcome["phone"]].account_id, points=welcome["points"],
                      idempotency_key="demo:welcome", reason="demo: welcome points", now=now)
    for row in data["rewards"]:
        if _exists(Reward.name_zh == row["name_zh"]):
            continue
        merchant = db.session.execute(sa.select(Merchant).where(Merchant.name == row["merchant"])).scalar_one()
        fields = {k: v for k, v in row.items() if k not in ("merchant", "stock")}
        rewards.create(merchant, stock=row["stock"], actor=SEED, **fields)
        report.count("rewards")
    db.session.flush()
    for row in data["redemptions"]:
        reward_id = db.session.execute(sa.select(Reward.id).where(Reward.name_zh == row["reward"])).scalar_one()
        redemption = vouchers.redeem(residents[row["phone"]], reward_id, client_key=row["key"], now=now)
        if not redemption.replayed:
            report.count("vouchers")


def _exists(*conditions) -> bool:
    entity = conditions[0].left.table
    return db.session.execute(sa.select(sa.literal(1)).select_from(entity).where(*conditions)).first() is not None
