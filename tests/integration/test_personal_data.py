"""Personal data end to end, with the platforms' own GDPR payloads: after customers/redact no
route returns the customer, the listed orders are gone from every record, a later order from
the same address starts a fresh, usable account; customers/data_request is recorded and its
export served; the admin export holds everything stored; shop/redact erases a shop in batches
without a Scan; an order whose e-mail is not an address is refused naming the field."""
from __future__ import annotations

import json
import os
import re
from urllib.parse import urlsplit

import boto3
import pytest

from devstack.samples import sample_order_payload
from devstack.sent_mail import sent_mail
from tests.support.shops import ADMIN, register_shop, shop_document
from tests.support.queues import drain_queue

EMAIL = "Iryna.Shevchenko@example.com"
STORED_EMAIL = EMAIL.lower()
SHOPIFY_CUSTOMER_ID = 7012345678901
_LINK = re.compile(r'href="(https?://[^"]+/r/[^"]+)"')


def body(response) -> dict:
    return json.loads(response.body)


def table_items() -> list[dict]:
    """Every item of the test's table, as stored (the test looks; the service never scans)."""
    client, items = boto3.client("dynamodb"), []
    for page in client.get_paginator("scan").paginate(TableName=os.environ["LOYALTY_TABLE"]):
        items += page["Items"]
    return items


def mentions(needle: str) -> list[dict]:
    return [item for item in table_items() if needle.lower() in json.dumps(item, ensure_ascii=False).lower()]


def redact_payload(*orders, email=EMAIL, customer_id=SHOPIFY_CUSTOMER_ID) -> dict:
    """Shopify's customers/redact body."""
    return {"shop_id": 61234567890, "shop_domain": "demo-shop.myshopify.com",
            "customer": {"id": customer_id, "email": email, "phone": "+380671112233"},
            "orders_to_redact": [int(o) for o in orders]}


def customer_payload(order_id: str, email: str = EMAIL) -> dict:
    payload = sample_order_payload("shopify", order_id=order_id, email=email, first_name="Iryna",
                                   last_name="Shevchenko")
    payload["customer"]["id"] = SHOPIFY_CUSTOMER_ID
    return payload


def mail_everything(deps, moto_endpoint) -> list:
    """Send what the outbox holds through the send queue's handler; the mails SES accepted."""
    from chalicelib.services.mail import send_consumer

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    before = len(sent_mail(moto_endpoint))
    for message in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]):
        send_consumer.deliver(deps, json.dumps(message))
    return sent_mail(moto_endpoint)[before:]


@pytest.fixture
def history(deps, shopify_shop, moto_endpoint):
    """A customer with two paid orders, their post-purchase mails sent and a link in one
    clicked, a redemption code, an unsubscribe: records in every corner of the table."""
    shop = shopify_shop
    for order_id in ("5678901234567", "5678901234599"):
        response = shop.deliver(customer_payload(order_id), topic="orders/paid")
        assert body(response)["result"] == "applied", response.body
    mails = mail_everything(deps, moto_endpoint)
    assert len(mails) == 4  # each order's post-purchase mail, and the tier mails: Silver, then Gold
    links = _LINK.findall(mails[0].part("text/html"))
    assert links, "the post-purchase mail has tracked links"
    assert shop.client.http.get(urlsplit(links[0]).path).status_code == 302
    assert shop.redeem(EMAIL, 100)[0] == 201
    from chalicelib.services.shops.lookup import load_shop

    token = deps.tokens.make_token(shop.shop_id, load_shop(deps, shop.shop_id).customer_id_for(EMAIL))
    unsubscribed = shop.client.http.post(f"/u/{token}", headers={"Content-Type": "application/x-www-form-urlencoded"},
                                         body=b"action=unsubscribe")
    assert unsubscribed.status_code == 200
    return shop


def export(client, shop_id: str, email: str, headers=ADMIN):
    response = client.http.get(f"/admin/shops/{shop_id}/customers/{email}/export", headers=headers)
    return response.status_code, body(response)


