"""Products from the order history, through the webhook route and the admin API: the catalog from
product webhooks and order lines, the recommendations job, and the ``recommendations`` block of
the post-purchase, win-back and flow e-mails (never what was just bought unless consumable, never
out of stock, absent when nothing qualifies)."""
from __future__ import annotations

import email
import json
import os
from datetime import timedelta
from email import policy
from pathlib import Path

import boto3
import pytest

from chalicelib.services.lifecycle.occasions import run_occasions
from chalicelib.services.mail import mailer
from chalicelib.services.products.recommendations import compute_recommendations
from chalicelib.services.shops.lookup import load_shop
from devstack.samples import sample_order_payload
from tests.support.clock import T0
from tests.support.mail import RecordingMessenger
from tests.support.outbox import outbox_items
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN, register_shop

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
OLENA = "olena.koval+coffee@example.com"
# id, title, price, handle
BEANS = ("9101", "Кава Ефіопія Іргачеф, 250 г", "489.00", "ethiopia-yirgacheffe")
FILTERS = ("9102", "Фільтри Hario V60, 100 шт.", "289.00", "hario-v60-filters")
GRINDER = ("9103", "Кавомолка Comandante C40", "9900.00", "comandante-c40")
CUP = ("9104", "Керамічна чашка «Zerno», 300 мл", "450.00", "zerno-cup")
KETTLE = ("9105", "Чайник Fellow Stagg", "6490.00", "fellow-stagg")


@pytest.fixture
def shop(memory_client):
    return register_shop(memory_client, "zerno", "shopify", storefront_url="https://zerno.example")


def product_payload(product, *, quantity: int = 40, updated: timedelta = timedelta(0)) -> dict:
    payload = json.loads((FIXTURES / "shopify_products_update.json").read_text(encoding="utf-8"))
    product_id, title, price, handle = product
    payload.update(id=int(product_id), title=title, handle=handle, updated_at=(T0 - timedelta(days=1) + updated).isoformat(),
                   image={"src": f"https://cdn.shopify.com/s/files/1/zerno/{handle}.jpg"})
    for variant in payload["variants"]:
        variant.update(price=price, inventory_quantity=quantity, product_id=int(product_id))
    return payload


def order(shop, order_id: int, email: str, days_ago: int, *products, name: str = "Olena") -> dict:
    lines = [{"id": f"{order_id}{n}", "product_id": product[0], "sku": product[3], "title": product[1],
              "unit_price": product[2], "quantity": 1} for n, product in enumerate(products)]
    payload = sample_order_payload("shopify", order_id=str(order_id), email=email, lines=lines, first_name=name,
                                   created_at=T0 - timedelta(days=days_ago))
    response = shop.deliver(payload, topic="orders/paid")
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def history(shop) -> None:
    """Olena reorders beans every ~30 days; others show what goes together: filters with beans,
    a cup with beans, a kettle with beans (sold out)."""
    for product in (BEANS, FILTERS, GRINDER, CUP):
        assert json.loads(shop.deliver(product_payload(product), topic="products/update").body)["result"] == "applied"
    shop.deliver(product_payload(KETTLE, quantity=0), topic="products/update")
    order(shop, 5001, OLENA, 150, BEANS)
    order(shop, 5002, OLENA, 121, BEANS, FILTERS)
    order(shop, 5003, OLENA, 90, BEANS)
    for n, products in enumerate([(BEANS, FILTERS), (BEANS, CUP), (BEANS, CUP), (BEANS, KETTLE), (BEANS, KETTLE),
                                  (FILTERS, GRINDER)]):
        order(shop, 6000 + n, f"buyer{n}@example.com", 100 - n, *products, name="Andrii")
    drain_queue(os.environ["LOYALTY_SEND_QUEUE"])


def rendered(deps, message: dict) -> tuple[str, str]:
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    messenger = RecordingMessenger()
    assert mailer.send_message(deps, message, messenger=messenger)["status"] == "sent"
    (sent,) = messenger.sent
    parsed = email.message_from_bytes(sent["raw"], policy=policy.default)
    return parsed.get_body(("plain",)).get_content(), parsed.get_body(("html",)).get_content()


