"""Every console page, walked from the URL map: each renders in Chinese and in English, and each role is
shown only the actions it may take (forms, buttons and links), while a super admin is shown every one."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.exceptions import HTTPException
from werkzeug.routing import AnyConverter

from admin.permissions import PERMISSIONS
from carbon_platform import seeding
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import (
    AdminRole,
    CarbonAccount,
    Enterprise,
    EnterpriseStatement,
    FinancialInstitution,
    Household,
    Merchant,
    Reward,
)
from carbon_platform.services import accounts, adjustments, audit, earning, evidence, rewards, rulebooks
from carbon_platform.services.dashboard import CHARTS
from tests import factories as f
from tests.admin.test_console import log_in

#: Not pages: files and the language switch (a redirect by design, walked through the switch itself).
NOT_PAGES = {"admin.static", "admin.set_language"}
#: Pages that answer with a redirect on purpose.
REDIRECTS = {"admin.index": "/admin/dashboard"}
#: Query strings that make a page render a different part of its template.
VARIANTS = {
    "admin.rulebook_version": [{"what_if": 30}],
    "admin.change_trust_form": [{"rule": "bus_ride|app"}, {"rule": "bus_ride|partner:transit"}],
    "admin.people": [{"kind": kind} for kind in ("resident", "household", "enterprise", "merchant")],
    "admin.action_search": [{"lang": "en"}],
    "admin.account": [{"lang": "en"}],
    "admin.review_queue": [{"lang": "en"}],
}
LANGUAGES = ("zh_CN", "en")


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "PNG")
    return out.getvalue()


def running_campaign(document: dict) -> dict:
    """The document in force with a campaign running now (the demo's campaigns may all be over)."""
    now = utcnow()
    campaign = {"id": "walk_running", "name_zh": "步行周", "name_en": "Walking week",
                "starts_at": (now - timedelta(days=1)).isoformat(), "ends_at": (now + timedelta(days=30)).isoformat(),
                "target": {"scenarios": ["walking"]}, "effects": [{"type": "fixed_bonus", "points": 5}],
                "budget_points": 10_000}
    return {**document, "version": "2099.1", "campaigns": [*document.get("campaigns", []), campaign]}


@dataclass
class Stocked:
    params: dict[str, list]  # path parameter → the values to fill it with
    usernames: dict[AdminRole, str]  # one administrator per role, none of whom made the pending requests


@pytest.fixture
def stocked(app) -> Stocked:
    """The demo data set, plus an object in every state a page shows differently: a review action with a
    photo, a pending adjustment, a running campaign, a draft and a pending rulebook version, a reward's
    picture. Another super admin made the pending requests, so every role may decide them."""
    with app.app_context():
        seeding.load_reference()
        seeding.load_demo()
        # Bank staff of the demo's bank, which the demo enterprise granted access: its pages show that enterprise.
        demo_bank = db.session.execute(sa.select(FinancialInstitution)).scalars().one()
        usernames = {role: f.admin(role, institution=demo_bank if role is AdminRole.BANK else None).username
                     for role in AdminRole}
        colleague = f.admin(AdminRole.SUPER_ADMIN)
        actor = audit.Actor.admin(colleague)
        resident = accounts.find_resident_by_phone("13800000001")  # the demo's, with a household
        now = utcnow()
        # The demo publishes 2026.3, whose PV installation needs its two photos on the report (the engine refuses
        # it without them), as the API sends them.
        photo, certificate = (evidence.store(resident.account_id, picture()) for _ in range(2))
        install = earning.self_report(resident, scenario="pv_installation", inputs={}, occurred_at=now,
                                      client_key="walk-pv", now=now, photos=2).action
        evidence.attach([photo.id, certificate.id], resident.account_id, install.id)
        adjustments.request(resident.account_id, 5_000, "补录线下活动积分", actor=actor)
        in_force = rulebooks.in_force(now)[0]
        running = rulebooks.publish(running_campaign(in_force.document), effective_from=now, actor=actor)
        source = rulebooks.source_of(running)
        draft = rulebooks.save_draft(source.replace("2099.1", "2099.2", 1), admin_id=colleague.id, actor=actor,
                                     based_on_id=running.id)
        pending = rulebooks.save_draft(source.replace("2099.1", "2099.3", 1), admin_id=colleague.id, actor=actor,
                                       based_on_id=running.id)
        rulebooks.submit(pending, effective_from=now, admin_id=colleague.id, actor=actor)
        reward = db.session.execute(sa.select(Reward).order_by(Reward.id)).scalars().first()
        rewards.set_picture(reward, picture(), actor=actor)
        enterprise = db.session.execute(sa.select(Enterprise)).scalars().first()
        household = db.session.execute(sa.select(Household)).scalars().first()
        merchant = db.session.execute(sa.select(Merchant)).scalars().first()
        params = {
            "merchant_id": [merchant.id], "reward_id": [reward.id], "evidence_id": [photo.id],
            "account_id": [resident.account_id, enterprise.account_id, household.account_id, merchant.account_id],
            "version_id": [in_force.id, running.id, draft.id, pending.id],
            "campaign_id": ["walk_running", in_force.document["campaigns"][0]["id"]],
            "chart": sorted(CHARTS),
            "enterprise_id": [enterprise.id],
            "serial": [db.session.execute(sa.select(EnterpriseStatement.serial)).scalars().one()],
        }
        assert db.session.get(CarbonAccount, merchant.account_id) is not None
        commit()
    return Stocked(params, usernames)


def page_urls(app, stocked: Stocked) -> list[tuple[str, str]]:
    """(endpoint, URL) for every GET route under /admin, each path parameter filled with every value the
    fixture made for it (every choice of an ``any(…)``), and each page's query-string variants."""
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint in NOT_PAGES or "GET" not in rule.methods:
            continue
        choices = []
        for name in sorted(rule.arguments):
            converter = rule._converters[name]
            values = sorted(converter.items) if isinstance(converter, AnyConverter) else stocked.params.get(name)
            assert values, f"no value for <{name}> of {rule.rule}: make one in the fixture"
            choices.append([(name, value) for value in values])
        for combination in itertools.product(*choices):
            url = adapter.build(rule.endpoint, dict(combination), method="GET")
            urls.append((rule.endpoint, url))
            urls += [(rule.endpoint, f"{url}?{urlencode(query)}") for query in VARIANTS.get(rule.endpoint, [])]
    return urls


def client_for(app, stocked: Stocked, role: AdminRole, language: str = "zh_CN"):
    client = app.test_client()
    client.get(f"/admin/lang/{language}")
    assert log_in(client, stocked.usernames[role]).status_code == 302
    return client


def reachable(app, role: AdminRole, endpoint: str) -> bool:
    permission = getattr(app.view_functions[endpoint], "permission", None)
    return permission is None or role in PERMISSIONS[permission]


def test_every_console_page_renders_in_both_languages(app, stocked):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 in the list below, not the end of the walk
    urls = page_urls(app, stocked)
    assert len(urls) > 40, urls  # the walk found the pages, not just the dashboard
    failures = []
    for language in LANGUAGES:
        # The super admin opens every page but the bank's own, which only bank staff may (their enterprises').
        clients = {role: client_for(app, stocked, role, language) for role in (AdminRole.SUPER_ADMIN, AdminRole.BANK)}
        marker = 'lang="en"' if language == "en" else 'lang="zh-CN"'
        for endpoint, url in urls:
            role = AdminRole.SUPER_ADMIN if reachable(app, AdminRole.SUPER_ADMIN, endpoint) else AdminRole.BANK
            response = clients[role].get(url)
            response.close()  # files are streamed: let them go
            if endpoint in REDIRECTS:
                ok = response.status_code == 302 and response.headers["Location"].endswith(REDIRECTS[endpoint])
            else:
                ok = response.status_code == 200
            if not ok:
                failures.append(f"{language} {url} -> {response.status_code}")
            elif response.status_code == 200 and response.mimetype == "text/html":
                if marker not in response.get_data(as_text=True):
                    failures.append(f"{language} {url}: not rendered in {language}")
    assert failures == [], "\n".join(failures)


class Controls(HTMLParser):
    """The actions a page offers: where its POST forms (and their buttons' formaction) submit, and its links."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url, self.posts, self.links, self._form = page_url, [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            post = (attrs.get("method") or "get").lower() == "post"
            if not post and attrs.get("action", "").startswith("/admin"):
                self.links.append(attrs["action"])  # a search form is a link with blanks to fill
            self._form = {"action": attrs.get("action") or self.page_url, "targets": set()} if post else None
            if post:
                self.posts.append(self._form)
        elif tag in ("button", "input") and self._form is not None and attrs.get("formaction"):
            self._form["targets"].add(attrs["formaction"])
        elif tag == "a" and attrs.get("href", "").startswith("/admin"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None

    def post_targets(self) -> set[str]:
        return {target for form in self.posts for target in (form["targets"] or {form["action"]})}


def endpoint_of(app, url: str, method: str) -> str:
    try:
        endpoint, _args = app.url_map.bind("localhost").match(urlsplit(url).path, method=method)
    except HTTPException as exc:
        raise AssertionError(f"{method} {url} matches no route ({exc})") from None
    return endpoint


def offered(app, stocked: Stocked, role: AdminRole) -> tuple[set[str], list[str]]:
    """Walk every page the role may open; return the POST endpoints its pages offer it, and every offer
    of an action or a link the role may not take."""
    client = client_for(app, stocked, role)
    posts, wrong = set(), []
    for endpoint, url in page_urls(app, stocked):
        if not reachable(app, role, endpoint):
            continue
        response = client.get(url)
        response.close()
        if response.mimetype != "text/html":
            continue
        assert response.status_code in (200, 302), f"{role} {url} -> {response.status_code}"
        controls = Controls(url)
        controls.feed(response.get_data(as_text=True))
        for target in controls.post_targets():
            action = endpoint_of(app, target, "POST")
            posts.add(action)
            if not reachable(app, role, action):
                wrong.append(f"{url}: a form for {action}")
        for link in controls.links:
            linked = endpoint_of(app, link, "GET")
            if not reachable(app, role, linked):
                wrong.append(f"{url}: a link to {linked}")
    return posts, wrong


def test_each_role_is_shown_only_the_actions_it_may_take(app, stocked):
    wrong = []
    for role in AdminRole:
        if role is AdminRole.SUPER_ADMIN:
            continue  # holds every permission: the positive control below
        posts, offers = offered(app, stocked, role)
        wrong += [f"{role.value}: {offer}" for offer in offers]
        if role in (AdminRole.AUDITOR, AdminRole.BANK):  # read-only: logging out (or in), its own password
            wrong += [f"{role.value}: offered {action}" for action in sorted(
                posts - {"admin.logout", "admin.login", "admin.change_password"})]
    assert wrong == [], "\n".join(wrong)


def test_a_super_admin_is_shown_every_action_of_the_console(app, stocked):
    """The positive control: the walk sees forms at all, and every POST route has its form somewhere. (The bank's
    pages are GETs only: a bank changes nothing in the console.)"""
    posts, wrong = offered(app, stocked, AdminRole.SUPER_ADMIN)
    every_post = {rule.endpoint for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("admin.") and "POST" in rule.methods}
    assert wrong == [], "\n".join(wrong)
    assert sorted(every_post - posts) == []