# -- export ----------------------------------------------------------------------------------
def test_admin_export_holds_everything_stored_about_the_customer(client, history):
    status, data = export(client, history.shop_id, "iryna.shevchenko%40example.com")
    assert status == 200, data
    assert data["profile"]["email"] == STORED_EMAIL and data["profile"]["first_name"] == "Iryna"
    assert data["customer_id"] and data["format"] == "loyalty-mail.customer-export.v1"
    assert {entry["entry_kind"] for entry in data["ledger"]} >= {"earn", "cashback", "redeem"}
    assert sum(entry["points"] for entry in data["ledger"]) == data["profile"]["points_balance"]
    assert sorted(order["id"] for order in data["orders"]) == ["5678901234567", "5678901234599"]
    assert [code["code_kind"] for code in data["codes"] if code["id"].startswith("PTS-")] == ["redemption"]
    customer = data["customer_id"]
    assert sorted(send["idempotency_key"] for send in data["sends"]) == [
        "post_purchase:5678901234567", "post_purchase:5678901234599",
        f"tier_upgrade:{customer}:Gold:5678901234599", f"tier_upgrade:{customer}:Silver:5678901234567"]
    assert all(send["status"] == "sent" for send in data["sends"])
    assert len(data["clicks"]) == 1 and data["clicks"][0]["clicks"] == 1 and data["last_click"]
    assert data["consent"]["marketing_consent"] is True and data["consent"]["unsubscribed"] is True
    assert data["consent"]["unsubscribed_at"] and data["consent"]["unsubscribe_source"]
    assert data["lots"] and data["platform_ids"][0]["id"] == str(SHOPIFY_CUSTOMER_ID)
    json.dumps(data)  # plain JSON all through


def test_export_of_nobody_and_of_another_shop_is_404(client, history):
    assert export(client, history.shop_id, "nobody%40example.com")[0] == 404
    other = register_shop(client, "other-shop", "shopify", sender_email="loyalty@other-shop.example")
    assert export(client, other.shop_id, EMAIL)[0] == 404
    assert client.http.get(f"/admin/shops/{history.shop_id}/customers/{EMAIL}/export").status_code == 401


# -- customers/redact -----------------------------------------------------------------------
def test_customer_redact_leaves_nothing_and_no_route_returns_the_customer(deps, client, history):
    from chalicelib.services.shops.lookup import load_shop

    shop = load_shop(deps, history.shop_id)
    customer_id = shop.customer_id_for(EMAIL)
    assert mentions("5678901234567") and mentions(customer_id) and mentions(STORED_EMAIL)

    response = history.deliver(redact_payload("5678901234567", "5678901234599"), topic="customers/redact")
    assert response.status_code == 200 and body(response)["result"] == "applied", response.body
    assert body(response)["orders_erased"] == ["5678901234567", "5678901234599"]

    assert history.customer(EMAIL)[0] == 404
    assert history.history(EMAIL)[0] == 404
    assert history.redeem(EMAIL, 10)[0] == 404
    assert client.http.get(f"/admin/shops/{history.shop_id}/customers/{EMAIL}", headers=ADMIN).status_code == 404
    assert client.http.get(f"/admin/shops/{history.shop_id}/customers/{EMAIL}/history",
                           headers=ADMIN).status_code == 404
    assert export(client, history.shop_id, EMAIL)[0] == 404

    for needle in ("5678901234567", "5678901234599", STORED_EMAIL, "Shevchenko", customer_id,
                   str(SHOPIFY_CUSTOMER_ID)):
        assert mentions(needle) == [], f"{needle} is still stored"
    kinds = {item["type"]["S"] for item in table_items()}
    assert "redacted_order" in kinds  # what stays of the orders: keyed hashes

    again = history.deliver(redact_payload("5678901234567", "5678901234599"), topic="customers/redact")
    assert body(again)["result"] == "duplicate"


