"""With Redis configured, throttling is shared by every worker (here: two apps, as two gunicorn workers)."""

from __future__ import annotations

import pytest
import redis

from tests import factories as f
from tests.conftest import dispose, make_app

REDIS_URL = "redis://127.0.0.1:6379/15"
# Fixed: Flask-Limiter keeps the key prefix of the first app that set one (one global limiter).
PREFIX = "carbon-test"


def redis_reachable() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        return False


@pytest.fixture
def redis_db():
    client = redis.Redis.from_url(REDIS_URL)

    def clear():
        keys = list(client.scan_iter(f"*{PREFIX}*"))
        if keys:
            client.delete(*keys)

    clear()
    yield client
    clear()


@pytest.mark.skipif(not redis_reachable(), reason=f"Redis is not reachable at {REDIS_URL}")
def test_two_workers_share_one_phone_numbers_limit(database, tmp_path, redis_db):
    url = database.fresh_url(tmp_path)
    config = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": PREFIX}
    phone = f.phone()
    first = make_app(url, **config)
    assert first.test_client().post("/api/v1/auth/codes", json={"phone": phone}).status_code == 202
    second = make_app(url, **config)  # a second worker: its own process memory, the same Redis
    response = second.test_client().post("/api/v1/auth/codes", json={"phone": phone})
    assert response.status_code == 429 and response.json["error"]["code"] == "rate_limited"
    for app in (first, second):
        dispose(app)
    assert any(phone in key.decode() for key in redis_db.scan_iter(f"*{PREFIX}*"))  # counted in Redis
