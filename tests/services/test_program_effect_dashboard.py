"""The program's effect on the dashboard, as the marketer reads it through HTTP: redemption rate,
liability by expiry month, ROI against the rewards' cost and the revenue owed to flows and
campaigns, on a fixed clock (points: 5 per 100 spent, worth 1.00 each; cashback 2 %; Silver from
2,000; points valid 6 months)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.services.loyalty.dashboard import directory_figures
from chalicelib.services.shops.lookup import load_shop
from devstack.samples import sample_order_payload, signed_request
from tests.support.clock import T0, FakeClock, app_clock  # noqa: F401 (app_clock: the ``clock`` fixture)
from tests.support.shops import ADMIN, register_shop

UTC = timezone.utc
FIRST_PAID = T0  # where the ``clock`` fixture starts: 14 March 2031, 09:00 UTC
LATER = FIRST_PAID + timedelta(days=40)  # 23 April 2031


def _pays(client, shop, clock, order_id: str, email: str, amount: str) -> None:
    payload = sample_order_payload("shopify", order_id=order_id, email=email, created_at=clock.now,
                                   lines=[{"id": "1", "title": "Kettle", "quantity": 1, "unit_price": amount}],
                                   shipping="0.00")
    headers, raw = signed_request("shopify", shop.secret, payload, topic="orders/paid", now=clock.now)
    response = client.http.post(f"/webhooks/shopify/{shop.shop_id}", headers=headers, body=raw)
    assert response.status_code == 200 and json.loads(response.body)["result"] == "applied", response.body


@pytest.fixture
def shop(client, deps, clock):
    shop = register_shop(client, "effect", "shopify")
    _pays(client, shop, clock, "6001", "olena+vip@example.com", "2500.00")  # not yet a member; Silver after it
    clock.set(LATER)
    _pays(client, shop, clock, "6002", "olena+vip@example.com", "1000.00")  # a member's order
    _pays(client, shop, clock, "6003", "Taras@Example.com", "400.00")
    status, _ = shop.redeem("olena+vip@example.com", 100)  # from the oldest lot (expiring in September)
    assert status == 201
    return shop


def _board(client, shop, days: int = 60) -> dict:
    response = client.http.get(f"/admin/shops/{shop.shop_id}/dashboard?days={days}", headers=ADMIN)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def test_redemption_rate_and_roi_over_the_period(client, shop, clock):
    board = _board(client, shop)
    earned = 125 + 50 + 20
    assert board["redemption_rate"] == {"rate": round(100 / earned, 4), "numerator": "points_redeemed",
                                        "denominator": "points_earned", "points_redeemed": 100,
                                        "points_earned": earned}
    roi = board["roi"]
    assert roi["member_revenue"] == "1000.00"  # the first order was paid before the tier
    assert roi["redeemed_value"] == "100.00" and roi["cashback_cost"] == "78.00"  # 2 % of 3,900
    assert roi["reward_cost"] == "178.00"
    assert roi["roi"] == round((100_000 - 17_800) / 17_800, 4)
    assert "reward_cost" in board["definitions"] and "roi" in board["definitions"]

    # a quiet day later: nothing earned, so the rate is unknown (not 0), and no cost to weigh
    clock.set(LATER + timedelta(days=2))
    quiet = _board(client, shop, days=1)
    assert quiet["redemption_rate"]["rate"] is None and quiet["redemption_rate"]["points_earned"] == 0
    assert quiet["roi"]["member_revenue"] == "0.00" and quiet["roi"]["roi"] is None


def test_liability_by_the_month_the_points_expire(client, shop):
    board = _board(client, shop)
    answer = board["liability_by_expiry_month"]
    assert answer["months"] == [{"month": "2031-09", "points": 25, "value": "25.00", "value_minor": 2_500},
                                {"month": "2031-10", "points": 70, "value": "70.00", "value_minor": 7_000}]
    assert answer["points"] == board["now"]["points_outstanding"] == 95
    assert answer["customers_read"] == 2 and answer["accounts_with_points_read"] == 2 and answer["complete"]


def test_a_bounded_liability_scan_says_it_stopped(deps, shop):
    answer, retention, program = directory_figures(deps, load_shop(deps, shop.shop_id), LATER.date(), read_limit=1)
    assert program is None  # no program holdout: nothing past the limit is read
    assert retention["customers_read"] == 1 and retention["complete"] is False
    assert answer["customers_read"] == 1 and answer["complete"] is False
    assert answer["points"] in (20, 25 + 50)  # one customer's lots: Taras' or Olena's


def test_revenue_attributed_per_flow_and_campaign(client, deps, shop, clock):
    deps.repos.results(shop.shop_id, "flow:winback").add_many({"sent": 40, "orders": 2, "revenue_minor": 9_950},
                                                              "customer-1")
    deps.repos.results(shop.shop_id, "flow:birthday").add_many({"sent": 12}, "customer-2")
    deps.repos.results(shop.shop_id, "flow:post_purchase").add_many({"orders": 3, "revenue_minor": 31_000},
                                                                    "customer-3")
    attributed = _board(client, shop)["attributed_revenue"]
    assert attributed["flows"] == [
        {"template": "post_purchase", "orders": 3, "revenue": "310.00", "revenue_minor": 31_000},
        {"template": "winback", "orders": 2, "revenue": "99.50", "revenue_minor": 9_950}]
    assert attributed["campaigns"] == [] and attributed["campaigns_total"] == 0


def test_cohort_retention_by_first_order_month_members_apart(client, shop):
    retention = _board(client, shop)["cohort_retention"]
    assert retention["customers_counted"] == 2 and retention["complete"]
    assert retention["cohorts"] == [
        {"cohort": "2031-03", "members": {"customers": 1, "ordered_again": [1.0]},  # Olena again in April
         "non_members": {"customers": 0, "ordered_again": [None]}},
        {"cohort": "2031-04", "members": {"customers": 0, "ordered_again": []},
         "non_members": {"customers": 1, "ordered_again": []}}]


def test_one_directory_walk_feeds_the_liability_the_cohorts_and_the_program(client, deps, clock, monkeypatch):
    from chalicelib.domain.campaigns.program_holdout import in_program_holdout
    from chalicelib.store import keys
    from chalicelib.store.loyalty.repository import LoyaltyRepository

    shop = register_shop(client, "effect-holdout", "shopify", program_holdout_percent=30)
    spent = {f"buyer{n}@example.com": 100 * (n + 1) for n in range(12)}
    for n, (email, amount) in enumerate(spent.items()):
        _pays(client, shop, clock, f"h-{n}", email, f"{amount}.00")
    clock.set(LATER)
    _pays(client, shop, clock, "h-again", "buyer0@example.com", "300.00")
    pages: list[int] = []
    page_of = LoyaltyRepository.customer_page
    monkeypatch.setattr(LoyaltyRepository, "customer_page",
                        lambda self, shard, cursor, limit: pages.append(shard) or page_of(self, shard, cursor, limit))

    board = _board(client, shop)
    assert sorted(pages) == list(range(keys.CUSTOMER_SHARDS))  # every shard's one page, once: one walk

    # the same answers as each figure read alone
    settings = load_shop(deps, shop.shop_id)
    liability, retention, no_program = directory_figures(deps, settings, LATER.date())
    assert no_program is None
    assert board["liability_by_expiry_month"] == liability and board["cohort_retention"] == retention
    assert liability["customers_read"] == 12 and liability["complete"]
    held = {email for email in spent if in_program_holdout(shop.shop_id, settings.customer_id_for(email), 30)}
    program = board["program"]
    assert program["groups"]["holdout"]["customers"] == len(held)
    assert program["groups"]["mailed"]["customers"] == 12 - len(held)
    # over the 60 days, the paid days both orders fall in: each group's revenue adds up its customers' orders
    assert program["groups"]["holdout"]["revenue"] == sum(spent[e] for e in held) + (300 if "buyer0@example.com" in held else 0)
    assert program["groups"]["mailed"]["revenue"] == (sum(spent[e] for e in spent if e not in held)
                                                      + (0 if "buyer0@example.com" in held else 300))


def test_a_bounded_walk_still_reads_every_customer_for_the_program(client, deps, clock):
    shop = register_shop(client, "effect-bounded", "shopify", program_holdout_percent=50)
    for n in range(6):
        _pays(client, shop, clock, f"b-{n}", f"b{n}@example.com", "500.00")
    liability, retention, program = directory_figures(deps, load_shop(deps, shop.shop_id), FIRST_PAID.date(),
                                                      read_limit=2, program_from=FIRST_PAID.date())
    assert liability["customers_read"] == retention["customers_read"] == 2
    assert liability["complete"] is False and retention["complete"] is False
    assert program["groups"]["holdout"]["customers"] + program["groups"]["mailed"]["customers"] == 6
    assert program["groups"]["holdout"]["revenue"] + program["groups"]["mailed"]["revenue"] == 3_000
