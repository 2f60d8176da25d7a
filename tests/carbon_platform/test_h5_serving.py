"""/h5/ serves the built client: history-mode fallback, cache headers, and no HTML for a missing script."""

from __future__ import annotations

import gzip

import pytest

from carbon_platform import create_app
from tests.conftest import TEST_CONFIG

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/156.0 Mobile Safari/537.36"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


class Client:
    """The test client, closing each response (a file response keeps its file open until closed)."""

    def __init__(self, app):
        self.client = app.test_client()

    def get(self, path, **kwargs):
        response = self.client.get(path, **kwargs)
        response.get_data()
        response.close()
        return response


@pytest.fixture
def built(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=app></div>", encoding="utf-8")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (dist / "sw.js").write_text("self", encoding="utf-8")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "H5_DIST": str(dist)})
    return Client(app)


def test_client_routes_fall_back_to_index(built):
    for path in ("/h5/", "/h5/mall/3", "/h5/merchant/today"):
        response = built.get(path)
        assert response.status_code == 200, path
        assert b'<div id=app>' in response.data
        assert response.headers["Cache-Control"] == "no-cache"


def test_hashed_assets_are_immutable_and_missing_ones_404(built):
    response = built.get("/h5/assets/index-abc123.js")
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert built.get("/h5/assets/gone-000.js").status_code == 404
    assert built.get("/h5/favicon.ico").status_code == 404


def test_service_worker_is_revalidated_and_scoped(built):
    response = built.get("/h5/sw.js")
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/h5/"


def test_no_escape_from_the_build_folder(built):
    escaped = built.get("/h5/../../etc/passwd")  # a client route as far as the folder knows: the shell
    assert escaped.status_code == 200 and b"<div id=app>" in escaped.data and b"root:" not in escaped.data
    assert built.get("/h5/%2e%2e/x.db").status_code == 404


def test_h5_without_its_slash_is_sent_to_the_client(built):
    # ``/`` is the public page now, phones included (tests/carbon_platform/test_public.py)
    assert built.get("/h5").status_code == 301


def test_unbuilt_client_says_how_to_build_it(tmp_path):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                      "H5_DIST": str(tmp_path / "nothing")})
    response = Client(app).get("/h5/report")
    assert response.status_code == 503
    assert "make h5" in response.get_data(as_text=True)


def test_a_browser_that_takes_gzip_gets_the_precompressed_twin(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    script = b"console.log('the shell');\n" * 50
    (dist / "index.html").write_text("<!doctype html><div id=app></div>", encoding="utf-8")
    (dist / "assets" / "index-abc123.js").write_bytes(script)
    (dist / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(script, 9))
    app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "H5_DIST": str(dist)})
    client = Client(app)
    compressed = client.get("/h5/assets/index-abc123.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert compressed.mimetype in ("text/javascript", "application/javascript")
    assert gzip.decompress(compressed.data) == script
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert "immutable" in compressed.headers["Cache-Control"]
    plain = client.get("/h5/assets/index-abc123.js")
    assert "Content-Encoding" not in plain.headers and plain.data == script
    # index.html has no twin here: it is sent as it is, whatever the browser accepts
    page = client.get("/h5/mall", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in page.headers and b"<div id=app>" in page.data
