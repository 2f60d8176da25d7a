"""Evidence photos: upload (multipart), and the owner's own copies."""

from __future__ import annotations

from flask import g, send_file
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from carbon_platform.db import commit
from carbon_platform.extensions import limiter
from carbon_platform.services import evidence
from mobile_api.auth import BEARER, holder_required
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.common import Output

blp = Blueprint("evidence", __name__, url_prefix="/api/v1/evidence", description="Evidence photos.")


class PhotoUploadSchema(Schema):
    photo = Upload(required=True, metadata={"description": "JPEG, PNG or WebP; at most 10 MiB and 12 megapixels "
                                                           "(baseline JPEG: 64, decoded at a reduced scale)."})


class EvidenceSchema(Output):
    id = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()
    bytes = fields.Integer()


@blp.post("")
@blp.arguments(PhotoUploadSchema, location="files")
@blp.response(201, EvidenceSchema)
@blp.doc(security=[BEARER])
@holder_required
@limiter.limit("60 per hour", key_func=lambda: f"evidence:{g.account_id}")
def upload(files):
    """Upload a photo; send its id with the action it supports. What is kept is a clean re-encoded copy:
    orientation applied, no EXIF (no GPS, no camera details), a server-chosen name."""
    photo = evidence.store(g.account_id, files["photo"].read())
    commit()
    return photo


def _send(evidence_id: int, thumbnail: bool):
    photo = evidence.owned(evidence_id, g.account_id)
    return send_file(evidence.path_of(photo, thumbnail=thumbnail), mimetype="image/jpeg", max_age=0)


@blp.get("/<bigint:evidence_id>")
@blp.response(200, content_type="image/jpeg")
@blp.doc(security=[BEARER])
@holder_required
def show(evidence_id: int):
    """My photo (only its owner, and reviewers in the console, can see it)."""
    return _send(evidence_id, thumbnail=False)


@blp.get("/<bigint:evidence_id>/thumbnail")
@blp.response(200, content_type="image/jpeg")
@blp.doc(security=[BEARER])
@holder_required
def thumbnail(evidence_id: int):
    """My photo, at most 320 pixels on its long side."""
    return _send(evidence_id, thumbnail=True)
