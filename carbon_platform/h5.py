"""``/h5/``: the residents' and merchants' mobile client (Vue 3 + Vant 4), served from its Vite build.

The client is a static single-page application that talks only to ``/api/v1``; nothing here renders a
resident's data. Its sources live in the top-level ``h5/`` folder and ``make h5`` builds them into
``h5/dist`` (``CARBON_H5_DIST`` to serve another folder). Routes are history-mode: any path under ``/h5/``
that is not a built file answers ``index.html`` and the client's router takes over.

``/`` is the public page (``carbon_platform/public.py``), for phones too: its first button opens this client.
"""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path

from flask import Blueprint, current_app, redirect, request, send_from_directory
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

NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<title>H5 客户端未构建 · H5 client not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<body style="font-family: sans-serif; margin: 2rem; line-height: 1.6">
<h1>H5 客户端尚未构建</h1><p>请在项目目录运行 <code>make h5</code>（<code>make run</code> 会自动构建）。</p>
<h1 lang="en">The H5 client is not built</h1><p lang="en">Run <code>make h5</code> in the project folder
(<code>make run</code> builds it for you).</p></body></html>"""


def dist() -> Path:
    return Path(current_app.config.get("H5_DIST") or DEFAULT_DIST)


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
