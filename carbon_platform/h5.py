"""``/h5/``: the residents' and merchants' mobile client (Vue 3 + Vant 4), served from its Vite build.

The client is a static single-page application that talks only to ``/api/v1``; nothing here renders a
resident's data. Its sources live in the top-level ``h5/`` folder and ``make h5`` builds them into
``h5/dist`` (``CARBON_H5_DIST`` to serve another folder). Routes are history-mode: any path under ``/h5/``
that is not a built file answers ``index.html`` and the client's router takes over.

``/`` sends a phone to ``/h5/``; a desktop browser gets a short page with the three ways in.
"""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path

from flask import Blueprint, current_app, redirect, render_template_string, request, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

bp = Blueprint("h5", __name__)

DEFAULT_DIST = Path(__file__).resolve().parents[1] / "h5" / "dist"
#: Files Vite names by their content hash: they never change, so a browser may keep them for a year.
HASHED = re.compile(r"^assets/")
#: Files that must be revalidated on every load so that a new build is picked up at once.
ALWAYS_REVALIDATE = {"index.html", "sw.js", "manifest.webmanifest"}
#: Text files the build also writes gzipped beside themselves (``make h5``), sent as they are to a browser that
#: accepts gzip: the shell crosses a slow phone network at a third of its size, with no compression per request.
PRECOMPRESSED = (".js", ".css", ".html", ".svg", ".webmanifest")
PHONE = re.compile(r"Mobile|Android|iPhone|iPad|HarmonyOS|MicroMessenger|AlipayClient", re.IGNORECASE)

NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<title>H5 客户端未构建 · H5 client not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<body style="font-family: sans-serif; margin: 2rem; line-height: 1.6">
<h1>H5 客户端尚未构建</h1><p>请在项目目录运行 <code>make h5</code>（<code>make run</code> 会自动构建）。</p>
<h1 lang="en">The H5 client is not built</h1><p lang="en">Run <code>make h5</code> in the project folder
(<code>make run</code> builds it for you).</p></body></html>"""

LANDING = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>碳惠泰安 · Carbon Inclusion Tai'an</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<body style="font-family: sans-serif; margin: 2rem auto; max-width: 40rem; line-height: 1.7; color: #1f2d24">
<h1 style="color: #1d7a46">碳惠泰安 <small lang="en" style="color: #555">Carbon Inclusion Tai'an</small></h1>
<p>绿色出行、垃圾分类、节约用电……每一次低碳行为都能换成碳积分。</p>
<p lang="en">Green trips, waste sorting, saving power: every low-carbon action earns carbon points.</p>
<ul>
<li><a href="{{ url_for('h5.client') }}">居民与商户手机端 · Residents' and merchants' mobile client</a></li>
<li><a href="/admin/">管理后台 · Admin console</a></li>
<li><a href="/api/docs">API 文档 · API documentation</a></li>
</ul></body></html>"""


def dist() -> Path:
    return Path(current_app.config.get("H5_DIST") or DEFAULT_DIST)


@bp.get("/")
def home():
    if PHONE.search(request.headers.get("User-Agent", "")):
        return redirect("/h5/", code=302)
    return render_template_string(LANDING)


@bp.get("/h5")
def without_slash():
    return redirect("/h5/", code=301)


@bp.get("/h5/", defaults={"path": ""}, endpoint="client")
@bp.get("/h5/<path:path>")
def serve(path: str):
    folder = dist()
    if not (folder / "index.html").is_file():
        return NOT_BUILT, 503, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    target = safe_join(str(folder), path) if path else None
    if target is None or not os.path.isfile(target):
        if path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
            raise NotFound()  # a missing file, not a client route: never answer HTML for a script
        path = "index.html"
    response = send_compressed(folder, path)
    if HASHED.match(path):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    elif path in ALWAYS_REVALIDATE or path.endswith(".html"):
        response.headers["Cache-Control"] = "no-cache"
    if path == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/h5/"
    return response


def send_compressed(folder: Path, path: str):
    """The file, or its ``.gz`` twin with ``Content-Encoding: gzip`` when the browser takes gzip and it exists."""
    gzipped = folder / (path + ".gz")
    if (path.endswith(PRECOMPRESSED) and "gzip" in request.headers.get("Accept-Encoding", "")
            and gzipped.is_file()):
        mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if path.endswith(".webmanifest"):
            mimetype = "application/manifest+json"
        response = send_from_directory(folder, path + ".gz", mimetype=mimetype, max_age=0, etag=True)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_from_directory(folder, path, max_age=0)
    if path.endswith(PRECOMPRESSED):
        response.vary.add("Accept-Encoding")
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
