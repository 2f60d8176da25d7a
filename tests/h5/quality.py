"""The client's routes, read from ``h5/src/router/index.js`` so that the cross-cutting checks (no request leaves
127.0.0.1, no untranslated key, the screenshot sweep) cover every page a helper adds, without a list to keep
in step by hand. Each route says who must be logged in to see it; routes with parameters get a concrete URL from
the data the test built (``concrete``), and a new parametrised route without one fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

H5 = Path(__file__).resolve().parents[2] / "h5"
ROUTER = H5 / "src" / "router" / "index.js"

_ROUTE = re.compile(r"\{\s*path:\s*'(?P<path>[^']*)',\s*name:\s*'(?P<name>[^']+)',\s*"
                    r"component:\s*\(\)\s*=>\s*import\('(?P<component>[^']+)'\)(?P<rest>.*)\}")


@dataclass(frozen=True)
class Route:
    path: str
    name: str
    component: str  # relative to h5/src/router/, as written in the import
    audience: str | None  # "resident", "merchant" or None (public)

    @property
    def source(self) -> str:
        """The view's key in Vite's manifest (relative to h5/), e.g. ``src/views/resident/HomeView.vue``."""
        return (ROUTER.parent / self.component).resolve().relative_to(H5).as_posix()

    @property
    def parametrised(self) -> bool:
        return ":" in self.path


def routes() -> list[Route]:
    """Every route of the router, in its order. Fails if a route is written in a shape this parser misses."""
    text = ROUTER.read_text(encoding="utf-8")
    found = []
    for line in text.splitlines():
        match = _ROUTE.search(line)
        if not match:
            continue
        rest = match["rest"]
        audience = ("resident" if re.search(r"audience:\s*R\b", rest)
                    else "merchant" if re.search(r"audience:\s*M\b", rest) else None)
        found.append(Route(match["path"], match["name"], match["component"], audience))
    declared = len(re.findall(r"\bpath:\s*'", text))
    assert len(found) == declared, (
        f"tests/h5/routes.py understood {len(found)} of the {declared} routes in {ROUTER}: keep each route on one "
        "line as `{ path: '…', name: '…', component: () => import('…'), meta: {…} }`, or teach the parser")
    return found


def concrete(route: Route, values: dict[str, str]) -> str:
    """The route's URL below /h5 with its parameters filled from `values` (keyed by route name)."""
    if not route.parametrised:
        return route.path
    assert route.name in values, (
        f"route {route.name!r} ({route.path}) has parameters: give it a concrete URL in the checks' data "
        "(tests/h5/test_quality.py, city_urls)")
    return values[route.name]


def file_name(route: Route) -> str:
    """A file-name-safe label for screenshots: the route's name."""
    return re.sub(r"[^\w-]+", "_", route.name)


# -- A small city: the demo seed (reference data, residents with points, actions, a voucher, a household, a
# merchant with staff and a reward), and the concrete URLs of the parametrised routes.

RESIDENT_PHONE = "13800000001"  # 泰山挑山工: points, actions, a voucher, head of a household
STAFF_PHONE = "13800000020"  # 店长小李 at 岱宗坊低碳咖啡


def build_city(app) -> dict[str, str]:
    """Loads the demo city into the app's database; returns the concrete URL of each parametrised route."""
    import sqlalchemy as sa

    from carbon_platform import seeding
    from carbon_platform.db import commit
    from carbon_platform.extensions import db
    from carbon_platform.models import Action, Reward, Voucher
    from carbon_platform.services import accounts

    with app.app_context():
        seeding.load_reference()
        seeding.load_demo()
        commit()
        resident = accounts.find_resident_by_phone(RESIDENT_PHONE)
        action = db.session.execute(sa.select(Action.id).where(Action.account_id == resident.account_id)
                                    .order_by(Action.id)).scalars().first()
        voucher = db.session.execute(sa.select(Voucher.id).where(Voucher.account_id == resident.account_id)
                                     .order_by(Voucher.id)).scalars().first()
        reward = db.session.execute(sa.select(Reward.id).order_by(Reward.id)).scalars().first()
        assert action and voucher and reward, "the demo seed no longer gives the resident an action and a voucher"
    return {"report-form": "/report/walking", "action": f"/actions/{action}", "reward": f"/mall/{reward}",
            "voucher": f"/vouchers/{voucher}", "missing": "/no/such/page"}


# -- Walking the client: one phone per audience (logged out, resident, staff), every route of that audience.

def walk(phone, site: str, tokens: dict[str, str], urls: dict[str, str], *, locale: str = "zh-CN",
         size: str = "390x844", before=None):
    """Yields (route, page) with each route's page loaded and settled. `tokens` maps "resident"/"merchant" to a
    refresh token; one context per audience keeps its rotating refresh token across the page loads."""
    for audience in (None, "resident", "merchant"):
        mine = [r for r in routes() if r.audience == audience]
        if not mine:
            continue
        page = phone.open(size=size, locale=locale)
        if audience:
            # Logged in once: the token is put where the client keeps it, not by an init script, which would put
            # the first token back on every load after the client has rotated it (a reuse revokes the session).
            page.goto(f"{site}/h5/manifest.webmanifest")
            page.evaluate("([key, token]) => localStorage.setItem(key, token)",
                          [f"carbon.h5.{audience}.refresh", tokens[audience]])
        if before:
            before(page)
        for route in mine:
            url = concrete(route, urls)
            page.goto(f"{site}/h5{url}")
            settle(page)
            if audience:
                login = "/h5/merchant/login" if audience == "merchant" else "/h5/login"
                assert login not in page.url, f"{route.name}: the {audience} was sent to log in ({page.url})"
            yield route, page


