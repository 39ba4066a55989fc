"""Several membership plans instead of one SKU: each plan bought gives its own period and terms (free
shipping or not, its extra cashback, member-only offers), the storefront and the order's answer
show them, and the customer's e-mails (the order's thank-you, the reminder) state them."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

import pytest

from chalicelib.mail.contexts import build_context
from chalicelib.mail.rendering import TemplateSet
from chalicelib.services.lifecycle.daily import run_daily
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.loyalty.repository import LoyaltyRepository
from devstack.samples import sample_order_payload, sample_refund_payload
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN, register_shop

PLANS = [
    {"sku": "CLUB-M", "name": "Club Monthly", "period": "monthly", "free_shipping": False,
     "extra_cashback_percent": "1"},
    {"sku": "CLUB-Y", "name": "Club Plus", "period": "yearly", "free_shipping": True, "extra_cashback_percent": "4",
     "exclusive_offers": True},
]
PROGRAM = {"cashback_percent": "2", "membership": {"plans": PLANS, "reminder_days": 7}}
EMAIL = "member+club@shop.example"


@pytest.fixture
def shop(client):
    return register_shop(client, "plans-shop", "generic", program=PROGRAM, default_locale="en")


def _order(shop, order_id, sku, price):
    payload = sample_order_payload("generic", order_id=order_id, email=EMAIL, locale="en",
                                   lines=[{"sku": sku, "unit_price": price}])
    response = shop.deliver(payload)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def _text(deps, shop, message) -> str:
    """The e-mail as the send path renders it (plain-text part), from the message the change queued."""
    loaded = load_shop(deps, shop.shop_id)
    account = LoyaltyRepository(shop.shop_id).load_account(message["customer_id"])
    context = build_context(message["template"], shop=loaded, account=account, data=message["data"],
                            links={"preferences": "https://example.com/p"}, now=deps.clock())
    email = TemplateSet.default().render(message["template"], context["locale"], context)
    return email.text


def test_a_monthly_plan_without_free_shipping_gives_only_its_own_terms(deps, shop):
    answer = _order(shop, "p-1", "CLUB-M", "99.00")
    terms = answer["membership"]
    assert (terms["free_shipping"], terms["free_shipping_code"], terms["extra_cashback_percent"]) == (False, None, "1")
    assert terms["plan"]["plan_name"] == "Club Monthly" and terms["extended_by_this_order"]
    view = shop.customer(EMAIL)[1]["membership"]
    assert view["active"] and not view["free_shipping"] and view["plan"]["period"] == "monthly"
    assert [p["plan_sku"] for p in view["plans"]] == ["CLUB-M", "CLUB-Y"]
    until = datetime.fromisoformat(view["member_until"].replace("Z", "+00:00"))
    assert 28 <= (until - deps.clock()).days <= 31

    _order(shop, "p-2", "GRINDER", "1000.00")
    assert shop.customer(EMAIL)[1]["cashback_balance"] == "31.98"  # 2 % of 99 + (2 % + 1 %) of 1000


def test_a_yearly_plan_replaces_the_terms_and_its_email_states_them(deps, shop):
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    _order(shop, "p-1", "CLUB-M", "99.00")
    drain_queue(queue)
    answer = _order(shop, "p-2", "CLUB-Y", "990.00")
    terms = answer["membership"]
    assert (terms["free_shipping"], terms["extra_cashback_percent"]) == (True, "4")
    assert terms["free_shipping_code"].startswith("SHIP-")
    view = shop.customer(EMAIL)[1]["membership"]
    until = datetime.fromisoformat(view["member_until"].replace("Z", "+00:00"))
    assert 12 * 28 + 28 <= (until - deps.clock()).days <= 13 * 31  # the month left, then a year more
    assert view["plan"] == {"plan_sku": "CLUB-Y", "plan_name": "Club Plus", "period": "yearly", "free_shipping": True,
                            "extra_cashback_percent": "4", "exclusive_offers": True}

    (thanks,) = [m for m in drain_queue(queue) if m["template"] == "post_purchase"]
    text = _text(deps, shop, thanks)
    assert "Your membership is active until" in text and "Your plan: Club Plus, yearly" in text
    assert "Free shipping on every order" in text and "4% extra cashback on every purchase" in text
    assert "Exclusive offers for members" in text

    due = run_daily(deps, until - timedelta(days=6), [shop.shop_id])["shops"][shop.shop_id]["membership_reminders"]
    assert due["reminded"] == 1
    (reminder,) = [m for m in drain_queue(queue) if m["template"] == "membership_reminder"]
    assert reminder["data"]["plan_name"] == "Club Plus" and reminder["data"]["exclusive_offers"] is True
    text = _text(deps, shop, reminder)
    assert "Your plan: Club Plus, yearly" in text and "another year" in text
    assert "Free shipping on every order" in text and "Exclusive offers for members" in text


def test_the_monthly_plans_email_leaves_out_what_it_does_not_give(deps, shop):
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    drain_queue(queue)
    _order(shop, "p-1", "CLUB-M", "99.00")
    (thanks,) = [m for m in drain_queue(queue) if m["template"] == "post_purchase"]
    text = _text(deps, shop, thanks)
    assert "Your plan: Club Monthly, monthly" in text and "1% extra cashback on every purchase" in text
    assert "Free shipping" not in text and "Exclusive offers" not in text


def test_refunding_the_yearly_plan_goes_back_to_the_monthly_one(deps, shop):
    _order(shop, "p-1", "CLUB-M", "99.00")
    _order(shop, "p-2", "CLUB-Y", "990.00")
    refund = sample_refund_payload("generic", refund_id="rf-y", order_id="p-2", lines=[{"line_id": "1", "quantity": 1}])
    assert shop.deliver(refund).status_code == 200
    view = shop.customer(EMAIL)[1]["membership"]
    assert view["active"] and view["plan"]["plan_sku"] == "CLUB-M" and not view["free_shipping"]


@pytest.mark.parametrize("membership, field", [
    ({"plans": [{**PLANS[0]}, {**PLANS[1], "sku": "CLUB-M"}]}, "program.membership.plans"),
    ({"plans": [{**PLANS[0], "period": "weekly"}]}, "program.membership.plans.0.period"),
    ({"plans": [{**PLANS[0], "name": ""}]}, "program.membership.plans.0.name"),
    ({"plans": [{**PLANS[0], "extra_cashback_percent": "101"}]}, "program.membership.plans.0.extra_cashback_percent"),
    ({"plans": [{**PLANS[0], "perks": "all"}]}, "program.membership.plans.0.perks"),
    ({"sku": "CLUB-M", "plans": PLANS}, "program.membership"),
])
def test_invalid_plans_are_400_naming_the_field(client, membership, field):
    from tests.support.shops import shop_document

    response = client.http.put("/admin/shops/bad-plans", headers=ADMIN, body=json.dumps(
        shop_document("generic", program={"membership": membership})).encode())
    error = json.loads(response.body)
    assert (response.status_code, error["field"]) == (400, field), error


def test_a_plans_members_are_a_segment_for_its_member_only_offers(client, shop):
    _order(shop, "p-1", "CLUB-Y", "990.00")
    rules = {"rules": {"field": "membership_plan", "op": "=", "value": "CLUB-Y"}}
    preview = json.loads(client.http.post(f"/admin/shops/{shop.shop_id}/segments/preview", headers=ADMIN,
                                          body=json.dumps(rules).encode()).body)
    assert preview["count"] == 1
    monthly = {"rules": {"field": "membership_plan", "op": "=", "value": "CLUB-M"}}
    assert json.loads(client.http.post(f"/admin/shops/{shop.shop_id}/segments/preview", headers=ADMIN,
                                       body=json.dumps(monthly).encode()).body)["count"] == 0
    offer = client.http.post(f"/admin/shops/{shop.shop_id}/offers", headers=ADMIN, body=json.dumps(
        {"name": "Club Plus: −20% on grinders", "product_skus": ["GRINDER"], "discount_percent": "20",
         "segment": rules}).encode())
    assert offer.status_code == 201 and json.loads(offer.body)["customers"] == 1
