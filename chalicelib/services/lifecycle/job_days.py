"""Which index days a due-date job must look at: from its last completed day up
to today, so a job that did not run for a while, or is run by hand far ahead,
still catches everything that fell due. A job's first run looks back
FIRST_RUN_DAYS (history imported with past dates can be due before the shop
joined): a few hundred empty Queries, once."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Optional


FIRST_RUN_DAYS = 400


def days_to_scan(deps, shop_id: str, job: str, now: datetime, not_before: Optional[date] = None) -> list[str]:
    """``not_before``: the earliest day anything can be due for this job (items that are
    never due before they were made, in a shop made that day), to spare a first run the
    look back."""
    today = now.date()
    last = deps.repos.checkpoints(shop_id).last_day(job)
    # The last day again: something may have fallen due after the last run that day.
    start = min(date.fromisoformat(last), today) if last else today - timedelta(days=FIRST_RUN_DAYS)
    if not_before is not None and not last:
        start = min(max(start, not_before), today)
    return [(start + timedelta(days=n)).isoformat() for n in range((today - start).days + 1)]


def shop_made_on(shop, now: datetime) -> date:
    """Where a job's first run starts: the day the shop was made (nothing it indexes is due
    before), and yesterday at the latest (a run missed on the first day is caught up)."""
    yesterday = now.date() - timedelta(days=1)
    try:
        made = datetime.fromisoformat(shop.created_at.replace("Z", "+00:00")).date() if shop.created_at else None
    except ValueError:
        made = None
    return min(made or yesterday, yesterday)


def complete(deps, shop_id: str, job: str, now: datetime) -> None:
    deps.repos.checkpoints(shop_id).complete(job, now.date().isoformat())
