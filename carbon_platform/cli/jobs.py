"""What the cron jobs share: a progress bar, a commit every so often, and a clock that can be set."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import click

from carbon_platform.clock import as_utc, utcnow
from carbon_platform.db import commit

NOW = click.option("--now", "now_text", help="ISO time to act as of (default: now); for catch-up runs.")


def as_of(now_text: str | None) -> datetime:
    if not now_text:
        return utcnow()
    try:
        moment = datetime.fromisoformat(now_text)
    except ValueError:
        raise click.BadParameter(f"not an ISO time: {now_text}", param_hint="--now") from None
    if moment.tzinfo is None:
        raise click.BadParameter("say the time zone, e.g. 2026-06-01T00:00:00+08:00", param_hint="--now")
    return as_utc(moment)


def run(items: Iterable, label: str, *, every: int = 200) -> int:
    """Drain ``items`` under a progress bar, committing every ``every`` items (a long catch-up keeps its
    progress and holds locks briefly) and at the end; returns how many there were."""
    done = 0
    with click.progressbar(items, label=label, show_pos=True) as bar:
        for done, _item in enumerate(bar, start=1):
            if done % every == 0:
                commit()
    commit()
    return done
