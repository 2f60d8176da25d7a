"""Revalidated public documents: a strong ETag made from the body, ``Cache-Control: no-cache`` and
``304 Not Modified`` on a matching ``If-None-Match`` (the scenario catalogue, the districts)."""

from __future__ import annotations

import hashlib
import json

from flask import current_app, request
from marshmallow import Schema

#: What the OpenAPI document says about every such response (``@blp.response(..., headers=CACHE_HEADERS)``).
CACHE_HEADERS = {
    "ETag": {"description": "Strong validator of this body: send it back as If-None-Match.",
             "schema": {"type": "string"}},
    "Cache-Control": {"description": "`no-cache`: keep it, but revalidate before each use.",
                      "schema": {"type": "string"}},
}
IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
                 "description": "The ETag of a copy held: 304 with an empty body when it is still current."}
NOT_MODIFIED = {"description": "Not Modified: the copy held (If-None-Match) is current; empty body.",
                "headers": CACHE_HEADERS}


def revalidated(schema: Schema, data):
    """``data`` (what the schema reads) dumped as a JSON response with its ETag, or an empty 304 when the client
    already holds it.

    The ETag hashes the canonical JSON (sorted keys), so the same content always has the same tag, in every
    process, whatever order a query returned it in before dumping."""
    body = schema.dump(data)
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    etag = hashlib.sha256(text.encode()).hexdigest()[:40]
    if request.if_none_match.contains_weak(etag) or request.if_none_match.star_tag:
        response = current_app.response_class(status=304)
    else:
        response = current_app.response_class(text, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response
