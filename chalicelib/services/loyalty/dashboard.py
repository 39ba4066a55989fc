"""The workspace's dashboard: a shop's loyalty figures per day, from counters kept on write.

Nothing here reads customers or orders: the counts were added inside each change's
own transaction (``domain.dashboard``), so a dashboard costs one Query per counter
shard whatever the shop's size. The exceptions share one walk of the customer directory
(``directory_figures``, one Query per page): the liability by expiry month and the cohort retention
table read up to ``LIABILITY_READ_LIMIT`` customers (and the lots of each customer holding points; the
answer says how many it read and whether that was all), and a shop with a program holdout gets the
program's incremental revenue (``program``) from the same pages, read to the end, comparing the two
groups' revenue per customer. Running totals (customers, members, points
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
        **_program_report(deps, shop, totals, first, today),
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


def program_effect(shop, revenues: dict[bool, list[int]], first: date, last: date) -> dict:
    """The whole program's incremental revenue over the days from ``first`` to ``last``: the
    customers who get marketing mail against the program holdout (domain/campaigns/program_holdout.py),
    from each group's revenue per customer (``revenues``: in the holdout → each customer's revenue,
    read in the dashboard's one directory walk). ``months`` names the calendar months the period touches."""
    from chalicelib.domain.campaigns.program_holdout import program_lift, totals

    months = sorted({(first + timedelta(days=n)).strftime("%Y-%m") for n in range((last - first).days + 1)})
    answer = program_lift(totals(revenues[False]), totals(revenues[True]), shop.currency_exponent)
    return {"holdout_percent": shop.program_holdout_percent, "months": months, **answer}


def _program_report(deps, shop, totals: Counter, first: date, today: date) -> dict:
    """The program's effect: redemption rate and ROI over the period, liability by expiry month now,
    revenue owed to each campaign and flow (domain/loyalty/program_report.py defines each figure),
    and with a program holdout its incremental revenue (``program``)."""
    exponent = shop.currency_exponent
    liability, retention, program = directory_figures(deps, shop, today,
                                                      program_from=first if shop.program_holdout_percent else None)
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
        **({"program": program} if program is not None else {}),
    }


class _Holdings:
    """What the bounded part of the walk gathers from the first ``read_limit`` customers: the lots of
    those holding points (one Query each) and the paid days of those whose whole history is kept."""

    def __init__(self, repo, read_limit: int):
        self.repo, self.read_limit = repo, read_limit
        self.lots: list = []
        self.histories: list[OrderHistory] = []
        self.customers_read = self.accounts_read = 0
        self.complete = True

    @property
    def full(self) -> bool:
        return self.customers_read >= self.read_limit

    def add(self, customer) -> None:
        if self.full:
            self.complete = False
            return
        self.customers_read += 1
        if customer.redacted:
            return
        if whole_history_in(customer.spend_by_day, customer.lifetime_spend_minor):
            self.histories.append(OrderHistory(frozenset(d for d, minor in customer.spend_by_day.items() if minor > 0),
                                               member=customer.tier_name is not None))
        if customer.points_balance > 0:
            account = self.repo.load_account(customer.customer_id)
            self.accounts_read += 1
            if account is not None:
                self.lots += [(lot.expires_at, lot.points) for lot in account.lots or ()]


def directory_figures(deps, shop, today: date, read_limit: int = LIABILITY_READ_LIMIT,
                      program_from: date | None = None) -> tuple[dict, dict, dict | None]:
    """One walk of the customer directory feeds every figure that reads customers: the points
    outstanding by the month they expire (from the lots of the customers holding points) and the
    cohort retention table (from the paid days each account keeps), both over the first ``read_limit``
    customers and saying how many they read and whether that was all; and, with ``program_from``
    (a shop with a program holdout), the program's incremental revenue from ``program_from`` to
    ``today`` over every customer (the walk then reads the whole directory, one Query per 500)."""
    from chalicelib.domain.campaigns.program_holdout import in_program_holdout
    from chalicelib.store import keys

    repo = deps.repos.loyalty(shop.shop_id)
    exponent = shop.currency_exponent
    holdings = _Holdings(repo, read_limit)
    revenues: dict[bool, list[int]] = {True: [], False: []}
    for shard in range(keys.CUSTOMER_SHARDS):
        cursor = None
        while True:
            if holdings.full and program_from is None:
                holdings.complete = False
                break
            page, cursor = repo.customer_page(
                shard, cursor, 500 if program_from else min(500, read_limit - holdings.customers_read))
            for customer in page:
                holdings.add(customer)
                if program_from is not None and not customer.redacted and customer.created_at.date() <= today:
                    revenues[in_program_holdout(shop.shop_id, customer.customer_id, shop.program_holdout_percent)].append(
                        sum(minor for day, minor in customer.spend_by_day.items() if program_from <= day <= today))
            if cursor is None:
                break
        if not holdings.complete and program_from is None:
            break
    months = liability_by_month(holdings.lots, lambda points: shop.program.redemption_value_minor(points, exponent),
                                exponent)
    liability = {"months": months, "points": sum(m["points"] for m in months),
                 "value": format_minor(sum(m["value_minor"] for m in months), exponent),
                 "customers_read": holdings.customers_read, "accounts_with_points_read": holdings.accounts_read,
                 "complete": holdings.complete}
    retention = {"cohorts": retention_table(holdings.histories, today), "customers_counted": len(holdings.histories),
                 "customers_read": holdings.customers_read, "complete": holdings.complete}
    program = program_effect(shop, revenues, program_from, today) if program_from is not None else None
    return liability, retention, program


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
