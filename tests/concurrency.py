"""Run one operation from many threads at once: one connection each, a start barrier, real commits."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from carbon_platform.db import commit, will_write
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db


@dataclass
class Outcomes:
    ok: list[Any] = field(default_factory=list)
    refused: list[DomainError] = field(default_factory=list)  # the platform said no, cleanly
    errors: list[BaseException] = field(default_factory=list)  # anything else: always a bug

    @property
    def refused_codes(self) -> Counter:
        return Counter(e.code for e in self.refused)


def run_concurrently(app, operation: Callable[[int], Any], workers: int, *, timeout: float = 120) -> Outcomes:
    """Each worker runs ``operation(i)`` in its own app context (so its own session and connection),
    all released together by a barrier, and commits what it did. Each worker's unit of work writes, so it
    says so first (``will_write``): on SQLite its transaction waits for the write lock rather than failing."""
    barrier = threading.Barrier(workers)
    outcomes = Outcomes()
    lock = threading.Lock()

    def worker(i: int) -> None:
        with app.app_context():
            will_write()
            try:
                barrier.wait(timeout=timeout)
                result = operation(i)
                commit()
                with lock:
                    outcomes.ok.append(result)
            except DomainError as exc:
                db.session.rollback()
                with lock:
                    outcomes.refused.append(exc)
            except BaseException as exc:  # noqa: BLE001 - recorded and asserted on by the caller
                db.session.rollback()
                with lock:
                    outcomes.errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return outcomes
