"""Lifecycle: the due-date jobs (expiry, warnings, birthdays, win-back, tier at risk, code release)."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.lifecycle import daily

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.HOURS))
def daily_jobs(event):
    # Expiry, expiry and tier warnings, birthdays, win-back, unused codes: each in the
    # shop's own day, each idempotent, so running hourly catches every time zone.
    return daily.run_daily(dependencies())
