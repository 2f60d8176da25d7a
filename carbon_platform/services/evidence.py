"""Evidence photos: checked before they are decoded, re-encoded clean, stored under random names.

- Only JPEG, PNG and WebP, recognised by their content, not their file name.
- The byte limit is the request limit (CARBON_MAX_CONTENT_LENGTH, 413). The pixel limit is checked from the header,
  before a single pixel is decoded, so a small file declaring 50,000 × 50,000 pixels costs nothing.
- What is stored is a new JPEG: orientation applied, and no EXIF at all (no GPS, no maker notes, no camera serial),
  plus a thumbnail. Names are random; the upload's name is never used.
- Photos are served only to their owner and to reviewers.
"""

from __future__ import annotations

import io
import os
import secrets
import warnings

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from carbon_platform.errors import InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Evidence

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; anything larger is not a photo of a bus ticket
THUMBNAIL = (320, 320)
MAX_PER_ACTION = 5


class BadPhoto(InvalidInput):
    code = "invalid_photo"


def folder(kind: str = "evidence") -> str:
    path = os.path.join(current_app.config["UPLOAD_FOLDER"], kind)
    os.makedirs(path, exist_ok=True)
    return path


def clean_image(data: bytes, field: str = "photo") -> Image.Image:
    """Check an uploaded image without decoding it, then decode it upright and without metadata."""
    if not data:
        raise BadPhoto("the photo is empty", field=field)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))  # reads the header only
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError):
            raise BadPhoto("not a JPEG, PNG or WebP image, or far too large", field=field) from None
        if image.format not in ALLOWED_FORMATS:
            raise BadPhoto(f"{image.format} is not accepted; send JPEG, PNG or WebP", field=field)
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise BadPhoto(f"{width} × {height} pixels is more than {MAX_PIXELS:,}", field=field)
        try:
            return ImageOps.exif_transpose(image).convert("RGB")  # decodes; orientation applied
        except (OSError, ValueError, Image.DecompressionBombWarning):
            raise BadPhoto("the image data is damaged", field=field) from None


def save_clean(image: Image.Image, kind: str) -> tuple[str, str, int]:
    """Save a cleaned image and its thumbnail as new JPEGs under random names: (name, thumbnail name, bytes)."""
    stem = secrets.token_hex(16)
    stored, thumb = f"{stem}.jpg", f"{stem}.thumb.jpg"
    image.save(os.path.join(folder(kind), stored), "JPEG", quality=85, optimize=True)  # no exif=: nothing carried
    size = os.path.getsize(os.path.join(folder(kind), stored))
    small = image.copy()
    small.thumbnail(THUMBNAIL)
    small.save(os.path.join(folder(kind), thumb), "JPEG", quality=80)
    return stored, thumb, size


def store(account_id: int, data: bytes) -> Evidence:
    """Check, re-encode and keep one photo for ``account_id``; BadPhoto says what is wrong."""
    clean = clean_image(data)
    stored, thumb, size = save_clean(clean, "evidence")
    evidence = Evidence(account_id=account_id, stored_name=stored, thumbnail_name=thumb, width=clean.width,
                        height=clean.height, bytes=size)
    db.session.add(evidence)
    db.session.flush()
    return evidence


def path_of(evidence: Evidence, *, thumbnail: bool = False) -> str:
    return os.path.join(folder(), evidence.thumbnail_name if thumbnail else evidence.stored_name)


def owned(evidence_id: int, account_id: int) -> Evidence:
    """The owner's photo, or NotFound whether it is missing or someone else's."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.account_id != account_id:
        raise NotFound("photo not found")
    return evidence


def attach(evidence_ids: list[int], account_id: int, action_id: int) -> list[Evidence]:
    if len(evidence_ids) > MAX_PER_ACTION:
        raise InvalidInput(f"at most {MAX_PER_ACTION} photos per action", field="evidence")
    photos = [owned(evidence_id, account_id) for evidence_id in dict.fromkeys(evidence_ids)]
    for photo in photos:
        if photo.action_id not in (None, action_id):
            raise InvalidInput("a photo can support one action only", field="evidence")
        photo.action_id = action_id
    return photos
