"""The workspace's dashboard: a shop's loyalty figures per day, from counters kept on write.

Nothing here reads customers or orders: the counts were added inside each change's
own transaction (``domain.dashboard``), so a dashboard costs one Query per counter
shard whatever the shop's size. The one exception: a shop with a program holdout gets the
program's incremental revenue (``program``), which reads the customer directory once (one Query
per page of 500 customers) to compare the two groups' revenue per customer; and the liability by
expiry month and the cohort retention table read the directory once, and the lots of each customer
holding points, up to ``LIABILITY_READ_LIMIT`` customers (the answer says how many it read and
whether that was all). Running totals (customers, members, points
outstanding) sum every day since the counters began; the outstanding value is the
points outstanding at today's point value (the shop's liability).
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from chalicelib.domain.loyalty.cohorts import OrderHistory, retention_table, whole_history_in
from chalicelib.domain.loyalty.dashboard import day_of
from chalicelib.domain.campaigns.links import campaign_subject, flow_subject
from chalicelib.domain.loyalty.program_report import (DEFINITIONS, RewardCost, attributed_revenue,
                                                      liability_by_month, program_roi, redemption_rate)
from chalicelib.domain.money import format_minor
from chalicelib.errors import BadRequest
from chalicelib.domain.campaigns.results import results_view
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.loyalty.dashboard import daily_counts

MAX_DAYS = 366
RUNNING = ("customers", "members", "points_outstanding")
FUNNEL_CAMPAIGNS = 5
# The liability by expiry month reads the customer directory and, for each customer holding points,
# their lots (one Query each): past this many customers it stops and says so.
LIABILITY_READ_LIMIT = 5_000
ATTRIBUTION_CAMPAIGNS = 100  # the latest campaigns listed with their attributed revenue (one Query each)


def dashboard(deps, shop_id: str, days: str | None) -> dict:
    shop = load_shop(deps, shop_id)
    try:
        span = int(days) if days else 30
    except ValueError:
        raise BadRequest(f"days: a whole number from 1 to {MAX_DAYS}", field="days") from None
    if not 1 <= span <= MAX_DAYS:
        raise BadRequest(f"days: a whole number from 1 to {MAX_DAYS}", field="days")
    today = date.fromisoformat(day_of(deps.clock()))
    first = today - timedelta(days=span - 1)
    counts = daily_counts(shop_id, today.isoformat())
    exponent = shop.currency_exponent
    running: Counter = Counter()
    for day in sorted(d for d in counts if d < first.isoformat()):
        running.update({name: counts[day].get(name, 0) for name in RUNNING})
    series = []
    totals: Counter = Counter()
    for offset in range(span):
        day = (first + timedelta(days=offset)).isoformat()
        day_counts = counts.get(day, Counter())
        running.update({name: day_counts.get(name, 0) for name in RUNNING})
        totals.update(day_counts)
        series.append(_day_view(day, day_counts, running, shop, exponent))
    return {
        "shop_id": shop_id, "currency": shop.currency, "from": first.isoformat(), "to": today.isoformat(),
        "days": series, "period": _period_view(totals, exponent),
        "now": {"customers": running["customers"], "members": running["members"],
                "points_outstanding": running["points_outstanding"],
                "outstanding_value": format_minor(
                    shop.program.redemption_value_minor(max(running["points_outstanding"], 0), exponent), exponent)},
        "campaigns": _funnels(deps, shop),
        **_program_report(deps, shop, totals, today),
        **({"program": program_effect(deps, shop, first, today)} if shop.program_holdout_percent else {}),
        "notes": ["members are customers in a tier (paid membership is a separate benefit, set in the program)",
                  "orders, revenue and active customers are counted on the day each order was paid, imported "
                  "history included; points on the day they moved"],
    }


def _day_view(day: str, counts: Counter, running: Counter, shop, exponent: int) -> dict:
    return {
        "day": day,
        "customers": running["customers"], "members": running["members"],
        "active_customers": counts.get("active_customers", 0),
        "points_issued": counts.get("points_issued", 0), "points_redeemed": counts.get("points_redeemed", 0),
        "points_expired": counts.get("points_expired", 0), "points_adjusted": counts.get("points_adjusted", 0),
        "points_taken_back": counts.get("points_taken_back", 0),
        "points_outstanding": running["points_outstanding"],
        "outstanding_value": format_minor(
            shop.program.redemption_value_minor(max(running["points_outstanding"], 0), exponent), exponent),
        "orders_member": counts.get("orders_member", 0), "orders_non_member": counts.get("orders_non_member", 0),
        "revenue_member": format_minor(counts.get("revenue_member_minor", 0), exponent),
        "revenue_non_member": format_minor(counts.get("revenue_non_member_minor", 0), exponent),
    }


def _period_view(totals: Counter, exponent: int) -> dict:
    view = {}
    for side in ("member", "non_member"):
        orders = totals.get(f"orders_{side}", 0)
        revenue = totals.get(f"revenue_{side}_minor", 0)
        repeat = totals.get(f"repeat_orders_{side}", 0)
        view[side] = {"orders": orders, "revenue": format_minor(revenue, exponent),
                      "average_order_value": format_minor(revenue // orders, exponent) if orders else None,
                      "repeat_purchase_rate": round(repeat / orders, 4) if orders else None}
    view.update({name: totals.get(name, 0) for name in (
        "points_issued", "points_redeemed", "points_expired", "points_adjusted", "points_taken_back",
        "active_customers")})
    view["cashback_issued"] = format_minor(totals.get("cashback_issued_minor", 0), exponent)
    view["codes_discount"] = format_minor(totals.get("codes_discount_minor", 0), exponent)
    return view


def _funnels(deps, shop) -> list[dict]:
    """The latest campaigns' funnels: sent → delivered → clicked → ordered (results counters)."""
    campaigns = sorted(deps.repos.campaigns(shop.shop_id).list(), key=lambda c: c.send_at, reverse=True)
    funnels = []
    for campaign in campaigns[:FUNNEL_CAMPAIGNS]:
        stats = results_view(shop, deps.repos.results(shop.shop_id, f"campaign:{campaign.campaign_id}").totals())
        funnels.append({"campaign_id": campaign.campaign_id, "name": campaign.name, "status": campaign.status,
                        "sent": stats.get("sent", 0), "delivered": stats.get("delivered", 0),
                        "unique_clicks": stats.get("unique_clicks", 0), "orders": stats.get("orders", 0),
                        "converters": stats.get("converters", 0), "revenue": stats.get("revenue"),
                        "conversion_rate": stats["rates"]["conversion_rate"]})
    return funnels


