"""``carbon-platform serve``: the development server, announcing where everything is."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from carbon_platform.seeding import read


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def serve(host: str, port: int):
    """Serve with the development server (production: gunicorn, see README)."""
    base = f"http://{host}:{port}"
    demo = read("demo.yaml")
    lines = [
        "",
        "碳惠泰安 is running:",
        f"  居民手机端 residents     {base}/h5/",
        f"  商户核销 merchant staff  {base}/h5/merchant",
        f"  管理后台 admin console   {base}/admin/",
        f"  API 文档 API docs        {base}/api/docs",
        f"  OpenAPI                  {base}/api/v1/openapi.json",
        f"  健康检查 health          {base}/healthz",
        "",
        "Demo logins (public passwords, development only):",
        *(f"  admin  {a['username']:<10} {a['password']:<22} ({a['role']})" for a in demo["administrators"]),
        *(f"  admin  {s['username']:<10} {s['password']:<22} (bank, {b['name']})"
          for b in demo["financial_institutions"] for s in b["staff"]),
        *(f"  resident +86 {r['phone']}  (the login code is printed here when requested)"
          for r in demo["residents"][:2]),
        *(f"  staff    +86 {s['phone']}  ({s['role']}, {m['name']}; at {base}/h5/merchant/login)"
          for m in demo["merchants"][:1] for s in m["staff"]),
        *(f"  enterprise +86 {e['contact_phone']}  ({e['name']}; the API's /api/v1/enterprise/auth)"
          for e in demo["enterprises"][:1]),
        "",
    ]
    click.echo("\n".join(lines))
    run_simple(host, port, current_app._get_current_object(), threaded=True)