def test_a_winback_recommends_the_reorder_due_and_what_goes_with_it_never_the_sold_out(fake_deps, memory_client, shop):
    history(shop)
    ran = json.loads(memory_client.http.post(f"/admin/shops/{shop.shop_id}/recommendations/run", headers=ADMIN).body)
    assert (ran["purchases"], ran["customers"]) == (9, 7)
    mine = json.loads(memory_client.http.get(f"/admin/shops/{shop.shop_id}/customers/{OLENA.replace('+', '%2B')}"
                                             "/recommendations", headers=ADMIN).body)
    (beans,) = mine["reorders"]
    assert (beans["product_id"], beans["interval_days"], beans["own_rhythm"]) == (BEANS[0], 30.0, True)
    assert [p["product_id"] for p in mine["bought_with"]] == [CUP[0], KETTLE[0]]  # a tie; the kettle is sold out

    report = run_occasions(fake_deps, load_shop(fake_deps, shop.shop_id), T0)
    assert report.winbacks == 1
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    picks = message["data"]["recommendations"]
    assert [(p["product_id"], p["reason"]) for p in picks] == [(BEANS[0], "reorder"), (CUP[0], "bought_with")]
    assert picks[0]["url"] == "https://zerno.example/products/ethiopia-yirgacheffe" and picks[0]["price_minor"] == 48900
    text, html = rendered(fake_deps, message)
    assert "Дібрали для вас" in text and "Час поповнити запас" in text and "489,00" in text
    assert 'src="https://cdn.shopify.com/s/files/1/zerno/ethiopia-yirgacheffe.jpg"' in html
    assert KETTLE[1] not in html and "/products/zerno-cup" not in html  # product links are tracked (/r/...)


def test_a_post_purchase_pairs_with_the_new_order_never_the_product_just_bought(fake_deps, memory_client, shop):
    history(shop)
    compute_recommendations(fake_deps, load_shop(fake_deps, shop.shop_id), T0)
    order(shop, 7001, "new.buyer@example.com", 0, GRINDER, name="Taras")
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"], "post_purchase")
    # The grinder was bought with filters once only: not enough to pair; nothing else qualifies.
    assert message["template"] == "post_purchase" and "recommendations" not in message["data"]
    text, html = rendered(fake_deps, message)
    assert "Дібрали для вас" not in text and "Дібрали для вас" not in html  # absent, not an empty block

    order(shop, 7002, "another.buyer@example.com", 0, BEANS, name="Iryna")
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"], "post_purchase")
    picks = [p["product_id"] for p in message["data"]["recommendations"]]
    assert picks == [CUP[0], FILTERS[0]] and BEANS[0] not in picks  # beans just bought, kettle sold out


def test_a_post_purchase_sent_through_the_stream_gets_its_recommendations_on_the_way_to_the_queue(
        fake_deps, memory_client, shop):
    import dataclasses

    from chalicelib.mail import outbox
    from chalicelib.routes.mail import _prepared

    history(shop)
    compute_recommendations(fake_deps, load_shop(fake_deps, shop.shop_id), T0)
    fake_deps.config = dataclasses.replace(fake_deps.config, outbox_stream=True)  # as deployed
    order(shop, 7002, "another.buyer@example.com", 0, BEANS, name="Iryna")
    assert drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) == []  # the webhook published nothing itself
    (stored,) = [item for item in outbox_items(shop.shop_id) if item.message["data"].get("order_id") == "7002"]
    assert stored.message["data"]["recommend_with"] == [BEANS[0]]  # asked for, not looked up

    # the sweeper (as the stream handler) publishes it with the picks the webhook used to look up
    outbox.republish_lingering(fake_deps, fake_deps.clock() + timedelta(minutes=10), prepare=_prepared(fake_deps))
    (message,) = [m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) if m["data"].get("order_id") == "7002"]
    assert [p["product_id"] for p in message["data"]["recommendations"]] == [CUP[0], FILTERS[0]]
    assert "recommend_with" not in message["data"]


