"""The H5 client's first screen: its gzip budget, and how long home takes to become interactive on a slow phone.

    .venv/bin/python benchmarks/h5_shell.py              # 5 interleaved rounds, medians (make h5 first)
    .venv/bin/python benchmarks/h5_shell.py --rounds 3

The app is served over real HTTP (werkzeug, a thread per connection) on a demo-seeded SQLite database in a temporary
folder, and Debian's chromium opens the built client at /h5/ logged in as a demo resident (泰山挑山工), under
Chrome DevTools' "Fast 3G" preset and a 4x slower CPU, both through the DevTools protocol:

    Network.emulateNetworkConditions   latency 150 ms x 3.75 = 562.5 ms,
                                       download 1.6 Mbit/s x 0.9 = 180,000 B/s, upload 750 kbit/s x 0.9 = 84,375 B/s
    Emulation.setCPUThrottlingRate     4

"Interactive" is measured from navigation start (performance.now() in the page) to the moment the home page's
balance, `[data-test=available]`, shows a number, and then to the first idle callback after it (the main
thread free to answer a tap). Cold: a new browser profile (empty HTTP cache); warm: the
same profile opening home again (hashed assets from its cache, index.html revalidated). Service workers are off, so
this is the HTTP cache alone.

The peer, measured in the same run under the same throttling and server: a minimal static page of equal size (an
HTML file as large as the client's index.html, one script and one stylesheet as large as the shell's JS and CSS,
their bytes the shell's own inside comments so that they compress alike) that fetches one small JSON file and
writes its number into the same element. Each figure is printed with its ratio to the peer's.

Each is measured twice: as the app serves the files itself (as `make run` does: the client's own files from the gzip
twins `make h5` writes, the API's JSON uncompressed; the peer's files uncompressed), and with every response
gzip-compressed as the reverse proxy in front of it in production would (nginx `gzip on`; here a small WSGI wrapper,
level 6). The peer is uncompressed in the first, so compare the client with the peer in the second.
The script prints; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from carbon_platform import create_app, seeding  # noqa: E402
from carbon_platform.db import commit  # noqa: E402
from carbon_platform.h5 import DEFAULT_DIST  # noqa: E402

CHROMIUM = os.environ.get("CARBON_TEST_CHROMIUM", "/usr/bin/chromium")
RESIDENT = "13800000001"
FAST_3G = {"offline": False, "latency": 150 * 3.75, "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,
           "uploadThroughput": 750 * 1000 / 8 * 0.9}
CPU_SLOWDOWN = 4
BALANCE = "[data-test=available]"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai", "service_workers": "block",
         "user_agent": ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "Chrome/156.0.0.0 Mobile Safari/537.36")}
QUIET = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-quic"]


# -- The budget: what the first screen downloads --------------------------------------------------------------

def shell_files(dist: Path = DEFAULT_DIST) -> list[str]:
    """index.html, the entry's JS and CSS and every chunk the entry imports statically (Vite's manifest)."""
    chunks = json.loads((dist / ".vite" / "manifest.json").read_text(encoding="utf-8"))
    files, seen, stack = ["index.html"], set(), ["index.html"]
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        for name in [chunks[key]["file"], *chunks[key].get("css", [])]:
            if name not in files:
                files.append(name)
        stack.extend(chunks[key].get("imports", []))
    return files


def print_budget(dist: Path) -> list[str]:
    files = shell_files(dist)
    print("First screen's shell (budget 300 KB gzip, tests/h5/test_quality.py):")
    raw_total = gz_total = 0
    for name in files:
        data = (dist / name).read_bytes()
        raw, gz = len(data), len(gzip.compress(data, compresslevel=9))
        raw_total, gz_total = raw_total + raw, gz_total + gz
        print(f"  {name:<34} {raw:>9,} B   {gz:>8,} B gzip -9")
    print(f"  {'total':<34} {raw_total:>9,} B   {gz_total:>8,} B gzip -9 ({gz_total / 1000:.1f} KB of 300)")
    return files


# -- The server: the app, the peer's static page, optionally gzip in front --------------------------------------

def demo_app(folder: Path):
    app = create_app({"SECRET_KEY": "h5-shell-benchmark-secret-key-0123456789abcdef", "SMS_SENDER": "memory",
                      "RATELIMIT_ENABLED": False, "DATABASE_URL": f"sqlite:///{folder / 'carbon.db'}",
                      "UPLOAD_FOLDER": str(folder / "uploads")})
    with app.app_context():
        upgrade()
        seeding.load_reference()
        seeding.load_demo()
        commit()
    return app


def refresh_token(app) -> str:
    """A real login of the demo resident through the API (the code read from the in-memory SMS sender)."""
    import re

    from carbon_platform.services.identity import normalise_phone

    client = app.test_client()
    assert client.post("/api/v1/auth/codes", json={"phone": RESIDENT}).status_code == 202
    message = app.extensions["sms_sender"].last_to(normalise_phone(RESIDENT))
    code = re.search(r"\d{6}", message).group()
    response = client.post("/api/v1/auth/tokens", json={"phone": RESIDENT, "code": code})
    assert response.status_code == 201, response.json
    return response.json["refresh_token"]


def peer_page(folder: Path, dist: Path, files: list[str]) -> None:
    """The peer: a static page of the shell's size that fetches one JSON file and shows its number."""
    folder.mkdir()
    js = "".join((dist / f).read_text(encoding="utf-8") for f in files if f.endswith(".js"))
    css = "".join((dist / f).read_text(encoding="utf-8") for f in files if f.endswith(".css"))
    script = ("fetch('me.json').then((r) => r.json()).then((me) => {"
              f" document.querySelector('{BALANCE}').textContent = me.available_points }})\n")
    (folder / "app.js").write_text("/*" + js.replace("*/", "* /") + "*/\n" + script, encoding="utf-8")
    (folder / "app.css").write_text("/*" + css.replace("*/", "* /") + "*/\n", encoding="utf-8")
    (folder / "me.json").write_text(json.dumps({"available_points": 1830}), encoding="utf-8")
    html = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width, initial-scale=1"><title>peer</title>'
            '<link rel="stylesheet" href="app.css"><script defer src="app.js"></script></head>'
            f'<body><div {BALANCE[1:-1]}></div></body></html>')
    target = (dist / "index.html").stat().st_size
    html += "<!--" + "x" * max(0, target - len(html) - 7) + "-->"
    (folder / "index.html").write_text(html, encoding="utf-8")


