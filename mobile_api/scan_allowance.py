"""The till's allowance of unknown voucher codes: verify and consume draw on one allowance per staff member.

Guessing codes is what the allowance stops, and a guess is as useful through ``verify`` as through
``consume``, so both count against the same ``CARBON_VOUCHER_SCAN_FAILURE_LIMIT`` (kept in the rate
limiter's storage, shared by every worker). A staff member who has used it up is refused with 429
``rate_limited`` and a ``Retry-After`` before the code is looked at. The first refusal writes a
``voucher.scan_throttled`` audit event for the console; further refusals within the limit's window
write nothing more, so a scanner stuck in a loop cannot flood the audit log.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from limits import RateLimitItem, parse_many

from carbon_platform.db import commit
from carbon_platform.errors import RateLimited
from carbon_platform.extensions import limiter
from carbon_platform.models import MerchantStaff
from carbon_platform.services import audit, vouchers

T = TypeVar("T")
NAMESPACE = "voucher-scan-failures"


def _limits() -> list[RateLimitItem]:
    return parse_many(current_app.config["VOUCHER_SCAN_FAILURE_LIMIT"])


def scan(staff: MerchantStaff, attempt: Callable[[], T]) -> T:
    """Run one verify or consume for ``staff``: refused while the allowance is used up; an unknown code
    (``InvalidVoucher``, a 404) spends one try."""
    if not limiter.enabled:  # RATELIMIT_ENABLED = False: no storage to count in
        return attempt()
    _refuse_if_used_up(staff)
    try:
        return attempt()
    except vouchers.InvalidVoucher:
        for item in _limits():
            limiter.limiter.hit(item, NAMESPACE, str(staff.id))
        raise


def _refuse_if_used_up(staff: MerchantStaff) -> None:
    strategy = limiter.limiter
    used_up = [item for item in _limits() if not strategy.test(item, NAMESPACE, str(staff.id))]
    if not used_up:
        return
    renews_at = max(strategy.get_window_stats(item, NAMESPACE, str(staff.id)).reset_time for item in used_up)
    for item in used_up:
        # One alert per staff member per window of the limit: the first refusal claims it, atomically in
        # the limiter's storage, so neither the retries nor concurrent requests write another.
        once = type(item)(1, item.multiples)
        if strategy.hit(once, NAMESPACE + "-alert", str(staff.id), str(item)):
            audit.record(audit.Actor("merchant_staff", staff.id, staff.display_name), "voucher.scan_throttled",
                         staff.merchant, limit=str(item))
            commit()  # the refusal below rolls the request back; the alert must stay
    raise RateLimited("too many unknown voucher codes; try again later",
                      retry_after=max(1, math.ceil(renews_at - time.time())))
