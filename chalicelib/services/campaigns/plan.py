"""The campaign planner's forecast (``plan`` in the preview answer): the segment read once, the
recipients' mail preferences in batches of 100 (BatchGetItem), judged by the same rules the sender
applies (consent, unsubscribe, the program holdout, the cap at the moment each zone is sent,
quiet hours). Reads: the shop's customer directory, plus one BatchGetItem per 100 sendable."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib.domain.campaigns import plan as forecasting
from chalicelib.domain.campaigns.program_holdout import in_program_holdout
from chalicelib.domain.mail.eligibility import has_marketing_consent
from chalicelib.domain.places.zones import zone_of
from chalicelib.services.campaigns.segments import iter_segment
from chalicelib.store import keys

_BATCH = 100


def forecast(deps, shop, settings, send_at: datetime, wall: Optional[datetime], now: datetime) -> dict:
    cap = shop.marketing_cap
    result = forecasting.Forecast()
    prefs_store = deps.repos.mail(shop.shop_id)
    batch: list = []

    def judge(accounts: list) -> None:
        prefs = prefs_store.load_prefs_many(a.customer_id for a in accounts)
        for account in accounts:
            if prefs[account.customer_id].unsubscribed:
                result.not_sendable["unsubscribed"] += 1
                continue
            zone = zone_of(account.timezone, shop.timezone)
            at, _ = forecasting.reached_at(send_at, wall, zone, now)
            result.add(str(zone), prefs[account.customer_id].marketing_sends, at, cap.max_messages, cap.per_days)

    for account, _, _ in iter_segment(deps, shop, settings.segment, now, page_size=500):
        result.segment_members += 1
        if account.redacted or not account.email:
            result.not_sendable["no_email" if not account.redacted else "redacted"] += 1
        elif not has_marketing_consent(account):
            result.not_sendable["no_consent"] += 1
        elif in_program_holdout(shop.shop_id, account.customer_id, shop.program_holdout_percent):
            result.program_holdout += 1
        else:
            batch.append(account)
            if len(batch) == _BATCH:
                judge(batch)
                batch = []
    if batch:
        judge(batch)

    sendable = result.sendable
    held_out = forecasting.expected(sendable, settings.holdout_percent)
    mailed = sendable - held_out
    window = forecasting.send_window(result, send_at, wall, shop.quiet_hours, now)
    for row in window:
        row["sends_at"] = keys.iso(row["sends_at"])
        row["deferred_to"] = keys.iso(row["deferred_to"]) if row["deferred_to"] else None
    answer = {
        "segment_members": result.segment_members, "sendable": sendable,
        "not_sendable": dict(result.not_sendable),
        "program_holdout": {"percent": shop.program_holdout_percent, "customers": result.program_holdout},
        "holdout": {"percent": settings.holdout_percent, "expected_recipients": held_out},
        "expected_to_send": mailed,
        "local_time": wall is not None,
        "send_window": window,
        "cap": {"max_messages": cap.max_messages, "per_days": cap.per_days,
                "will_defer": sum(row["cap_deferred"] for row in window),
                "note": "judged on the marketing e-mails sent so far; mail sent before the campaign can fill more slots"},
        "quiet_hours": {"start": shop.quiet_hours.start.strftime("%H:%M"), "end": shop.quiet_hours.end.strftime("%H:%M"),
                        "will_defer": sum(row["recipients"] for row in window if row["quiet_hours"])}
        if shop.quiet_hours else None,
        "ab_test": _ab_plan(settings, mailed),
    }
    return answer


def _ab_plan(settings, mailed: int) -> Optional[dict]:
    if not settings.variants or settings.ab_test is None:
        return None
    test = settings.ab_test
    tested = forecasting.expected(mailed, test.test_percent)
    each = tested // len(settings.variants)
    return {"test_percent": test.test_percent, "winner_by": test.winner_by, "wait_hours": test.wait_hours,
            "variants": [{"variant": index, **variant.model_dump(exclude_none=True), "expected_recipients": each}
                         for index, variant in enumerate(settings.variants)],
            "rest_expected_recipients": mailed - tested,
            "note": f"{test.test_percent} % get the variants, split evenly; after {test.wait_hours} h the one with the "
                    f"best {test.winner_by.replace('_', ' ')} goes to the rest"}