def test_erased_orders_never_come_back_and_a_new_order_starts_a_fresh_account(client, history):
    history.deliver(redact_payload("5678901234567", "5678901234599"), topic="customers/redact")
    redelivered = history.deliver(customer_payload("5678901234567"), topic="orders/updated", event_id="retry-1")
    assert body(redelivered)["result"] == "ignored" and "erased" in body(redelivered)["reason"]
    from devstack.samples import sample_refund_payload

    refund = history.deliver(sample_refund_payload("shopify", refund_id="r-9", order_id="5678901234599"),
                             topic="refunds/create")
    assert body(refund)["result"] == "ignored"
    assert mentions("5678901234599") == [] and mentions("r-9") == []

    fresh = history.deliver(customer_payload("8000000000001"), topic="orders/paid")
    assert body(fresh)["result"] == "applied"
    status, view = history.customer(EMAIL)
    assert status == 200 and view["orders_count"] == 1 and view["points_balance"] == 189
    assert view["email"] == STORED_EMAIL and view["lifetime_spend"] == "3799.00"
    status, page = history.history(EMAIL)
    assert {entry["cause"] for entry in page["entries"]} == {"order:8000000000001"}
    assert history.redeem(EMAIL, 100)[0] == 201  # usable: it can redeem


def test_an_erasure_cut_short_is_finished_by_the_next_order(deps, client, shopify_shop):
    """The profile was flagged and emptied but the process died before the rest went: the next
    order for the address finishes the erasure, then starts afresh."""
    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.store.loyalty.repository import Change, LoyaltyRepository

    shopify_shop.deliver(customer_payload("111"), topic="orders/paid")
    shop = load_shop(deps, shopify_shop.shop_id)
    repo = LoyaltyRepository(shop.shop_id)
    account = repo.load_profile(shop.customer_id_for(EMAIL))
    account.forfeit_for_erasure(deps.clock())
    repo.commit(Change(account=account), deps.clock())
    assert shopify_shop.customer(EMAIL)[0] == 404 and shopify_shop.history(EMAIL)[0] == 404

    assert body(shopify_shop.deliver(customer_payload("222"), topic="orders/paid"))["result"] == "applied"
    status, view = shopify_shop.customer(EMAIL)
    assert status == 200 and view["orders_count"] == 1 and view["points_balance"] == 189
    assert {e["cause"] for e in shopify_shop.history(EMAIL)[1]["entries"]} == {"order:222"}


def test_redact_by_platform_id_after_the_address_changed(shopify_shop):
    shopify_shop.deliver(customer_payload("333"), topic="orders/paid")
    response = shopify_shop.deliver(redact_payload("333", email="new.address@example.com"), topic="customers/redact")
    assert body(response)["customers_erased"] == 1
    assert shopify_shop.customer(EMAIL)[0] == 404 and mentions(STORED_EMAIL) == []


def test_redact_of_an_unknown_customer_still_erases_the_listed_orders(shopify_shop):
    shopify_shop.deliver(customer_payload("5809234567311", email="someone@example.com"), topic="orders/paid")
    response = shopify_shop.deliver(redact_payload("5809234567311", email="never.seen@example.com", customer_id=1),
                                    topic="customers/redact")
    assert body(response)["result"] == "applied" and body(response)["orders_erased"] == ["5809234567311"]
    assert {item["type"]["S"] for item in mentions("5809234567311")} <= {"ledger", "lot"}  # record and mail gone
    status, view = shopify_shop.customer("someone@example.com")
    assert status == 200  # the account the order credited is someone else's and stays


def test_generic_customer_redact_and_a_fresh_account_after(generic_shop):
    from devstack.samples import sample_order_payload as order

    generic_shop.deliver(order("generic", order_id="g-1", email="ann+shop@bücher.example"))
    assert generic_shop.customer("ann%2Bshop%40xn--bcher-kva.example")[0] == 200
    redact = {"event_id": "redact-1", "type": "customer_redact", "occurred_at": "2026-05-22T09:00:00Z",
              "customer": {"email": "ann+shop@bücher.example"}}
    assert body(generic_shop.deliver(redact))["result"] == "applied"
    assert generic_shop.customer("ann+shop@bücher.example")[0] == 404
    assert mentions("g-1") == [] and mentions("ann+shop") == []
    generic_shop.deliver(order("generic", order_id="g-2", email="ann+shop@bücher.example"))
    status, view = generic_shop.customer("ann+shop@bücher.example")
    assert status == 200 and view["orders_count"] == 1