class Site:
    """The app at /, the peer at /peer/, each response gzip-compressed when `compress` is set."""

    def __init__(self, app, peer: Path):
        self.app, self.peer, self.compress = app, peer, False

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/peer/"):
            status, headers, body = self.static(path[len("/peer/"):] or "index.html", environ)
        else:
            captured = {}

            def capture(status, headers, exc_info=None):
                captured.update(status=status, headers=headers)

            chunks = self.app(environ, capture)
            try:
                body = b"".join(chunks)
            finally:
                getattr(chunks, "close", lambda: None)()
            status, headers = captured["status"], list(captured["headers"])
        kind = dict((k.lower(), v) for k, v in headers).get("content-type", "")
        if self.compress and body and any(t in kind for t in ("javascript", "css", "html", "json", "svg")) and (
                "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")):
            body = gzip.compress(body, compresslevel=6)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body))), ("Vary", "Accept-Encoding")]
        start_response(status, headers)
        return [body]

    def static(self, name: str, environ):
        """Cached as the client's files are: the page revalidated (ETag, 304), script and style kept (as Vite's
        hashed assets are), the data never."""
        path = self.peer / name
        if not path.is_file():
            return "404 NOT FOUND", [("Content-Type", "text/plain")], b"not found"
        kinds = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".json": "application/json"}
        caching = {".html": "no-cache", ".js": "public, max-age=31536000, immutable",
                   ".css": "public, max-age=31536000, immutable", ".json": "no-store"}[path.suffix]
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = [("Content-Type", kinds[path.suffix]), ("Cache-Control", caching), ("ETag", etag)]
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            return "304 NOT MODIFIED", headers, b""
        return "200 OK", headers, body


# -- The measurement ---------------------------------------------------------------------------------------------

