"""Date-triggered flows, started by the daily job (hourly, as every due-date job).

A run is started ahead, at first sight of its day, and begins at ``local_hour`` of the
customer's day in the customer's time zone (the shop's when none is stored): it waits in the
flows' due index until then, and the flows schedule takes its steps (quiet hours, consent,
the cap and suppression apply when it sends).

Catch-up: each flow keeps the last (UTC) day it completed; a pass looks at every day from that
day to tomorrow (the customers ahead of UTC are already there), so days missed while the job did
not run are started late (a run whose moment is past is due at once), at most ``LATE_DAYS`` late.
A flow's first pass (switched on, or new) starts nothing whose moment is already past.

Exactly once: the run id hashes the flow, the customer and the occurrence (the date it belongs to),
and a run is written only where none exists, so a second pass, an overlapping job or a day looked
at again starts nothing twice.

Reads: a birthday flow reads the sparse birthday index (one Query per month-day) and the profiles
it finds; a sign-up, membership-end or yearly/one-off calendar flow reads the shop's customer
directory (the ``by_shop`` index), a calendar flow only on a pass that reaches its day.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Iterator

from chalicelib.domain.flows.dates import BIRTHDAY, CALENDAR, occurrence_key, occurrence_on
from chalicelib.domain.flows.definitions import FlowDefinition
from chalicelib.domain.lifecycle.occasions import birthday_keys
from chalicelib.domain.places.zones import zone_of
from chalicelib.domain.shops.shop import Shop
from chalicelib.services.flows.definitions import enabled_flows
from chalicelib.services.flows.runner import start_flow
from chalicelib.store import keys

logger = logging.getLogger("loyalty.flows.dates")

LATE_DAYS = 7  # a birthday mail a week late is still a birthday mail; later, it is not
DEFAULT_LOCAL_HOUR = 9
DIRECTORY_PAGE = 500


@dataclass
class DateFlowReport:
    started: int = 0
    already_started: int = 0
    too_late: int = 0
    customers_read: int = 0
    days: dict[str, list[str]] = field(default_factory=dict)  # flow id → the days looked at


def checkpoint_job(flow_id: str) -> str:
    return f"date_flow:{flow_id}"


def start_date_flows(deps, shop: Shop, now: datetime) -> DateFlowReport:
    report = DateFlowReport()
    for flow in enabled_flows(deps, shop.shop_id, "date"):
        job = checkpoint_job(flow.flow_id)
        checkpoints = deps.repos.checkpoints(shop.shop_id)
        last = checkpoints.last_day(job)
        days = days_to_look_at(last, now)
        report.days[flow.flow_id] = [day.isoformat() for day in days]
        _start_flow_on_days(deps, shop, flow, days, now, first_pass=last is None, report=report)
        checkpoints.complete(job, now.astimezone(timezone.utc).date().isoformat())
    return report


def days_to_look_at(last_day: str | None, now: datetime) -> list[date]:
    """From the last completed day (again: a customer's date may have been set since) to tomorrow
    (UTC+14 is a day ahead), never more than LATE_DAYS back; the first pass from yesterday (UTC-12
    is a day behind)."""
    today = now.astimezone(timezone.utc).date()
    start = date.fromisoformat(last_day) if last_day else today - timedelta(days=1)
    start = max(min(start, today), today - timedelta(days=LATE_DAYS + 1))
    return [start + timedelta(days=n) for n in range((today - start).days + 2)]


def _start_flow_on_days(deps, shop: Shop, flow: FlowDefinition, days: list[date], now: datetime, *,
                        first_pass: bool, report: DateFlowReport) -> None:
    trigger = flow.trigger
    hour = trigger.local_hour if trigger.local_hour is not None else DEFAULT_LOCAL_HOUR
    for account in _candidates(deps, shop, flow, days, report):
        if account.redacted:
            continue
        zone = zone_of(account.timezone, shop.timezone)
        for day in days:
            anchor = occurrence_on(trigger, account, day, zone)
            if anchor is None:
                continue
            begins = datetime.combine(day, time(hour), tzinfo=zone).astimezone(timezone.utc)
            too_late = day < now.astimezone(zone).date() - timedelta(days=LATE_DAYS)
            if too_late or (first_pass and begins < now):
                report.too_late += 1
                continue
            context = {"date_field": trigger.date_field, "occurrence": anchor.isoformat(), "day": day.isoformat()}
            if start_flow(deps, shop, flow, account.customer_id, occurrence_key(anchor), now, context=context,
                          starts_at=begins):
                report.started += 1
            else:
                report.already_started += 1


def _candidates(deps, shop: Shop, flow: FlowDefinition, days: list[date], report: DateFlowReport) -> Iterator:
    """The customers whose date may fall on one of ``days``: the birthday index for birthdays,
    the directory otherwise (a calendar flow's only when one of the days is its day)."""
    trigger = flow.trigger
    repo = deps.repos.loyalty(shop.shop_id)
    if trigger.date_field == BIRTHDAY:
        month_days = sorted({key for day in days
                             for key in birthday_keys(day - timedelta(days=trigger.offset_days or 0))})
        seen: set[str] = set()
        for month_day in month_days:
            for customer_id in repo.customers_with_birthday(month_day):
                if customer_id in seen:
                    continue
                seen.add(customer_id)
                account = repo.load_profile(customer_id)
                report.customers_read += 1
                if account is not None:
                    yield account
        return
    if trigger.date_field == CALENDAR and not any(occurrence_on(trigger, None, day, timezone.utc) for day in days):
        return  # the shop's day is not among these: nobody to read
    for account in _directory(repo):
        report.customers_read += 1
        yield account


def _directory(repo) -> Iterable:
    for shard in range(keys.CUSTOMER_SHARDS):
        cursor = None
        while True:
            accounts, cursor = repo.customer_page(shard, cursor, DIRECTORY_PAGE)
            yield from accounts
            if cursor is None:
                break
