"""Throttled answers say when to come back: every 429, API or console, carries ``Retry-After`` in seconds."""

from __future__ import annotations

import math
import time

from carbon_platform.extensions import limiter


def retry_after_seconds(error: BaseException | None = None) -> int | None:
    """Whole seconds (at least 1) until a throttled request may be tried again, or None if unknown.

    An error that knows its own wait (a ``retry_after`` attribute in seconds, as a DomainError raised by a
    service's own limiter has) says so; otherwise it is the latest reset among the Flask-Limiter limits this
    request broke, since the request is refused until every one of them lets it through.
    """
    own = getattr(error, "retry_after", None)
    if isinstance(own, int | float) and not isinstance(own, bool) and math.isfinite(own):
        return max(1, math.ceil(own))
    breached = [limit for limit in limiter.current_limits if limit.breached]
    if not breached:
        return None
    return max(1, math.ceil(max(limit.reset_at for limit in breached) - time.time()))


def add_retry_after(response):
    """After every request: a 429 without ``Retry-After`` gets one from the limit it broke."""
    if response.status_code == 429 and "Retry-After" not in response.headers:
        seconds = retry_after_seconds()
        if seconds is not None:
            response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app) -> None:
    app.after_request(add_retry_after)