SHOWN = """(selector) => {
  const el = document.querySelector(selector)
  return el && /\\d/.test(el.textContent) ? performance.now() : false
}"""
IDLE = "() => new Promise((done) => requestIdleCallback(() => done(performance.now()), { timeout: 10000 }))"
#: Requests finished by the time the balance showed, and the bytes they took on the wire (headers included).
FETCHED = """(shown) => {
  const done = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
    .filter((e) => e.responseEnd <= shown)
  return [done.length, done.reduce((sum, e) => sum + (e.transferSize || 0), 0)]
}"""


def measure(page, url: str) -> tuple[float, float, int, int]:
    """(ms to the balance shown, ms to the main thread idle after it, requests and bytes before it was shown),
    from navigation start."""
    page.goto(url, wait_until="commit", timeout=120_000)
    shown = page.wait_for_function(SHOWN, arg=BALANCE, timeout=120_000, polling="raf").json_value()
    idle = page.evaluate(IDLE)
    requests, wire = page.evaluate(FETCHED, shown)
    page.wait_for_load_state("networkidle", timeout=120_000)  # a rotated refresh token is stored before the next load
    return shown, idle, requests, wire


def throttle(context, page) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", FAST_3G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})


def one_round(browser, base: str, target: str, token: str | None) -> dict[str, tuple]:
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        if target == "app":
            page.goto(f"{base}/h5/manifest.webmanifest")  # same origin: put the login where the client keeps it
            page.evaluate("t => localStorage.setItem('carbon.h5.resident.refresh', t)", token)
            url = f"{base}/h5/"
        else:
            page.goto(f"{base}/peer/me.json")
            url = f"{base}/peer/"
        throttle(context, page)
        cold = measure(page, url)
        warm = measure(page, url)
        return {"cold": cold, "warm": warm}
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not (DEFAULT_DIST / ".vite" / "manifest.json").is_file():
        sys.exit(f"the H5 client is not built with its manifest at {DEFAULT_DIST} (make h5)")
    from playwright.sync_api import sync_playwright

    files = print_budget(DEFAULT_DIST)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = demo_app(folder)
        peer_page(folder / "peer", DEFAULT_DIST, files)
        site = Site(app, folder / "peer")
        server = make_server("127.0.0.1", 0, site, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        results = {(c, t, w): [] for c in (False, True) for t in ("app", "peer") for w in ("cold", "warm")}
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET)
                for n in range(args.rounds):
                    for compress in (False, True):  # interleaved: each round measures everything once
                        site.compress = compress
                        for target in ("app", "peer"):
                            token = refresh_token(app) if target == "app" else None
                            for which, figures in one_round(browser, base, target, token).items():
                                results[(compress, target, which)].append(figures)
                    print(f"  round {n + 1} of {args.rounds} done", file=sys.stderr)
                browser.close()
        finally:
            server.shutdown()
    print(f"\nHome interactive, Fast 3G + {CPU_SLOWDOWN}x CPU, medians of {args.rounds} interleaved rounds "
          f"(navigation start to {BALANCE} shows a number; then to the first idle callback):")
    print(f"  {'served':<24} {'load':<5} {'H5 shown':>9} {'H5 idle':>9} {'peer idle':>10} {'ratio':>6}"
          f" {'H5 requests, bytes before shown':>32}")
    for compress in (False, True):
        for which in ("cold", "warm"):
            ours = results[(compress, "app", which)]
            peer = results[(compress, "peer", which)]
            shown = statistics.median(r[0] for r in ours)
            idle = statistics.median(r[1] for r in ours)
            peer_idle = statistics.median(r[1] for r in peer)
            requests = statistics.median(r[2] for r in ours)
            wire = statistics.median(r[3] for r in ours)
            label = "gzip (as behind nginx)" if compress else "as the app serves it"
            print(f"  {label:<24} {which:<5} {shown:>6.0f} ms {idle:>6.0f} ms {peer_idle:>7.0f} ms "
                  f"{idle / peer_idle:>5.2f}x {requests:>14.0f} {wire:>14,.0f} B")

if __name__ == "__main__":
    main()