def test_a_consumable_just_bought_may_be_recommended_and_the_shop_can_say_so(fake_deps, memory_client, shop):
    history(shop)
    compute_recommendations(fake_deps, load_shop(fake_deps, shop.shop_id), T0)
    listed = json.loads(memory_client.http.get(f"/admin/shops/{shop.shop_id}/products?limit=2", headers=ADMIN).body)
    assert [p["product_id"] for p in listed["products"]] == [BEANS[0], FILTERS[0]] and listed["next"] == FILTERS[0]
    rest = json.loads(memory_client.http.get(f"/admin/shops/{shop.shop_id}/products?after={FILTERS[0]}",
                                             headers=ADMIN).body)
    assert [p["product_id"] for p in rest["products"]] == [GRINDER[0], CUP[0], KETTLE[0]] and rest["next"] is None
    beans = json.loads(memory_client.http.get(f"/admin/shops/{shop.shop_id}/products/{BEANS[0]}", headers=ADMIN).body)
    assert beans["consumable"] and beans["orders"]["repeat_buyers"] == 1 and beans["orders"]["orders"] == 8
    # The shop says the cup is consumable (gifts): bought with beans, both may come back (beans are
    # consumable by the history: customers reorder them); the grinder never would.
    response = memory_client.http.put(f"/admin/shops/{shop.shop_id}/products/{CUP[0]}", headers=ADMIN,
                                      body=json.dumps({"consumable": True}))
    assert response.status_code == 200 and json.loads(response.body)["consumable_set_by_shop"] is True
    order(shop, 7003, "cup.buyer@example.com", 0, CUP, BEANS, name="Iryna")
    (message,) = drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    assert [p["product_id"] for p in message["data"]["recommendations"]] == [BEANS[0], CUP[0], FILTERS[0]]
    bad = memory_client.http.put(f"/admin/shops/{shop.shop_id}/products/{CUP[0]}", headers=ADMIN,
                                 body=json.dumps({"consumable": "yes"}))
    assert bad.status_code == 400 and json.loads(bad.body)["field"] == "consumable"
    assert memory_client.http.get(f"/admin/shops/{shop.shop_id}/products/nope", headers=ADMIN).status_code == 404
    assert memory_client.http.get(f"/admin/shops/{shop.shop_id}/products?limit=0", headers=ADMIN).status_code == 400


def test_a_cancelled_order_is_taken_back_from_the_history(fake_deps, memory_client, shop):
    history(shop)
    payload = sample_order_payload("shopify", order_id="6003", email="buyer3@example.com", cancelled=True,
                                   lines=[{"id": "60030", "product_id": BEANS[0], "title": BEANS[1], "unit_price": BEANS[2]},
                                          {"id": "60031", "product_id": KETTLE[0], "title": KETTLE[1],
                                           "unit_price": KETTLE[2]}], created_at=T0 - timedelta(days=97))
    assert shop.deliver(payload, topic="orders/cancelled").status_code == 200
    report = compute_recommendations(fake_deps, load_shop(fake_deps, shop.shop_id), T0)
    assert report.purchases == 8
    kettle = json.loads(memory_client.http.get(f"/admin/shops/{shop.shop_id}/products/{KETTLE[0]}", headers=ADMIN).body)
    assert kettle["orders"]["orders"] == 1 and kettle["orders"]["bought_with"] == []


def test_product_webhooks_apply_once_and_never_go_back_in_time(memory_client, shop):
    first = shop.deliver(product_payload(BEANS, updated=timedelta(hours=2)), topic="products/update", event_id="ev-1")
    assert json.loads(first.body)["result"] == "applied"
    again = shop.deliver(product_payload(BEANS, updated=timedelta(hours=2)), topic="products/update", event_id="ev-1")
    assert json.loads(again.body)["result"] == "duplicate"
    older = shop.deliver(product_payload(BEANS, quantity=0), topic="products/update", event_id="ev-0")
    assert json.loads(older.body)["result"] == "ignored"
    got = json.loads(memory_client.http.get(f"/admin/shops/{shop.shop_id}/products/{BEANS[0]}", headers=ADMIN).body)
    assert got["available"] and got["source"] == "platform" and got["price_minor"] == 48900
    gone = shop.deliver({"id": int(BEANS[0])}, topic="products/delete")
    assert json.loads(gone.body)["deleted"] is True
    got = json.loads(memory_client.http.get(f"/admin/shops/{shop.shop_id}/products/{BEANS[0]}", headers=ADMIN).body)
    assert (got["available"], got["recommendable"], got["title"]) == (False, False, BEANS[1])