# -- customers/data_request -----------------------------------------------------------------
def test_data_request_is_recorded_and_its_export_served(client, history):
    payload = {"shop_id": 61234567890, "shop_domain": "demo-shop.myshopify.com",
               "orders_requested": [5678901234567, 5678901234599],
               "customer": {"id": SHOPIFY_CUSTOMER_ID, "email": EMAIL, "phone": "+380671112233"},
               "data_request": {"id": 9999}}
    response = history.deliver(payload, topic="customers/data_request")
    assert response.status_code == 200 and body(response)["result"] == "applied", response.body
    path = body(response)["export_path"]
    assert body(history.deliver(payload, topic="customers/data_request", event_id="another-delivery"))["result"] \
        == "duplicate"

    listed = body(client.http.get(f"/admin/shops/{history.shop_id}/data-requests", headers=ADMIN))
    assert [(r["data_request_id"], r["email"]) for r in listed["data_requests"]] == [("9999", STORED_EMAIL)]
    answer = client.http.get(path, headers=ADMIN)
    assert answer.status_code == 200
    request = body(answer)
    assert request["data_stored"] is True and request["orders_requested"] == ["5678901234567", "5678901234599"]
    (data,) = request["exports"]
    assert data["profile"]["email"] == STORED_EMAIL and len(data["orders"]) == 2 and len(data["sends"]) == 4
    assert client.http.get(f"/admin/shops/{history.shop_id}/data-requests/nope", headers=ADMIN).status_code == 404

    history.deliver(redact_payload("5678901234567", "5678901234599"), topic="customers/redact")
    listed = body(client.http.get(f"/admin/shops/{history.shop_id}/data-requests", headers=ADMIN))
    assert listed["data_requests"] == [] and mentions(STORED_EMAIL) == []


