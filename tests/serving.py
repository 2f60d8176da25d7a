"""The app served over real HTTP (werkzeug, a thread per connection) for tests that race clients."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def served(app) -> Iterator[tuple[str, int]]:
    """(host, port) of the app listening on a free local port until the block ends."""
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        thread.join(30)


def _closing(app):
    """The app with every response read whole and closed before werkzeug writes it.

    Werkzeug's development server closes a response in a ``finally`` that first drains the request socket; when
    a browser resets the connection there (Playwright closing a page mid-load), that read raises and the close is
    skipped, so a file response leaks its open file and the run fails on the ResourceWarning. Test responses are
    small, so holding one in memory costs nothing."""
    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
    return wsgi


def race(address: tuple[str, int], requests: list[tuple[str, str, dict, dict | None]],
         timeout: float = 120) -> list[tuple[int, dict]]:
    """Send each (method, path, headers, body) on its own connection, all released together by a barrier;
    returns (status, JSON body) per request, in order."""
    barrier = threading.Barrier(len(requests))
    results: list[tuple[int, dict] | None] = [None] * len(requests)

    def send(index: int) -> None:
        method, path, headers, body = requests[index]
        connection = http.client.HTTPConnection(*address, timeout=timeout)
        connection.connect()  # connected before the barrier: the race is between requests, not handshakes
        barrier.wait(timeout)
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        raw = response.read()
        results[index] = (response.status, json.loads(raw) if raw else {})
        connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert all(r is not None for r in results), "a client hung"
    return results  # type: ignore[return-value]