def test_the_second_purchase_flow_step_shows_what_goes_with_the_first_order(fake_deps, memory_client, shop):
    from chalicelib.services.flows.runner import run_due_flows

    history(shop)
    path = f"/admin/shops/{shop.shop_id}/flow-definitions/second-purchase"
    flow = json.loads(memory_client.http.get(path, headers=ADMIN).body)
    assert memory_client.http.put(path, headers=ADMIN, body=json.dumps({**flow, "enabled": True})).status_code == 200
    started = order(shop, 7101, "first.timer@example.com", 0, BEANS, name="Marta")  # starts the flow at T0
    assert started.get("flows_started") == ["second-purchase"], started
    drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    run_due_flows(fake_deps, [load_shop(fake_deps, shop.shop_id)], T0 + timedelta(minutes=5))  # the wait begins
    compute_recommendations(fake_deps, load_shop(fake_deps, shop.shop_id), T0 + timedelta(days=1))
    report = run_due_flows(fake_deps, [load_shop(fake_deps, shop.shop_id)], T0 + timedelta(days=14, hours=1))
    assert report["sent"] == 1, report
    (message,) = [m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) if m["template"] == "flow_message"]
    assert [p["product_id"] for p in message["data"]["recommendations"]] == [CUP[0], FILTERS[0]]
    text, _ = rendered(fake_deps, message)
    assert "Дібрали для вас" in text and CUP[1] in text


def test_a_customers_purchases_and_recommendations_are_exported_and_erased_with_them(fake_deps, memory_client, shop):
    from chalicelib.services.privacy.privacy import erase_customer

    history(shop)
    compute_recommendations(fake_deps, load_shop(fake_deps, shop.shop_id), T0)
    path = f"/admin/shops/{shop.shop_id}/customers/{OLENA.replace('+', '%2B')}/export"
    export = json.loads(memory_client.http.get(path, headers=ADMIN).body)
    assert sorted(p["id"] for p in export["purchases"]) == ["5001", "5002", "5003"]
    assert export["recommendations"]["state"]["reorders"][0]["product_id"] == BEANS[0]
    customer_id = load_shop(fake_deps, shop.shop_id).customer_id_for(OLENA)
    erase_customer(fake_deps, load_shop(fake_deps, shop.shop_id), customer_id, (), T0)
    store = fake_deps.repos.products(shop.shop_id)
    assert store.recommendations(customer_id) is None
    assert customer_id not in {purchase.customer_id for purchase, _ in store.purchases()}


def test_the_recommendations_of_an_e_mail_are_read_eventually_consistent_the_admins_product_strongly(
        fake_deps, memory_client, memory_store, shop, monkeypatch):
    """A suggestion read at half the units (docs/benchmarks.md, "Fewer capacity units"); a product the
    admin just changed and reads back is read strongly consistent."""
    from chalicelib.services.products.catalog import get_product
    from chalicelib.services.products.recommendations import recommendations_for

    history(shop)
    compute_recommendations(fake_deps, load_shop(fake_deps, shop.shop_id), T0)
    reads = []
    real_call = memory_store.dynamodb._make_api_call

    def recorded(operation, parameters):
        if operation == "BatchGetItem":
            reads.extend(spec.get("ConsistentRead", False) for spec in parameters["RequestItems"].values())
        return real_call(operation, parameters)

    monkeypatch.setattr(memory_store.dynamodb, "_make_api_call", recorded)
    olena = load_shop(fake_deps, shop.shop_id).customer_id_for(OLENA)
    picks = recommendations_for(fake_deps, load_shop(fake_deps, shop.shop_id), olena, T0 + timedelta(days=40))
    assert picks and reads and not any(reads)
    reads.clear()
    assert get_product(fake_deps, shop.shop_id, BEANS[0])["product_id"] == BEANS[0]
    assert reads == [True]