def test_data_request_for_someone_with_no_data(client, shopify_shop):
    payload = {"shop_id": 1, "shop_domain": "demo-shop.myshopify.com", "orders_requested": [],
               "customer": {"id": 5, "email": "stranger@example.com", "phone": None}, "data_request": {"id": 77}}
    assert body(shopify_shop.deliver(payload, topic="customers/data_request"))["result"] == "applied"
    request = body(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/data-requests/77", headers=ADMIN))
    assert request["data_stored"] is False and request["exports"] == []
    bad = shopify_shop.deliver({"customer": {"id": 5}}, topic="customers/data_request")
    assert bad.status_code == 400 and body(bad)["field"] == "data_request"


# -- shop/redact ----------------------------------------------------------------------------
def test_shop_redact_erases_the_shop_in_batches_without_a_scan(deps, client, history, monkeypatch):
    from pynamodb.connection.base import Connection

    from chalicelib.services.privacy import privacy

    other = register_shop(client, "other-shop", "shopify", sender_email="loyalty@other-shop.example")
    other.deliver(customer_payload("9001"), topic="orders/paid")
    for n in range(12):
        history.deliver(customer_payload(f"77{n}", email=f"c{n}@example.com"), topic="orders/paid")

    def no_scan(*args, **kwargs):
        raise AssertionError("a Scan reads every shop's items")

    with monkeypatch.context() as patched:
        patched.setattr(Connection, "scan", no_scan)
        patched.setattr(privacy, "PAGE", 5)
        patched.setattr(privacy, "INLINE_SECONDS", 0.0)  # nothing inline: the schedule does it all
        response = history.deliver({"shop_id": 61234567890, "shop_domain": "demo-shop.myshopify.com"},
                                   topic="shop/redact")
        assert response.status_code == 200 and body(response)["result"] == "applied", response.body
        assert history.customer(EMAIL)[0] == 404  # the shop answers as gone at once
        assert client.http.get(f"/admin/shops/{history.shop_id}", headers=ADMIN).status_code == 404
        runs = 0
        while privacy.run_shop_erasures(deps, seconds=0.3)["shops"].get(history.shop_id) != "done":
            runs += 1
            assert runs < 100, "the erasure did not finish"

    left = [item for item in table_items() if f"#{history.shop_id}" in item["pk"]["S"]
            or item["pk"]["S"].endswith(history.shop_id) or item["sk"]["S"] == history.shop_id]
    assert {item["type"]["S"] for item in left} <= {"event", "shop_erasure"}, left
    assert mentions(STORED_EMAIL) == [other_item for other_item in mentions(STORED_EMAIL)
                                      if "other-shop" in other_item["pk"]["S"]]
    assert other.customer(EMAIL)[0] == 200  # another shop's customer with the same address is untouched
    status = body(client.http.get(f"/admin/shops/{history.shop_id}/erasure", headers=ADMIN))
    assert status["status"] == "done" and status["items_deleted"] > 40
    # its sending domain is free again: a new shop (another owner) may claim it
    sender_domain = shop_document("shopify")["sender_email"].partition("@")[2]
    newcomer = register_shop(client, "newcomer", "shopify", sender_email=f"hello@{sender_domain}")
    assert newcomer.shop_id == "newcomer"
    again = register_shop(client, history.shop_id, "shopify", sender_email="loyalty@again.example")
    assert again.customer(EMAIL)[0] == 404  # the id can be used again, from nothing


def test_admin_can_erase_a_shop_and_a_workspace_key_cannot(deps, client, shopify_shop):
    shopify_shop.deliver(customer_payload("1"), topic="orders/paid")
    key = body(client.http.post(f"/admin/shops/{shopify_shop.shop_id}/admin-keys", headers=ADMIN,
                                body=json.dumps({"label": "marketing"}).encode()))["admin_key"]
    signed_in = client.http.post("/admin/session", headers={"Content-Type": "application/json"},
                                 body=json.dumps({"key": key}).encode())
    session = {"Cookie": {k.lower(): v for k, v in signed_in.headers.items()}["set-cookie"].split(";")[0],
               "X-CSRF-Token": body(signed_in)["csrf_token"]}
    assert client.http.delete(f"/admin/shops/{shopify_shop.shop_id}", headers=session).status_code == 403
    assert client.http.delete(f"/admin/shops/{shopify_shop.shop_id}",
                              headers={"X-Api-Key": shopify_shop.api_key}).status_code == 401
    assert shopify_shop.customer(EMAIL)[0] == 200
    response = client.http.delete(f"/admin/shops/{shopify_shop.shop_id}", headers=ADMIN)
    assert response.status_code in (200, 202) and body(response)["shop_id"] == shopify_shop.shop_id
    from chalicelib.services.privacy import privacy

    privacy.run_shop_erasures(deps, seconds=30)
    assert client.http.get(f"/admin/shops/{shopify_shop.shop_id}/erasure", headers=ADMIN).status_code == 200
    assert mentions(STORED_EMAIL) == []
    assert client.http.delete("/admin/shops/no-such-shop", headers=ADMIN).status_code == 404


# -- orders must name an address --------------------------------------------------------------
@pytest.mark.parametrize("platform, field, place", [
    ("shopify", "email", lambda p, v: p.update(email=v)),
    ("woocommerce", "billing.email", lambda p, v: p["billing"].update(email=v)),
    ("generic", "order.customer.email", lambda p, v: p["order"]["customer"].update(email=v)),
])
@pytest.mark.parametrize("bad", ["not-an-address", "two@@example.com", "a b@example.com", "bob@localhost",
                                 "bob@[127.0.0.1]", "bob@example..com"])
def test_an_order_whose_email_is_not_an_address_is_refused_naming_the_field(client, platform, field, place, bad):
    shop = register_shop(client, f"bad-{platform}", platform)
    payload = sample_order_payload(platform, order_id="b-1", email="placeholder@example.com")
    place(payload, bad)
    response = shop.deliver(payload)
    assert response.status_code == 400, response.body
    assert body(response)["field"] == field and body(response)["message"].startswith(field)
    assert bad not in response.body.decode()  # the value is personal data: never echoed
    assert mentions("b-1") == []


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "generic"])
@pytest.mark.parametrize("good", ["bob+shop@example.com", "kunde@bücher.example", "kunde@xn--bcher-kva.example",
                                  "юлія@приклад.укр", "O'Brien@Example.IE"])
def test_real_world_addresses_are_accepted(client, platform, good):
    shop = register_shop(client, f"good-{platform}", platform)
    response = shop.deliver(sample_order_payload(platform, order_id="g-1", email=good))
    assert response.status_code == 200 and body(response)["result"] == "applied", response.body
    assert shop.customer(good)[0] == 200
