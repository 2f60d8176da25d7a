"""Cross-cutting checks of the built client, over every route of its router (tests/h5/quality.py reads them):
nothing is fetched from anywhere but the app's own host, the built files name no address that would be fetched,
and the first screen fits its gzip budget with every page in a chunk of its own (issue #16, Tests and
Performance)."""

from __future__ import annotations

import gzip
import json
import re
from urllib.parse import urlsplit

import pytest

from carbon_platform.h5 import DEFAULT_DIST
from tests.h5.conftest import logged_in_refresh_token
from tests.h5.quality import RESIDENT_PHONE, ROUTER, STAFF_PHONE, build_city, routes, walk

#: The first screen's shell (index.html, the entry's JS and CSS, what the entry imports statically), gzip -9.
SHELL_BUDGET = 300 * 1000


def test_every_route_is_understood_and_has_its_view():
    found = routes()
    assert len(found) >= 21, f"only {len(found)} routes read from {ROUTER}"
    assert len({r.name for r in found}) == len(found), "two routes share a name"
    for route in found:
        assert (ROUTER.parent / route.component).resolve().is_file(), f"{route.name}: {route.component} is missing"
    audiences = {r.audience for r in found}
    assert audiences == {None, "resident", "merchant"}, audiences


# -- 1. Nothing from outside 127.0.0.1 ------------------------------------------------------------------------