def settle(page) -> None:
    """The page is drawn and quiet: no request for 500 ms (so a rotated refresh token is stored before the next
    load), nothing still showing its loading state."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("document.querySelector('#app')?.children.length > 0"
                           " && !document.querySelector('[aria-busy=\"true\"]')")


# -- What a page shows: message keys where words should be, Chinese in the English UI.

#: vue-i18n shows the key itself when a message is missing (fallbackLocale is off on purpose).
MESSAGE_KEY = r"^[a-zA-Z]+(\.[\w-]+)+$"

_SHOWN_TEXT = """([english, keyPattern]) => {
  const KEY = new RegExp(keyPattern)
  const CJK = /[\\u3000-\\u303f\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uff00-\\uffef]/
  const visible = (el) => el.checkVisibility({ opacityProperty: true, visibilityProperty: true })
  const where = (el) => {
    const parts = []
    for (let e = el; e && e !== document.body && parts.length < 3; e = e.parentElement)
      parts.unshift(e.tagName.toLowerCase() + (e.classList.length ? '.' + [...e.classList].slice(0, 2).join('.') : ''))
    return parts.join(' > ')
  }
  const found = []
  const check = (text, el, how) => {
    const t = (text || '').trim()
    if (!t) return
    if (KEY.test(t)) found.push(`message key ${JSON.stringify(t)} (${how}) at ${where(el)}`)
    if (english && CJK.test(t) && !el.closest('[data-i18n-data]'))
      found.push(`Chinese ${JSON.stringify(t.slice(0, 40))} (${how}) in the English UI at ${where(el)}`)
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement
    if (!el || el.closest('script, style, noscript, template') || !visible(el)) continue
    check(walker.currentNode.nodeValue, el, 'text')
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title], [alt]')) {
    if (!visible(el)) continue
    for (const name of ['aria-label', 'placeholder', 'title', 'alt'])
      if (el.hasAttribute(name)) check(el.getAttribute(name), el, name)
  }
  check(document.title, document.documentElement, 'document title')
  return found
}"""


def untranslated(page, *, english: bool) -> list[str]:
    """Message keys shown instead of words; in English, Chinese outside elements marked `data-i18n-data` (names
    and addresses the API gives only in Chinese). Also the page's `lang` must be the language shown."""
    problems = page.evaluate(_SHOWN_TEXT, [english, MESSAGE_KEY])
    lang = page.evaluate("document.documentElement.lang")
    if lang != ("en" if english else "zh-CN"):
        problems.append(f"<html lang={lang!r}> in the {'English' if english else 'Chinese'} UI")
    return problems


# -- Layout: nothing wider than the screen, touch targets of at least 44 px.

# Not innerWidth: a phone browser widens its layout viewport to fit what overflows (innerWidth became 900 for a
# 900 px element on a 390 px phone), while the root's clientWidth stays the device width the page asked for.
_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth
  if (document.documentElement.scrollWidth <= width) return []
  const wide = []
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect()
    // fixed bars span the widened viewport: they follow the overflow, they do not cause it
    if (r.width && r.right > width + 1 && el.checkVisibility() && getComputedStyle(el).position !== 'fixed')
      wide.push(el)
  }
  // the outermost offenders only: their children overflow because they do
  const outer = wide.filter((el) => !wide.includes(el.parentElement))
  return [`page is ${document.documentElement.scrollWidth} px wide on a ${width} px screen`].concat(
    outer.slice(0, 5).map((el) => `  ${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ends at `
      + `${Math.round(el.getBoundingClientRect().right)} px: `
      + JSON.stringify((el.textContent || '').trim().slice(0, 30))))
}"""

#: What a finger taps: links, buttons, inputs, ARIA widgets, and Vant's clickable divs (nav-bar arrow, etc.).
TAPPABLE = ("a[href], button, input:not([type=hidden]), select, textarea, [role=button], [role=tab], [role=link], "
            "[role=checkbox], [role=radio], [role=switch], [role=option], [tabindex]:not([tabindex='-1']), "
            ".van-haptics-feedback")

_SMALL_TARGETS = """([selector, minimum]) => {
  const big = (el) => { const r = el.getBoundingClientRect(); return Math.min(r.width, r.height) >= minimum - 0.5 }
  const small = []
  for (const el of document.querySelectorAll(selector)) {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue
    const r = el.getBoundingClientRect()
    if (!r.width || !r.height || big(el)) continue
    // A 44 px hit area instead: a <label> around it or pointing at it, or a tappable ancestor taking the tap.
    const label = el.closest('label') || (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`))
    if (label && big(label)) continue
    const host = el.parentElement && el.parentElement.closest(
      'button, a[href], [role=button], [role=tab], .van-cell--clickable, .van-tabbar-item, .van-haptics-feedback')
    if (host && big(host)) continue
    const name = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('placeholder') || '').trim()
    small.push(`${el.tagName.toLowerCase()}.${[...el.classList].slice(0, 3).join('.')} `
      + `${JSON.stringify(name.slice(0, 30))} is ${Math.round(r.width)}×${Math.round(r.height)} px`)
  }
  return small
}"""


def overflow(page) -> list[str]:
    return page.evaluate(_OVERFLOW)


def small_targets(page, minimum: int = 44) -> list[str]:
    return page.evaluate(_SMALL_TARGETS, [TAPPABLE, minimum])
