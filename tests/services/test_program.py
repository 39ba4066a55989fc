"""The rest of the program through the API: referrals (with fraud checks and a refund
inside the return window), the review bonus, the sign-up bonus, the cashback wallet
(withdrawals, codes), paid membership and achievements."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import boto3

from devstack.samples import sample_order_payload, sample_refund_payload, sign_generic
from chalicelib.services.mail import mailer
from chalicelib.services.lifecycle.daily import run_daily
from tests.support.shops import ADMIN, register_shop
from tests.support.queues import drain_queue

PROGRAM = {
    "cashback_percent": "2", "signup_bonus_points": 25,
    "referral": {"friend_discount_percent": "10", "reward_points": 200, "return_window_days": 14, "monthly_cap": 3},
    "review": {"bonus_points": 30, "min_chars": 50},
    "membership": {"sku": "CLUB", "period": "monthly", "extra_cashback_percent": "3", "reminder_days": 7},
    "achievements": [{"kind": "orders", "threshold": 1, "points": 10}, {"kind": "reviews", "threshold": 1, "points": 5}],
}
LONG_REVIEW = "The grinder is quiet, the burrs are even, and the coffee tastes clean. Recommended."


def _shop(client, shop_id="program-shop", **program):
    return register_shop(client, shop_id, "generic", program={**PROGRAM, **program})


def _order(shop, order_id, email, *, lines=None, codes=(), referral=None, address=None, first_name="Olena"):
    payload = sample_order_payload("generic", order_id=order_id, email=email, discount_codes=codes,
                                   lines=lines or [{"sku": "GRINDER", "unit_price": "1000.00"}], first_name=first_name)
    if referral:
        payload["order"]["referral_code"] = referral
    if address:
        payload["order"]["shipping_address"] = address
    response = shop.deliver(payload)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def _sends(deps, message: dict) -> None:
    """The real template accepts the data the change queued."""
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    assert mailer.send_message(deps, message)["status"] == "sent", message


def _templates(messages):
    return sorted(m["template"] for m in messages)


def _history_kinds(shop, email):
    return [entry["kind"] for entry in shop.history(email)[1]["entries"]]


def test_referral_rewarded_after_the_return_window_with_fraud_checks_and_a_refund(deps, client):
    shop = _shop(client)
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    _order(shop, "a-1", "anna.koval@gmail.com", address={"address1": "Khreshchatyk 22", "city": "Kyiv", "zip": "01001",
                                                         "country": "UA"})
    status, anna = shop.customer("anna.koval@gmail.com")
    code = anna["referral"]["code"]
    assert status == 200 and code.startswith("REF-") and anna["referral"]["share_url"].endswith(f"?ref={code}")
    check = json.loads(client.http.get(f"/shops/{shop.shop_id}/codes/{code}", headers={"X-Api-Key": shop.api_key}).body)
    assert (check["kind"], check["first_order_only"], check["discount_percent"], check["valid"]) == \
        ("referral", True, "10", True)
    drain_queue(queue)

    answer = _order(shop, "b-1", "bohdan@shop.example", codes=[code.lower()], first_name="Bohdan",
                    address={"address1": "Sadova 3", "city": "Lviv", "zip": "79000", "country": "UA"})
    assert answer["referral"]["status"] == "pending" and answer["consumed_codes"] == []
    # Fraud: the same Gmail mailbox spelled differently, the same door, an existing customer.
    assert _order(shop, "c-1", "AnnaKoval+deals@googlemail.com", referral=code)["referral"] == \
        {"code": code, "status": "rejected", "reason": "self_referral", "due_on": None}
    assert _order(shop, "d-1", "dmytro@shop.example", codes=[code], address={
        "address1": " khreshchatyk   22 ", "city": "KYIV", "zip": "01001", "country": "ua"})["referral"]["reason"] == \
        "same_shipping_address"
    _order(shop, "e-1", "eva@shop.example")
    assert _order(shop, "e-2", "eva@shop.example", codes=[code])["referral"]["reason"] == "existing_customer"
    # Friend F is referred too, then refunds the order inside the window: A gets nothing for F.
    assert _order(shop, "f-1", "fedir@shop.example", codes=[code])["referral"]["status"] == "pending"
    refund = sample_refund_payload("generic", refund_id="rf-1", order_id="f-1",
                                   lines=[{"line_id": "1", "quantity": 1}])
    assert shop.deliver(refund).status_code == 200
    _order(shop, "g-1", "galyna@shop.example", codes=[code])  # the third this month: still within the cap
    assert _order(shop, "h-1", "hanna@shop.example", codes=[code])["referral"]["reason"] == "monthly_cap"
    drain_queue(queue)

    before = shop.customer("anna.koval@gmail.com")[1]["points_balance"]
    now = datetime.now(timezone.utc)
    report = run_daily(deps, now + timedelta(days=10), [shop.shop_id])["shops"][shop.shop_id]["referral_rewards"]
    assert report == {"rewarded": 0, "voided": 0, "skipped": []}
    report = run_daily(deps, now + timedelta(days=15), [shop.shop_id])["shops"][shop.shop_id]["referral_rewards"]
    assert report == {"rewarded": 2, "voided": 1, "skipped": []}  # B and G rewarded, F voided
    assert shop.customer("anna.koval@gmail.com")[1]["points_balance"] == before + 400
    messages = [m for m in drain_queue(queue) if m["template"] == "referral_reward"]
    assert sorted(m["data"].get("friend_first_name") for m in messages) == ["Bohdan", "Olena"]
    _sends(deps, messages[0])
    # Running again gives nothing twice.
    again = run_daily(deps, now + timedelta(days=16), [shop.shop_id])["shops"][shop.shop_id]["referral_rewards"]
    assert again["rewarded"] == 0 and shop.customer("anna.koval@gmail.com")[1]["points_balance"] == before + 400


def test_review_bonus_once_per_product_taken_back_when_removed(client):
    shop = _shop(client)
    _order(shop, "r-1", "olena@shop.example")

    def review(event_id, status="approved", body=LONG_REVIEW, product="p-1", review_id="rv-1", secret=None, **extra):
        payload = {"event_id": event_id, "occurred_at": datetime.now(timezone.utc).isoformat(),
                   "review": {"id": review_id, "email": "olena@shop.example", "product_id": product,
                              "status": status, **({"body": body} if body is not None else {}), **extra}}
        raw = json.dumps(payload).encode()
        signature = sign_generic(secret or shop.secret, raw, int(datetime.now(timezone.utc).timestamp()))
        response = client.http.post(f"/webhooks/reviews/{shop.shop_id}", body=raw,
                                    headers={"Content-Type": "application/json", "X-Loyalty-Signature": signature})
        return response.status_code, json.loads(response.body)

    balance = shop.customer("olena@shop.example")[1]["points_balance"]
    status, answer = review("ev-1")
    assert status == 200 and answer["outcome"] == "rewarded"
    # 30 for the review, 5 for the first-review achievement
    assert shop.customer("olena@shop.example")[1]["points_balance"] == balance + 35
    assert review("ev-1")[1]["result"] == "duplicate"
    assert review("ev-2", review_id="rv-2")[1]["reason"] == "already_rewarded"
    assert review("ev-3", product="p-2", body="Nice.")[1]["reason"] == "shorter_than_50_characters"
    status, bad = review("ev-4", body=None)
    assert status == 400 and "review" in bad["field"]
    assert review("ev-5", secret="whsec-wrong-0123456789")[0] == 401
    status, removed = review("ev-6", status="removed", body=None)
    assert removed["outcome"] == "taken_back" and removed["points"] == -30
    assert shop.customer("olena@shop.example")[1]["points_balance"] == balance + 5
    assert review("ev-7")[1]["reason"] == "product_already_reviewed"  # once per product, ever
    assert "review" not in [k for k in _history_kinds(shop, "olena@shop.example")]


def test_signup_bonus_once_with_consent_and_the_welcome_mail(deps, client):
    shop = _shop(client)
    queue = os.environ["LOYALTY_SEND_QUEUE"]

    def customer_event(event_id, consent):
        payload = {"type": "customer", "event_id": event_id, "occurred_at": datetime.now(timezone.utc).isoformat(),
                   "customer": {"email": "nina@shop.example", "first_name": "Nina", "marketing_consent": consent}}
        return json.loads(shop.deliver(payload).body)

    assert "signup_bonus_points" not in customer_event("c-1", False)
    answer = customer_event("c-2", True)
    assert answer["signup_bonus_points"] == 25
    assert "signup_bonus_points" not in customer_event("c-3", True)
    assert shop.customer("nina@shop.example")[1]["points_balance"] == 25
    (welcome,) = [m for m in drain_queue(queue) if m["template"] == "welcome"]
    assert welcome["data"] == {"bonus_points": 25}
    _sends(deps, welcome)


def test_cashback_withdrawals_and_cashback_codes(deps, client):
    shop = _shop(client)
    _order(shop, "w-1", "wallet@shop.example", lines=[{"sku": "GRINDER", "unit_price": "1000.00"}])
    assert shop.customer("wallet@shop.example")[1]["cashback_balance"] == "20.00"
    store = {"X-Api-Key": shop.api_key, "Content-Type": "application/json"}

    def post(path, body, headers=store):
        response = client.http.post(path, headers=headers, body=json.dumps(body).encode())
        return response.status_code, json.loads(response.body)

    base = f"/shops/{shop.shop_id}/customers/wallet@shop.example"
    status, first = post(f"{base}/withdrawals", {"amount": "15.00"})
    assert status == 201 and first["status"] == "pending" and first["cashback_balance"] == "5.00"
    status, refused = post(f"{base}/withdrawals", {"amount": "10.00"})
    assert status == 409 and refused["field"] == "amount"
    assert post(f"{base}/withdrawals", {"amount": "-1"})[0] == 400
    assert post(f"{base}/withdrawals", {"amount": 5})[1]["field"] == "amount"

    listing = json.loads(client.http.get(f"/admin/shops/{shop.shop_id}/withdrawals?status=pending", headers=ADMIN).body)
    assert [w["id"] for w in listing["withdrawals"]] == [first["id"]]
    status, rejected = post(f"/admin/shops/{shop.shop_id}/withdrawals/{first['id']}/reject", {"note": "card unknown"},
                            ADMIN)
    assert status == 200 and rejected["status"] == "rejected" and rejected["cashback_balance"] == "20.00"
    assert post(f"/admin/shops/{shop.shop_id}/withdrawals/{first['id']}/confirm", {}, ADMIN)[0] == 409

    second = post(f"{base}/withdrawals", {"amount": "12.50"})[1]
    status, confirmed = post(f"/admin/shops/{shop.shop_id}/withdrawals/{second['id']}/confirm", {}, ADMIN)
    assert confirmed["status"] == "confirmed" and confirmed["cashback_balance"] == "7.50"
    assert json.loads(client.http.get(f"/admin/shops/{shop.shop_id}/withdrawals", headers=ADMIN).body)["withdrawals"] \
        == []

    status, code = post(f"{base}/cashback-codes", {"amount": "7.50"})
    assert status == 201 and code["code"].startswith("CASH-") and code["cashback_balance"] == "0.00"
    kinds = _history_kinds(shop, "wallet@shop.example")
    assert {"withdrawal", "withdrawal_returned", "withdrawal_paid", "cashback_code"} <= set(kinds)
    # Unused by its expiry, the code's money goes back to the wallet.
    run_daily(deps, datetime.now(timezone.utc) + timedelta(days=31), [shop.shop_id])
    assert shop.customer("wallet@shop.example")[1]["cashback_balance"] == "7.50"


def test_membership_free_shipping_extra_cashback_reminder_and_refund_ends_it(deps, client):
    shop = _shop(client)
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    answer = _order(shop, "m-1", "member@shop.example", lines=[{"sku": "CLUB", "unit_price": "100.00"}])
    assert answer["membership"]["free_shipping"] and answer["membership"]["extended_by_this_order"]
    view = shop.customer("member@shop.example")[1]
    assert view["membership"]["active"] and view["membership"]["free_shipping"]
    assert view["membership"]["free_shipping_code"].startswith("SHIP-")
    assert view["membership"]["extra_cashback_percent"] == "3"
    assert view["cashback_balance"] == "2.00"  # the membership order itself earns the normal 2 %

    answer = _order(shop, "m-2", "member@shop.example", lines=[{"sku": "GRINDER", "unit_price": "1000.00"}])
    assert answer["membership"]["free_shipping"] and not answer["membership"]["extended_by_this_order"]
    assert shop.customer("member@shop.example")[1]["cashback_balance"] == "52.00"  # 2 % + 3 % of 1000
    segment = json.loads(client.http.post(f"/admin/shops/{shop.shop_id}/segments/preview", headers=ADMIN, body=json.dumps(
        {"rules": {"field": "member", "op": "=", "value": True}}).encode()).body)
    assert segment["count"] == 1
    drain_queue(queue)

    until = datetime.fromisoformat(view["membership"]["member_until"].replace("Z", "+00:00"))
    early = run_daily(deps, until - timedelta(days=9), [shop.shop_id])["shops"][shop.shop_id]["membership_reminders"]
    assert early["reminded"] == 0
    due = run_daily(deps, until - timedelta(days=6), [shop.shop_id])["shops"][shop.shop_id]["membership_reminders"]
    assert due["reminded"] == 1
    (reminder,) = [m for m in drain_queue(queue) if m["template"] == "membership_reminder"]
    _sends(deps, reminder)
    assert run_daily(deps, until - timedelta(days=5), [shop.shop_id])["shops"][shop.shop_id]["membership_reminders"][
        "reminded"] == 0

    refund = sample_refund_payload("generic", refund_id="rf-m", order_id="m-1", lines=[{"line_id": "1", "quantity": 1}])
    assert shop.deliver(refund).status_code == 200
    ended = shop.customer("member@shop.example")[1]["membership"]
    assert (ended["active"], ended["free_shipping"], ended["free_shipping_code"]) == (False, False, None)
    assert "membership_end" in _history_kinds(shop, "member@shop.example")


def test_achievements_once_each_with_their_mail(deps, client):
    shop = _shop(client, achievements=[{"kind": "orders", "threshold": 1, "points": 10},
                                       {"kind": "orders", "threshold": 2, "points": 20},
                                       {"kind": "tier", "tier": "Silver", "points": 50}])
    queue = os.environ["LOYALTY_SEND_QUEUE"]
    _order(shop, "x-1", "ach@shop.example", lines=[{"sku": "GRINDER", "unit_price": "100.00"}])
    _order(shop, "x-1", "ach@shop.example", lines=[{"sku": "GRINDER", "unit_price": "100.00"}])  # a redelivery
    _order(shop, "x-2", "ach@shop.example", lines=[{"sku": "GRINDER", "unit_price": "2500.00"}])
    view = shop.customer("ach@shop.example")[1]
    assert view["achievements"] == ["orders:1", "orders:2", "tier:Silver"]
    messages = [m for m in drain_queue(queue) if m["template"] == "achievement"]
    assert sorted((m["data"]["achievement"], m["data"]["points"]) for m in messages) == \
        [("orders", 10), ("orders", 20), ("tier", 50)]
    for message in messages:
        _sends(deps, message)
    # earn rate 0.05: 5 + 125 points for the orders, 80 for the achievements, 25 sign-up bonus
    assert view["points_balance"] == 5 + 125 + 80 + 25


def test_program_settings_errors_name_the_field(deps, client):
    document = {"name": "x", "platform": "generic", "webhook_secret": "whsec-test-0123456789abcdef",
                "currency": "UAH", "sender_email": "a@shop.example", "storefront_url": "https://shop.example",
                "program": {"referral": {"reward_points": 10, "reward_money": "5"}}}
    response = client.http.put("/admin/shops/bad-program", headers=ADMIN, body=json.dumps(document).encode())
    assert response.status_code == 400 and "program.referral" in json.loads(response.body)["field"]
    document["program"] = {"achievements": [{"kind": "tier", "tier": "Platinum", "points": 5}]}
    response = client.http.put("/admin/shops/bad-program", headers=ADMIN, body=json.dumps(document).encode())
    assert response.status_code == 400 and "program" in json.loads(response.body)["field"]
    deps.caches.shops.clear()


def test_two_withdrawals_at_once_cannot_overdraw_the_wallet(deps, client):
    from chalicelib.errors import Conflict
    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.services.loyalty import wallet
    from tests.support.webhooks import run_together

    shop = _shop(client)
    _order(shop, "t-1", "twice@shop.example", lines=[{"sku": "GRINDER", "unit_price": "1000.00"}])  # 20.00 cashback
    loaded = load_shop(deps, shop.shop_id)

    def withdraw():
        try:
            return ("ok", wallet.request_withdrawal(deps, loaded, "twice@shop.example", {"amount": "15.00"}))
        except Conflict as refusal:
            return ("refused", refusal.message)

    outcomes = run_together([withdraw, withdraw])
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
    assert shop.customer("twice@shop.example")[1]["cashback_balance"] == "5.00"
