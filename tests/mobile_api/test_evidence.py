"""Evidence photos: limits checked before decoding, clean re-encoded copies, owner-only access."""

from __future__ import annotations

import io
import struct
import time
import zlib
from datetime import datetime, timedelta, timezone

from PIL import ExifTags, Image

from carbon_platform.db import commit
from carbon_platform.models import AdminRole
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


def test_a_small_png_declaring_fifty_thousand_squared_is_refused_without_decoding(client, headers):
    start = time.perf_counter()
    response = upload(client, headers, png_claiming(50_000, 50_000), "huge.png")
    elapsed = time.perf_counter() - start
    assert_error(response, 422, "invalid_photo")
    assert elapsed < 5  # decoding 2.5 gigapixels would take minutes and gigabytes; this never starts


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
