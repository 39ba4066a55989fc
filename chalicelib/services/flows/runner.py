"""Flows running: a trigger starts one run per flow and occurrence; the schedule takes due
steps one at a time.

Exactly once: each step commits in one conditional transaction with its claim (an item keyed
by the run and the step index that must not exist yet), the run's new state (conditioned on
the version read), the e-mail's outbox item and any code it carries. A scheduler that runs
twice, or two workers on the same run, race for that transaction: one commits, the other's is
cancelled and it moves on. A Lambda that dies before the commit has changed nothing; the step
is taken again on the next run. The e-mail's idempotency key (run + step) makes a republished
outbox item harmless to the sender.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Optional

from chalicelib.domain.flows.definitions import FlowDefinition, SendStep
from chalicelib.domain.flows.runs import COMPLETED, FlowRun, RunFacts, StepTaken, is_due, start_run, take_step
from chalicelib.domain.loyalty.codes import REWARD, REWARD_PREFIX, RewardCode, new_code
from chalicelib.domain.loyalty.lapse import day_end
from chalicelib.domain.mail.outbox import MARKETING
from chalicelib.domain.money import to_minor
from chalicelib.domain.shops.shop import Shop
from chalicelib.mail import outbox
from chalicelib.services.flows.definitions import FUNNEL_SUBJECT, enabled_flows
from chalicelib.services.products.recommendations import recommendations_for
from chalicelib.store.campaigns.results import counter_update
from chalicelib.store.loyalty.repository import Change, ConcurrentChange

MAX_STEPS_PER_RUN = 25  # a run never loops; this bounds one pass whatever a definition says
CHECKOUT_OPEN = "open"


def start_flows(deps, shop: Shop, trigger: str, customer_id: str, occurrence: str, now: datetime, *,
                context: Optional[dict] = None, tier: Optional[str] = None, points: int = 0) -> list[str]:
    """Start every enabled flow of ``trigger`` for the customer, once per ``occurrence``."""
    started = []
    for flow in enabled_flows(deps, shop.shop_id, trigger):
        if trigger == "tier_reached" and flow.trigger.tier and flow.trigger.tier != tier:
            continue
        if trigger == "points_earned" and points < (flow.trigger.min_points or 1):
            continue
        if start_flow(deps, shop, flow, customer_id, occurrence, now, context=context):
            started.append(flow.flow_id)
    return started


def start_flow(deps, shop: Shop, flow: FlowDefinition, customer_id: str, occurrence: str, now: datetime, *,
               context: Optional[dict] = None, starts_at: Optional[datetime] = None) -> bool:
    """Start ``flow`` for the customer unless this occurrence started it before (False then).
    ``starts_at``: the moment the run begins when that is not now (a date flow begins on the
    customer's day, and waits in the due index until then)."""
    run = start_run(shop.shop_id, flow, customer_id, occurrence, now, context)
    if starts_at is not None:
        run.started_at = run.due_at = starts_at
    store = deps.repos.flows(shop.shop_id)
    change = Change(items=[store.run_write(run)],
                    counters=[counter_update(shop.shop_id, FUNNEL_SUBJECT.format(flow_id=flow.flow_id),
                                             {"started": 1}, run.run_id)])
    try:
        deps.repos.loyalty(shop.shop_id).commit(change, now)
    except ConcurrentChange:
        return False  # this occurrence started the flow before (a retried or repeated event)
    return True


def run_due_flows(deps, shops: Iterable[Shop], now: datetime, limit_per_shop: int = 500) -> dict:
    """The schedule: every due step of every shop's active runs, up to a limit per pass."""
    report = {"runs": 0, "steps": 0, "sent": 0, "exited": 0}
    for shop in shops:
        store = deps.repos.flows(shop.shop_id)
        for listed in store.due_runs(now, limit=limit_per_shop):
            report["runs"] += 1
            # The index's copy is used as read: its version condition catches a stale copy, and
            # the stored run is then read once to decide again.
            run: Optional[FlowRun] = listed
            for _ in range(MAX_STEPS_PER_RUN):
                if run is None or not is_due(run, now):
                    break
                taken = take_due_step(deps, shop, run.run_id, now, run=run)
                if taken is None:
                    run = store.load_run(listed.run_id)
                    taken = take_due_step(deps, shop, listed.run_id, now, run=run) if run else None
                    if taken is None:
                        break
                report["steps"] += 1
                report["sent"] += taken.send is not None
                report["exited"] += taken.exit_reason is not None
    return report


def take_due_step(deps, shop: Shop, run_id: str, now: datetime, *, run: Optional[FlowRun] = None
                  ) -> Optional[StepTaken]:
    """Take the run's next step if it is due; None when it is not (or another worker took it).
    ``run``: the run as already read (it is moved on in place when the step commits)."""
    store = deps.repos.flows(shop.shop_id)
    run = run if run is not None else store.load_run(run_id)
    if run is None or not is_due(run, now):
        return None
    account = deps.repos.loyalty(shop.shop_id).load_profile(run.customer_id)
    checkout = store.load_checkout(run.context["checkout_token"]) if run.context.get("checkout_token") else None
    facts = RunFacts(customer_exists=account is not None and not getattr(account, "redacted", False),
                     last_order_at=account.last_order_at if account else None,
                     points_balance=account.points_balance if account else 0,
                     checkout_open=(checkout is not None and checkout[1] == CHECKOUT_OPEN)
                     if run.context.get("checkout_token") else None,
                     in_segment=lambda document: _in_segment(shop, account, document, now))
    claimed_version = run.version
    taken = take_step(run, facts, now)
    counts = {f"step_{taken.index}_reached": 1}
    messages, codes = [], []
    if taken.exit_reason:
        counts[f"step_{taken.index}_exited"] = 1
    if taken.send is not None:
        picks = recommendations_for(deps, shop, run.customer_id, now) if taken.send.recommendations else None
        message, code = _message(shop, run, taken.index, taken.send, checkout[0] if checkout else None, now,
                                 recommendations=picks)
        messages.append(message)
        codes += [code] if code else []
        counts[f"step_{taken.index}_sent"] = 1
    if run.status == COMPLETED:
        counts["completed"] = 1
    run.version = claimed_version  # the condition is on the version read
    outcome = taken.exit_reason or ("sent" if taken.send else None)
    change = Change(items=[store.step_claim(run, taken.index, taken.kind, now, outcome), store.run_write(run)],
                    outbox=messages, codes=codes,
                    counters=[counter_update(shop.shop_id, FUNNEL_SUBJECT.format(flow_id=run.flow_id), counts,
                                             f"{run.run_id}:{taken.index}")])
    try:
        deps.repos.loyalty(shop.shop_id).commit(change, now)
    except ConcurrentChange:
        return None  # another worker claimed this step first (or the copy read was stale)
    run.version = claimed_version + 1
    outbox.publish(deps, messages)
    return taken


def _in_segment(shop: Shop, account, document: dict, now: datetime) -> bool:
    from zoneinfo import ZoneInfo

    from chalicelib.domain.campaigns.segments import matches, parse_segment

    if account is None:
        return False
    today = now.astimezone(ZoneInfo(shop.timezone)).date() if shop.timezone else now.date()
    return matches(parse_segment(document), account, today, shop.currency_exponent, tiers=shop.program.tiers)


def _message(shop: Shop, run: FlowRun, index: int, step: SendStep, checkout: Optional[dict],
             now: datetime, recommendations: Optional[list[dict]] = None) -> tuple[dict, Optional[RewardCode]]:
    data: dict = {"preset": step.preset, "flow_id": run.flow_id}
    if recommendations:
        data["recommendations"] = recommendations
    if step.copy_by_locale:
        data["copy"] = {locale: copy.model_dump() for locale, copy in step.copy_by_locale.items()}
    if step.link == "checkout" and checkout and checkout.get("recovery_url"):
        data["url"] = checkout["recovery_url"]
    if checkout and step.link == "checkout":
        data["items"] = checkout.get("items") or []
    code = None
    if step.offer is not None:
        offer = step.offer
        code = RewardCode(code=new_code(REWARD_PREFIX), shop_id=shop.shop_id, kind=REWARD,
                          customer_id=run.customer_id,
                          value_minor=to_minor(offer.value, shop.currency_exponent) if offer.value else 0,
                          points=0, created_at=now,
                          expires_at=day_end(now + timedelta(days=offer.valid_days), shop.timezone),
                          discount_percent=str(offer.discount_percent) if offer.discount_percent else None,
                          free_shipping=offer.free_shipping,
                          min_order_minor=to_minor(offer.min_order, shop.currency_exponent) if offer.min_order else 0,
                          max_uses=1, subject=FUNNEL_SUBJECT.format(flow_id=run.flow_id))
        data.update({"code": code.code, "code_expires_at": code.expires_at.isoformat(),
                     "free_shipping": offer.free_shipping})
        if offer.discount_percent:
            data["discount_percent"] = str(offer.discount_percent)
        elif code.value_minor:
            data["code_value_minor"] = code.value_minor
    message = {"idempotency_key": f"flow:{run.run_id}:{index}", "shop_id": shop.shop_id,
               "customer_id": run.customer_id, "template": "flow_message", "category": MARKETING,
               "campaign_id": None, "created_at": now.isoformat(), "data": data}
    return message, code