@pytest.mark.browser
def test_no_page_loads_anything_from_outside_the_app(app, phone, site):
    urls = build_city(app)
    tokens = {"resident": logged_in_refresh_token(app, RESIDENT_PHONE),
              "merchant": logged_in_refresh_token(app, STAFF_PHONE, staff=True)}
    outside: list[str] = []
    failed: list[str] = []
    current = {"route": "(start)"}

    def local(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("data", "blob") or parts.hostname == "127.0.0.1"

    def guard(page):
        def route_request(route):
            if local(route.request.url):
                route.continue_()
            else:  # never let it out: record it and answer as if the network were down
                outside.append(f"{current['route']}: {route.request.resource_type} {route.request.url}")
                route.abort()

        page.context.route("**/*", route_request)
        page.on("request", lambda r: local(r.url) or outside.append(f"{current['route']}: {r.url}"))
        page.on("websocket", lambda w: local(w.url) or outside.append(f"{current['route']}: websocket {w.url}"))
        page.on("response", lambda r: r.status >= 500 and failed.append(f"{current['route']}: {r.status} {r.url}"))
        page.on("requestfailed", lambda r: local(r.url) and r.failure != "net::ERR_ABORTED"
                and failed.append(f"{current['route']}: {r.url} failed ({r.failure})"))

    seen = []
    for route, page in walk(phone, site, tokens, urls, before=guard):
        current["route"] = route.name
        seen.append(route.name)
        # a late request (a lazy chunk, a picture) still counts for this page
        page.wait_for_timeout(200)
    assert sorted(seen) == sorted(r.name for r in routes()), "not every route was loaded"
    assert not outside, "requests to hosts other than 127.0.0.1:\n" + "\n".join(outside)
    assert not failed, "server errors or failed requests while loading the pages:\n" + "\n".join(failed)


#: Addresses that appear in the built files but are never fetched, each for a stated reason. Exact strings only.
NEVER_FETCHED = {
    # XML namespace names: identifiers Vue's runtime (and SVG icons) pass to createElementNS/setAttributeNS or
    # write as xmlns="…". A namespace name is compared as a string; the browser does not dereference it.
    "http://www.w3.org/2000/svg": "SVG namespace",
    "http://www.w3.org/1999/xlink": "XLink namespace",
    "http://www.w3.org/1998/Math/MathML": "MathML namespace",
    "http://www.w3.org/XML/1998/namespace": "XML namespace",
    "http://www.w3.org/2000/xmlns/": "XMLNS namespace",
    # Vue's production build puts this link in the text of a console warning for a runtime error code
    # (`https://vuejs.org/error-reference/#runtime-${n}`); it is printed, not requested.
    "https://vuejs.org/error-reference/#runtime-${n}": "Vue error-reference link in console text",
}
_URL = re.compile(r"https?://[^\s\"'`()<>\\]+")
#: Comments in JS/CSS and HTML: licence headers that keep their links; never executed, so never fetched.
_COMMENT = re.compile(r"/\*.*?\*/|<!--.*?-->", re.DOTALL)


def test_the_built_files_name_no_address_that_would_be_fetched(h5_built):
    offending = []
    for path in sorted(h5_built.rglob("*")):
        if not path.is_file() or path.suffix not in {".html", ".js", ".css", ".svg", ".json", ".webmanifest"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        comments = [m.span() for m in _COMMENT.finditer(text)]
        for match in _URL.finditer(text):
            if match[0] in NEVER_FETCHED or any(a <= match.start() < b for a, b in comments):
                continue
            context = text[max(0, match.start() - 40):match.end() + 20].replace("\n", " ")
            offending.append(f"{path.relative_to(h5_built)}: {match[0]}  …{context}…")
    assert not offending, ("addresses outside the app in the built client (if one is truly never fetched, add it "
                           "to NEVER_FETCHED with the reason):\n" + "\n".join(offending))


# -- 4. Bundle budget ------------------------------------------------------------------------------------------

def manifest(dist=DEFAULT_DIST) -> dict:
    path = dist / ".vite" / "manifest.json"
    assert path.is_file(), f"{path} is missing: h5/vite.config.js must keep build.manifest: true"
    return json.loads(path.read_text(encoding="utf-8"))


def static_closure(chunks: dict, key: str) -> list[str]:
    """The chunk `key` and every chunk it imports statically, transitively, in a stable order."""
    seen: list[str] = []
    stack = [key]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.append(current)
        stack.extend(reversed(chunks[current].get("imports", [])))
    return seen


def gzip_size(path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def shell_files(chunks: dict, keys: list[str]) -> list[str]:
    files = []
    for key in keys:
        for name in [chunks[key]["file"], *chunks[key].get("css", [])]:
            if name not in files:
                files.append(name)
    return files


def first_screen(dist=DEFAULT_DIST) -> dict[str, int]:
    """gzip -9 bytes of each file of the first screen's shell: index.html, the entry and its static imports."""
    chunks = manifest(dist)
    (entry,) = [k for k, v in chunks.items() if v.get("isEntry")]
    sizes = {"index.html": gzip_size(dist / "index.html")}
    for name in shell_files(chunks, static_closure(chunks, entry)):
        sizes[name] = gzip_size(dist / name)
    return sizes


def test_the_first_screen_fits_its_budget_and_every_page_is_loaded_on_demand(h5_built):
    chunks = manifest(h5_built)
    entries = [k for k, v in chunks.items() if v.get("isEntry")]
    assert entries == ["index.html"], entries
    shell = static_closure(chunks, "index.html")
    sizes = first_screen(h5_built)
    total = sum(sizes.values())
    listing = "\n".join(f"  {size:>8,} B  {name}" for name, size in sizes.items())
    assert total <= SHELL_BUDGET, f"first screen's shell is {total:,} B gzip (budget {SHELL_BUDGET:,}):\n{listing}"
    for route in routes():
        view = chunks.get(route.source)
        assert view, f"{route.name}: {route.source} is not a chunk of its own in the manifest"
        assert view.get("isDynamicEntry"), f"{route.name}: {route.source} is not loaded on demand"
        assert route.source in chunks["index.html"].get("dynamicImports", []), route.name
        assert route.source not in shell, f"{route.name}: its page is imported statically by the shell"
    # The home page the resident lands on, with its own static imports, still fits (what the first visit costs).
    home = [r for r in routes() if r.name == "home"][0]
    extra = [f for f in shell_files(chunks, static_closure(chunks, home.source)) if f not in sizes]
    with_home = total + sum(gzip_size(h5_built / f) for f in extra)
    assert with_home <= SHELL_BUDGET, (f"the shell with the home page is {with_home:,} B gzip "
                                       f"(budget {SHELL_BUDGET:,}); home adds {extra}")
