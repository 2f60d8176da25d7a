"""Evidence photos: checked before they are decoded, re-encoded clean, stored under random names.

- Only JPEG, PNG and WebP, recognised by their content, not their file name.
- The byte limit is the request limit (CARBON_MAX_CONTENT_LENGTH, 413). The pixel limits are checked from the header,
  before a single pixel is decoded, so a small file declaring 50,000 × 50,000 pixels costs nothing. Bytes do not
  bound decoding: a 308 KB PNG of 40 megapixels took 1.3 s of CPU and 230 MB to decode. So no upload decodes more
  than MAX_DECODED_PIXELS: PNG, WebP and progressive JPEG (which libjpeg buffers whole) are refused above it, and
  baseline JPEG, up to MAX_JPEG_PIXELS, is decoded at 1/2, 1/4 or 1/8 scale (``Image.draft``, libjpeg's DCT
  scaling) to the stored size or below the limit, whichever is smaller.
- What is stored is a new JPEG at most STORED_MAX_SIDE pixels on its long side: orientation applied, and no EXIF
  at all (no GPS, no maker notes, no camera serial), plus a thumbnail. Names are random; the upload's name is
  never used.
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
from points_rules import trust

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
#: The most pixels one upload may cost to decode: a 12-megapixel phone photo (about 36 MB as RGB).
MAX_DECODED_PIXELS = 12_000_000
#: Baseline JPEGs up to this (a 50-megapixel phone's full-size photo) are decoded at a reduced scale.
MAX_JPEG_PIXELS = 64_000_000
#: What is kept: reviewers read tickets and certificates at this size; the rest is cost.
STORED_MAX_SIDE = 2048
THUMBNAIL = (320, 320)
MAX_PER_ACTION = 5
#: How many photos each evidence requirement in the rulebook asks for (the engine's table, so both count alike).
PHOTOS_NEEDED = trust.PHOTOS_NEEDED
JPEG_SCALES = (1, 2, 4, 8)  # the reductions libjpeg decodes at directly


class BadPhoto(InvalidInput):
    code = "invalid_photo"


class PhotoTooLarge(BadPhoto):
    code = "photo_too_large"


def folder(kind: str = "evidence") -> str:
    path = os.path.join(current_app.config["UPLOAD_FOLDER"], kind)
    os.makedirs(path, exist_ok=True)
    return path


def clean_image(data: bytes, field: str = "photo") -> Image.Image:
    """Check an uploaded image without decoding it, then decode it (at a reduced scale where the format allows),
    upright, without metadata and at most STORED_MAX_SIDE pixels on its long side."""
    if not data:
        raise BadPhoto("the photo is empty", field=field)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))  # reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoTooLarge(_too_many_pixels(), field=field) from None
        except (UnidentifiedImageError, OSError):
            raise BadPhoto("not a JPEG, PNG or WebP image", field=field) from None
        if image.format not in ALLOWED_FORMATS:
            raise BadPhoto(f"{image.format} is not accepted; send JPEG, PNG or WebP", field=field)
        _reduce_decoding(image, field)
        try:
            clean = ImageOps.exif_transpose(image).convert("RGB")  # decodes; orientation applied
        except (OSError, ValueError, Image.DecompressionBombWarning):
            raise BadPhoto("the image data is damaged", field=field) from None
    clean.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE))
    return clean


def _too_many_pixels(width: int | None = None, height: int | None = None) -> str:
    size = f"{width} × {height} pixels is too many: " if width else "too many pixels: "
    return (f"{size}send at most {MAX_DECODED_PIXELS:,} pixels "
            f"(a baseline JPEG may have up to {MAX_JPEG_PIXELS:,})")


def _reduce_decoding(image: Image.Image, field: str) -> None:
    """Refuse what would cost more than MAX_DECODED_PIXELS to decode; have baseline JPEGs decode reduced."""
    width, height = image.size
    pixels = width * height
    baseline_jpeg = image.format == "JPEG" and not image.info.get("progressive")
    if pixels > (MAX_JPEG_PIXELS if baseline_jpeg else MAX_DECODED_PIXELS):
        raise PhotoTooLarge(_too_many_pixels(width, height), field=field)
    if image.format != "JPEG":
        return  # PNG and WebP decode only in full
    # The largest scale that still gives at least the stored size, or the smallest that keeps the decoded
    # pixels within the limit if that is larger. draft() picks the scale from a requested size.
    keeps_size = max(s for s in JPEG_SCALES if s == 1 or max(width, height) // s >= STORED_MAX_SIDE)
    within_limit = next((s for s in JPEG_SCALES if -(-width // s) * -(-height // s) <= MAX_DECODED_PIXELS), 8)
    scale = max(keeps_size, within_limit)
    if scale > 1:
        image.draft("RGB", (max(1, width // scale), max(1, height // scale)))
    if image.size[0] * image.size[1] > MAX_DECODED_PIXELS:  # draft() declined (an unusual file): do not decode
        raise PhotoTooLarge(_too_many_pixels(width, height), field=field)


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
