"""Evidence photos: limits checked before decoding, decoding bounded per upload, clean copies, owner-only access."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image, ImageFile

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, Evidence
from carbon_platform.services import evidence
from tests import factories as f
from tests.admin.test_console import log_in
from tests.mobile_api.helpers import assert_error, resident_headers

BEIJING = timezone(timedelta(hours=8))



def jpeg_with_gps(width=64, height=48) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Orientation] = 6  # rotate 90° when shown
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (36.0, 12.0, 0.0)
    out = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width × height`` pixels (its data would never decode)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + \
        chunk(b"IEND", b"")


def fetch(client, url, headers=None):
    """(status, mimetype, body) of a file response, closed (send_file keeps the file open until then)."""
    with client.get(url, headers=headers) as response:
        return response.status_code, response.mimetype, response.data


def upload(client, headers, data: bytes, name="photo.jpg"):
    return client.post("/api/v1/evidence", headers=headers, content_type="multipart/form-data",
                       data={"photo": (io.BytesIO(data), name)})


def test_a_photo_is_stored_clean_upright_and_without_gps(client, headers):
    response = upload(client, headers, jpeg_with_gps())
    assert response.status_code == 201, response.json
    assert (response.json["width"], response.json["height"]) == (48, 64)  # orientation 6 applied
    stored = Image.open(io.BytesIO(fetch(client, f"/api/v1/evidence/{response.json['id']}", headers)[2]))
    exif = stored.getexif()
    assert stored.format == "JPEG" and stored.size == (48, 64)
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo) and ExifTags.Base.Make not in exif and len(exif) == 0
    status, mimetype, _body = fetch(client, f"/api/v1/evidence/{response.json['id']}/thumbnail", headers)
    assert (status, mimetype) == (200, "image/jpeg")


def test_more_than_ten_mebibytes_is_413(client, headers):
    # A raw multipart body, as a phone sends it (the test client would spool a dict of files to disk).
    boundary = "photo-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"big.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff" * (11 * 1024 * 1024) + \
        f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/api/v1/evidence", headers=headers, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert_error(response, 413, "payload_too_large")


@pytest.fixture
def decoded(monkeypatch):
    """The size of every image the app decodes (Pillow's ``load``), in order: what a request cost to clean."""
    sizes = []
    original = ImageFile.ImageFile.load

    def load(image):
        if image.tile:  # not yet decoded: this call does the work
            sizes.append(image.size)
        return original(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return sizes


def stored_photos(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count(Evidence.id))).scalar_one()


def jpeg(width: int, height: int, **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(out, "JPEG", quality=50, **options)
    return out.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small valid baseline JPEG whose frame header is rewritten to declare ``width × height``."""
    data = bytearray(jpeg(16, 16))
    sof = data.index(b"\xff\xc0")  # SOF0: marker, length (2), precision (1), height (2), width (2)
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_a_small_png_declaring_fifty_thousand_squared_is_refused_without_decoding(client, headers, decoded):
    assert_error(upload(client, headers, png_claiming(50_000, 50_000), "huge.png"), 422, "photo_too_large")
    assert decoded == []  # 2.5 gigapixels would take minutes and gigabytes; decoding never starts


def test_a_small_png_of_forty_megapixels_is_refused_before_decoding(app, client, headers, decoded):
    # The file: a few hundred KB of PNG that cost 1.3 s of CPU and 230 MB to decode. One bit per pixel
    # keeps this test's own copy at 5 MB.
    png = io.BytesIO()
    Image.new("1", (7700, 5160)).save(png, "PNG")
    assert len(png.getvalue()) < 1024 * 1024
    body = assert_error(upload(client, headers, png.getvalue(), "flat.png"), 422, "photo_too_large")
    assert "12,000,000" in body["message"] and body["details"] == {"field": "photo"}
    assert decoded == [] and stored_photos(app) == 0


@pytest.mark.parametrize("kind", ["PNG", "WEBP", "progressive JPEG"])
def test_formats_decoded_in_full_are_refused_above_the_pixel_limit(app, client, headers, decoded, monkeypatch,
                                                                    kind):
    monkeypatch.setattr(evidence, "MAX_DECODED_PIXELS", 100 * 100)

    def image(width, height):
        if kind == "progressive JPEG":
            return jpeg(width, height, progressive=True)
        out = io.BytesIO()
        Image.new("RGB", (width, height), "green").save(out, kind)
        return out.getvalue()

    assert_error(upload(client, headers, image(101, 100)), 422, "photo_too_large")
    assert decoded == [] and stored_photos(app) == 0
    accepted = upload(client, headers, image(100, 100))
    assert accepted.status_code == 201 and (accepted.json["width"], accepted.json["height"]) == (100, 100)
    assert decoded == [(100, 100)]


def test_a_baseline_jpeg_is_decoded_at_a_reduced_scale_down_to_the_stored_size(app, client, headers, decoded,
                                                                              monkeypatch):
    monkeypatch.setattr(evidence, "STORED_MAX_SIDE", 256)
    stored = upload(client, headers, jpeg(2000, 1500))
    # 1/4 scale is the smallest that still gives 256 pixels on the long side: 500 × 375 decoded, not 3 megapixels.
    assert decoded == [(500, 375)]
    assert stored.status_code == 201 and (stored.json["width"], stored.json["height"]) == (256, 192)


def test_a_baseline_jpeg_above_the_limit_is_decoded_small_enough_to_fit_it(client, headers, decoded, monkeypatch):
    monkeypatch.setattr(evidence, "MAX_DECODED_PIXELS", 100 * 100)
    stored = upload(client, headers, jpeg(300, 200))  # 60,000 pixels; 1/4 scale is the first within 10,000
    assert stored.status_code == 201 and decoded == [(75, 50)]
    assert (stored.json["width"], stored.json["height"]) == (75, 50)


def test_a_jpeg_declaring_more_than_the_jpeg_limit_is_refused_without_decoding(app, client, headers, decoded):
    assert_error(upload(client, headers, jpeg_claiming(9000, 8000)), 422, "photo_too_large")  # 72 megapixels
    assert decoded == [] and stored_photos(app) == 0


def test_a_non_image_renamed_jpg_is_refused(client, headers):
    assert_error(upload(client, headers, b"%PDF-1.7 not a photo at all", "ticket.jpg"), 422, "invalid_photo")
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    assert_error(upload(client, headers, gif.getvalue(), "anim.jpg"), 422, "invalid_photo")


def test_photos_are_only_their_owners(client, app, headers):
    photo_id = upload(client, headers, jpeg_with_gps()).json["id"]
    other = resident_headers(client, app)
    theirs, missing = client.get(f"/api/v1/evidence/{photo_id}", headers=other), client.get(
        "/api/v1/evidence/999999", headers=other)
    assert theirs.status_code == missing.status_code == 404 and theirs.json == missing.json
    report = client.post("/api/v1/actions", headers={**other, "Idempotency-Key": "steal"}, json={
        "scenario": "pv_installation", "occurred_at": datetime.now(BEIJING).isoformat(), "evidence": [photo_id, 1]})
    assert_error(report, 404)


def test_a_scene_needing_photos_refuses_a_report_without_them_and_reviewers_see_them(client, app, headers):
    when = datetime.now(BEIJING).isoformat()
    bare = client.post("/api/v1/actions", headers={**headers, "Idempotency-Key": "pv-0"},
                       json={"scenario": "pv_installation", "occurred_at": when})
    assert_error(bare, 422, "evidence_required")
    photos = [upload(client, headers, jpeg_with_gps()).json["id"] for _ in range(2)]
    report = client.post("/api/v1/actions", headers={**headers, "Idempotency-Key": "pv-1"},
                         json={"scenario": "pv_installation", "occurred_at": when, "evidence": photos})
    assert report.status_code == 201 and report.json["status"] == "review"
    detail = client.get(f"/api/v1/me/actions/{report.json['id']}", headers=headers).json
    assert detail["evidence"] == photos
    with app.app_context():
        f.admin(AdminRole.REVIEWER, username="checker")
        commit()
    console = app.test_client()
    log_in(console, "checker")
    page = console.get("/admin/review").get_data(as_text=True)
    assert f"/admin/evidence/{photos[0]}/thumbnail" in page
    assert fetch(console, f"/admin/evidence/{photos[0]}/full")[:2] == (200, "image/jpeg")
