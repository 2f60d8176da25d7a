"""Every console form is laid out on the one grid (issue #19, item 6): walking every page as a super admin (who is
shown every form), each form that asks for anything is a ``form-grid`` whose fields come from admin/_macros.html
(each control inside a ``.field`` or a checkbox group) and whose buttons sit in its ``.form-actions`` row; and every
control on every page has a label."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from carbon_platform.models import AdminRole
from tests.admin.test_pages import client_for, page_urls, stocked  # noqa: F401 (stocked is a fixture)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
#: Inputs that ask for nothing: a one-button form (log out, confirm an action) is not a layout.
NOT_ASKING = {"hidden", "submit", "button", "reset", "image"}


@dataclass
class Form:
    where: str  # the form's start tag, to find it again
    classes: set[str]
    controls: list[str] = field(default_factory=list)  # the controls that ask for something
    loose: list[str] = field(default_factory=list)  # controls outside a .field or a checkbox group
    stray_buttons: list[str] = field(default_factory=list)  # buttons outside the actions row


class Page(HTMLParser):
    """The forms of a page, the controls that ask for something, and what labels them."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.forms: list[Form] = []
        self.controls: list[tuple[str, dict, bool]] = []  # (tag, attributes, inside a <label>)
        self.label_for: set[str] = set()
        self.ids: list[str] = []

    def _inside(self, test) -> bool:
        return any(test(tag, attrs) for tag, attrs in self.stack)

    def _form(self) -> Form | None:
        return next((attrs["_form"] for tag, attrs in reversed(self.stack) if tag == "form"), None)

    def handle_starttag(self, tag, attributes):
        attrs = {name: value or "" for name, value in attributes}
        classes = set(attrs.get("class", "").split())
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        form = self._form()
        if tag == "form":
            attrs["_form"] = Form(self.get_starttag_text(), classes)
            self.forms.append(attrs["_form"])
        asks = tag in ("select", "textarea") or (tag == "input" and attrs.get("type", "text") not in NOT_ASKING)
        if asks:
            self.controls.append((tag, attrs, self._inside(lambda t, _a: t == "label")))
            if form is not None:
                form.controls.append(self.get_starttag_text())
                on_grid = self._inside(lambda t, a: "field" in a.get("class", "").split()
                                       or (t == "fieldset" and "choices" in a.get("class", "").split()))
                if not on_grid:
                    form.loose.append(self.get_starttag_text())
        if tag == "button" and form is not None and attrs.get("type") != "button":
            if not self._inside(lambda _t, a: "form-actions" in a.get("class", "").split()):
                form.stray_buttons.append(self.get_starttag_text())
        if tag not in VOID:
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def unlabelled(self) -> list[str]:
        return [f"<{tag} name={attrs.get('name')!r} id={attrs.get('id')!r}>" for tag, attrs, in_label in self.controls
                if not (in_label or attrs.get("aria-label") or attrs.get("aria-labelledby")
                        or attrs.get("id") in self.label_for)]


def problems_of(url: str, html: str) -> tuple[list[str], int]:
    page = Page()
    page.feed(html)
    problems = [f"{url}: no label for {control}" for control in page.unlabelled()]
    problems += [f"{url}: a label for the missing or repeated id {target!r}" for target in sorted(page.label_for)
                 if page.ids.count(target) != 1]
    on_grid = 0
    for form in page.forms:
        if not form.controls:
            continue  # a one-button form
        if "form-grid" not in form.classes:
            problems.append(f"{url}: not on the grid: {form.where}")
            continue
        on_grid += 1
        problems += [f"{url}: a control outside the grid's fields in {form.where}: {c}" for c in form.loose]
        problems += [f"{url}: a button outside the actions row in {form.where}: {b}" for b in form.stray_buttons]
    return problems, on_grid


def test_every_console_form_is_on_the_grid_and_every_control_has_a_label(app, stocked):  # noqa: F811
    problems, forms, pages = [], 0, 0
    anonymous = app.test_client()
    login = anonymous.get("/admin/login")
    assert login.status_code == 200
    found, on_grid = problems_of("/admin/login", login.get_data(as_text=True))
    problems += found
    forms += on_grid
    for language in ("zh_CN", "en"):
        client = client_for(app, stocked, AdminRole.SUPER_ADMIN, language)
        for _endpoint, url in page_urls(app, stocked):
            response = client.get(url)
            response.close()
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            pages += 1
            found, on_grid = problems_of(url, response.get_data(as_text=True))
            problems += found
            forms += on_grid
    assert problems == [], "\n".join(problems)
    # the walk saw the console's forms (filters, the rulebook, campaign, merchant, partner, review… forms)
    assert pages > 40 and forms > 60, (pages, forms)


def test_the_check_finds_a_form_off_the_grid_and_a_control_without_a_label():
    """The checker itself: a hand-written form, a bare input, a button outside the actions row."""
    html = """<form method="get" class="filters"><label>名称 <input name="q"></label><button>筛选</button></form>
    <form method="post" class="form-grid"><div class="field"><label for="a">A</label><div class="control">
      <input id="a" name="a"></div></div><input name="b"><button type="submit">保存</button></form>
    <form method="post" class="inline"><input type="hidden" name="csrf_token"><button>退出</button></form>"""
    problems, on_grid = problems_of("/x", html)
    assert on_grid == 1
    assert any("not on the grid" in p and 'class="filters"' in p for p in problems)
    assert any("no label for <input name='b'" in p for p in problems)
    assert any("a control outside the grid's fields" in p and 'name="b"' in p for p in problems)
    assert any("a button outside the actions row" in p for p in problems)
    assert not any("inline" in p for p in problems)  # the one-button form is not a layout