def program_effect(deps, shop, first: date, last: date) -> dict:
    """The whole program's incremental revenue over the days from ``first`` to ``last``: the
    customers who get marketing mail against the program holdout (domain/campaigns/program_holdout.py).
    Revenue is what the accounts keep per paid day (the rolling tier window's buckets, so at most
    the last 12 months); ``months`` names the calendar months the period touches."""
    from chalicelib.domain.campaigns.program_holdout import in_program_holdout, program_lift, totals
    from chalicelib.store import keys

    months = sorted({(first + timedelta(days=n)).strftime("%Y-%m") for n in range((last - first).days + 1)})
    revenues: dict[bool, list[int]] = {True: [], False: []}
    repo = deps.repos.loyalty(shop.shop_id)
    for shard in range(keys.CUSTOMER_SHARDS):
        cursor = None
        while True:
            accounts, cursor = repo.customer_page(shard, cursor, 500)
            for account in accounts:
                if account.redacted or account.created_at.date() > last:
                    continue
                revenues[in_program_holdout(shop.shop_id, account.customer_id, shop.program_holdout_percent)].append(
                    sum(minor for day, minor in account.spend_by_day.items() if first <= day <= last))
            if cursor is None:
                break
    answer = program_lift(totals(revenues[False]), totals(revenues[True]), shop.currency_exponent)
    return {"holdout_percent": shop.program_holdout_percent, "months": months, **answer}


