"""No Chinese in the English console and no bare English codes in the Chinese one.

The catalogue has no empty or fuzzy entry; then every console page (walked from the URL map, as in
test_pages) is drawn in both languages and its visible text is read with an HTML parser: in English any CJK
character outside the data people typed fails, in Chinese any known status or code word shown alone fails.
Each page is drawn for every role that may open it: the others see other words than the super admin (a
read-only note instead of a form, a decision that is someone else's), and those must be translated too.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa
from babel.messages.pofile import read_po

from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    AdjustmentRequest,
    Administrator,
    AdminRole,
    Enterprise,
    EnterpriseSite,
    FinancialInstitution,
    Household,
    Merchant,
    MerchantStaff,
    Partner,
    Resident,
    Reward,
    RulebookVersion,
    StockChange,
)
from tests.admin.test_pages import client_for, page_urls, reachable, stocked  # noqa: F401 (stocked is a fixture)

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")


def test_the_catalogue_has_no_empty_or_fuzzy_translation():
    with open(ROOT / "admin/translations/en/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po, locale="en")
    bad = [m.id for m in catalog if m.id and (m.fuzzy or not m.string)]
    assert bad == []


class VisibleText(HTMLParser):
    """The text a reader sees: text nodes outside script/style, plus titles, placeholders, alt texts and the
    labels of input buttons. Skipped: source shown as written (``pre`` but a receipt, ``textarea``, ``code``) and any
    element marked ``lang="zh…"`` (Chinese shown deliberately, e.g. a name in parentheses)."""

    SKIPPED = {"script", "style", "template", "head", "pre", "textarea", "code"}  # code: identifiers beside names
    VOID = {"input", "br", "img", "meta", "link", "hr", "wbr", "col", "source"}

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._stack: list[bool] = []  # per open element: whether its text is skipped

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        receipt = tag == "pre" and "receipt" in (attrs.get("class") or "")  # a receipt is the page's words
        skipped = bool(self._stack and self._stack[-1]) or tag in self.SKIPPED and not receipt or \
            (attrs.get("lang") or "").startswith("zh") and tag != "html"
        if not skipped:
            for name in ("title", "placeholder", "alt", "aria-label"):
                if attrs.get(name):
                    self.texts.append(attrs[name])
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.texts.append(attrs["value"])
        if tag not in self.VOID:
            self._stack.append(skipped)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if not (self._stack and self._stack[-1]) and data.strip():
            self.texts.append(data.strip())


def visible_texts(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


def pages(app, stocked, language):  # noqa: F811
    """(URL, role, HTML) of every page, drawn for each role that may open it (the super admin first)."""
    urls = page_urls(app, stocked)
    for role in AdminRole:  # SUPER_ADMIN first: a page any role may open is reported at the super admin's
        client = client_for(app, stocked, role, language)
        for endpoint, url in urls:
            if not reachable(app, role, endpoint):
                continue  # a 403 page, the same for every role
            response = client.get(url)
            response.close()
            if response.status_code == 200 and response.mimetype == "text/html":
                yield url, role, response.get_data(as_text=True)


def typed_values(app) -> set[str]:
    """What people typed, shown as typed in either language: names, addresses, reasons."""
    columns = [Administrator.display_name, Resident.display_name, Resident.real_name, Enterprise.name,
               Enterprise.contact_name, Enterprise.industry, Household.name, Household.address, Merchant.name,
               Merchant.address, MerchantStaff.display_name, Partner.name, AdjustmentRequest.reason,
               StockChange.reason, EnterpriseSite.name, FinancialInstitution.name]
    with app.app_context():
        return {value for column in columns for value in db.session.execute(sa.select(column)).scalars() if value}


def factor_sources(app) -> set[str]:
    """Each factor's source as the rulebook quotes it (a document's title, in its own language): the structured
    factor form lists them beside the values, as a receipt does."""

    def sources(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "source" and isinstance(value, str):
                    yield value
                else:
                    yield from sources(value)
        elif isinstance(node, list):
            for item in node:
                yield from sources(item)

    with app.app_context():
        return {text for document in db.session.execute(sa.select(RulebookVersion.document)).scalars()
                for text in sources(document)}


#: Chinese shown on purpose in English: the switch back to Chinese names itself in Chinese; the plan's own name
#: for its ten programmes and its document number, in parentheses after the English.
DELIBERATE = {"中文", "十大工程", "泰政发〔2023〕8号"}
#: Pages that show recorded values as they were typed: the audit log's before/after of a change (reward names).
RECORDED = {"/admin/audit"}


def chinese_runs(text: str, allowed: set[str]) -> list[str]:
    for value in sorted(allowed, key=len, reverse=True):  # longest first: a name may contain a shorter one
        text = text.replace(value, " ")
    return CJK.findall(text)


#: Not yet translated (#19 item 2, left for later): each entry is the Chinese run and where it shows. An entry
#: that no longer shows fails too, so the list only shrinks.
ENGLISH_GAPS: dict[str, str] = {
}

#: Whole pages not yet clean in English, and why; a page that becomes clean fails until it is dropped here.
ENGLISH_PAGE_GAPS: dict[str, str] = {
}


def report(found: dict[str, set[str]], gaps: dict[str, str], roles: dict[str, set[str]] | None = None) -> list[str]:
    roles = roles or {}
    lines = [f"{text!r} on {len(urls)} pages, e.g. {sorted(urls)[0]}"
             + (f" (as {', '.join(sorted(roles[text]))})" if roles.get(text) else "")
             for text, urls in sorted(found.items()) if text not in gaps]
    return lines + [f"{text!r} is listed as a gap but no longer shows: drop it" for text in gaps if text not in found]


def test_english_pages_show_no_chinese_but_data(app, stocked):  # noqa: F811
    allowed = typed_values(app) | factor_sources(app) | DELIBERATE
    with app.app_context():
        recorded = {v for column in (Reward.name_zh, Reward.description_zh)
                    for v in db.session.execute(sa.select(column)).scalars() if v}
        # A receipt names each factor's source as published (Chinese documents): data, in either language.
        allowed |= {factor["source"] for receipt in db.session.execute(sa.select(Action.receipt)).scalars()
                    for factor in (receipt or {}).get("factors", [])}
    found: dict[str, set[str]] = {}
    roles: dict[str, set[str]] = {}
    for url, role, html in pages(app, stocked, "en"):
        for text in visible_texts(html):
            for run in chinese_runs(text, allowed | (recorded if url.split("?")[0] in RECORDED else set())):
                found.setdefault(run, set()).add(url.split("?")[0])
                roles.setdefault(run, set()).add(role.value)
    gap_pages = {url for url in ENGLISH_PAGE_GAPS if any(url in urls for urls in found.values())}
    found = {run: urls - set(ENGLISH_PAGE_GAPS) for run, urls in found.items()}
    found = {run: urls for run, urls in found.items() if urls}
    problems = report(found, ENGLISH_GAPS, roles)
    problems += [f"{url} is listed as a page gap but is clean now: drop it" for url in ENGLISH_PAGE_GAPS
                 if url not in gap_pages]
    assert problems == [], "\n".join(problems)


#: Codes that must be words in Chinese: enum values of statuses, channels, roles, kinds.
CODES = {"credited", "rejected", "pending", "review", "published", "draft", "partner", "app", "resident",
         "household", "enterprise", "merchant", "approved", "applied", "cancelled", "redeemed", "expired", "issued",
         "active", "frozen", "needs_evidence", "self_report", "super_admin", "operator", "reviewer", "auditor",
         "merchant_manager", "grid_company", "checkin", "open", "used", "reversed", "scheduled", "superseded"}


CHANNEL = re.compile(r"partner:[a-z_]+|merchant_checkin")

#: Codes not yet shown as words (#19 item 2, left for later); stale entries fail as above.
CHINESE_GAPS: dict[str, str] = {
}


def test_chinese_pages_show_no_bare_codes(app, stocked):  # noqa: F811
    with app.app_context():  # administrators' login names are typed data (the demo's are "operator" and so on)
        usernames = set(db.session.execute(sa.select(Administrator.username)).scalars())
        scenario_ids = set(db.session.execute(sa.select(Action.scenario)).scalars())
    found: dict[str, set[str]] = {}
    roles: dict[str, set[str]] = {}
    for url, role, html in pages(app, stocked, "zh_CN"):
        for text in visible_texts(html):
            code = text in CODES or text in scenario_ids or CHANNEL.fullmatch(text)
            if code and text not in usernames:  # a code alone in its cell, not a login name
                found.setdefault(text, set()).add(url.split("?")[0])
                roles.setdefault(text, set()).add(role.value)
    problems = report(found, CHINESE_GAPS, roles)
    assert problems == [], "\n".join(problems)


def test_the_reader_sees_text_and_labels_but_not_scripts_sources_or_marked_chinese():
    html = ('<html lang="en"><head><title>页</title></head><body><p>Shown<script>var a = "脚本";</script>'
            '<pre>规则</pre><span lang="zh-CN">名字<b>粗</b></span><br>after<input type="submit" value="提交">'
            '<input placeholder="占位"></p></body></html>')
    assert visible_texts(html) == ["Shown", "after", "提交", "占位"]
    assert chinese_runs("Daiyue (岱岳区) 店长小李 x", {"店长小李"}) == ["岱岳区"]