def _program_report(deps, shop, totals: Counter, today: date) -> dict:
    """The program's effect: redemption rate and ROI over the period, liability by expiry month now,
    revenue owed to each campaign and flow (domain/loyalty/program_report.py defines each figure)."""
    exponent = shop.currency_exponent
    liability, retention = directory_figures(deps, shop, today)
    cost = RewardCost(
        redeemed_value_minor=shop.program.redemption_value_minor(max(totals.get("points_redeemed", 0), 0), exponent),
        cashback_minor=totals.get("cashback_issued_minor", 0),
        codes_discount_minor=totals.get("codes_discount_minor", 0))
    return {
        "redemption_rate": redemption_rate(totals.get("points_redeemed", 0), totals.get("points_issued", 0)),
        "roi": program_roi(totals.get("revenue_member_minor", 0), cost, exponent),
        "liability_by_expiry_month": liability,
        "cohort_retention": retention,
        "attributed_revenue": _attributed(deps, shop),
        "definitions": DEFINITIONS,
    }


def directory_figures(deps, shop, today: date, read_limit: int = LIABILITY_READ_LIMIT) -> tuple[dict, dict]:
    """One bounded walk of the customer directory: the points outstanding by the month they expire
    (from the lots of the customers holding points) and the cohort retention table (from the paid
    days each account keeps); both say how many customers they read and whether that was all."""
    from chalicelib.store import keys

    repo = deps.repos.loyalty(shop.shop_id)
    exponent = shop.currency_exponent
    lots, histories, customers_read, accounts_read, complete = [], [], 0, 0, True
    for shard in range(keys.CUSTOMER_SHARDS):
        cursor = None
        while True:
            if customers_read >= read_limit:
                complete = False
                break
            page, cursor = repo.customer_page(shard, cursor, min(500, read_limit - customers_read))
            customers_read += len(page)
            for customer in (a for a in page if not a.redacted):
                if whole_history_in(customer.spend_by_day, customer.lifetime_spend_minor):
                    histories.append(OrderHistory(frozenset(d for d, minor in customer.spend_by_day.items() if minor > 0),
                                                  member=customer.tier_name is not None))
                if customer.points_balance > 0:
                    account = repo.load_account(customer.customer_id)
                    accounts_read += 1
                    if account is not None:
                        lots += [(lot.expires_at, lot.points) for lot in account.lots or ()]
            if cursor is None:
                break
        if not complete:
            break
    months = liability_by_month(lots, lambda points: shop.program.redemption_value_minor(points, exponent), exponent)
    liability = {"months": months, "points": sum(m["points"] for m in months),
                 "value": format_minor(sum(m["value_minor"] for m in months), exponent),
                 "customers_read": customers_read, "accounts_with_points_read": accounts_read, "complete": complete}
    retention = {"cohorts": retention_table(histories, today), "customers_counted": len(histories),
                 "customers_read": customers_read, "complete": complete}
    return liability, retention


def _attributed(deps, shop) -> dict:
    """Orders and revenue owed to each campaign (the latest ``ATTRIBUTION_CAMPAIGNS``) and each flow."""
    from chalicelib.mail.base import TEMPLATES

    campaigns = sorted(deps.repos.campaigns(shop.shop_id).list(), key=lambda c: c.send_at, reverse=True)
    exponent = shop.currency_exponent
    per_campaign = attributed_revenue(
        (({"campaign_id": c.campaign_id, "name": c.name, "status": c.status},
          deps.repos.results(shop.shop_id, campaign_subject(c.campaign_id)).totals())
         for c in campaigns[:ATTRIBUTION_CAMPAIGNS]), exponent)
    per_flow = attributed_revenue((({"template": t}, deps.repos.results(shop.shop_id, flow_subject(t)).totals())
                                   for t in TEMPLATES), exponent)
    return {"campaigns": per_campaign, "flows": per_flow,
            "campaigns_read": min(len(campaigns), ATTRIBUTION_CAMPAIGNS), "campaigns_total": len(campaigns)}
