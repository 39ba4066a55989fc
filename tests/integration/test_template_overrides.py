"""A shop overrides an e-mail: validated with its line before saving, then used for its customers only."""
from __future__ import annotations

import json
import os

import boto3

from devstack.samples import DEFAULT_EMAIL, sample_order_payload
from devstack.sent_mail import sent_mail
from tests.support.shops import ADMIN, register_shop
from tests.support.webhooks import deliver_shopify
from tests.support.queues import drain_queue
from tests.support.send_handler import run_send_handler

CUSTOM = """<mj-section><mj-column>
  <mj-text>Custom thanks {{ customer.first_name }}: +{{ points(points_earned) }} for {{ order.name }}</mj-text>
</mj-column></mj-section>"""


def _put(client, shop_id, body):
    response = client.http.put(f"/admin/shops/{shop_id}/templates/post_purchase", headers=ADMIN,
                               body=json.dumps(body).encode())
    return response.status_code, json.loads(response.body)


def test_broken_template_is_refused_with_its_line(client, shopify_shop):
    status, error = _put(client, shopify_shop.shop_id,
                         {"mjml": "<mj-section><mj-column>\n<mj-text>{{ no_such_value }}</mj-text>\n"
                                  "</mj-column></mj-section>", "version": 0})
    assert status == 400 and error["field"] == "mjml"
    assert "no_such_value" in error["message"] and error["line"] == 2
    status, error = _put(client, shopify_shop.shop_id, {"mjml": "<mj-section>{% if %}</mj-section>"})
    assert status == 400
    listed = json.loads(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/templates", headers=ADMIN).body)
    assert not any(t["overridden"] for t in listed["templates"])


def test_override_is_used_for_that_shop_and_versions_guard_concurrent_edits(deps, client, shopify_shop, moto_endpoint):
    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    assert _put(client, shopify_shop.shop_id, {"mjml": CUSTOM, "version": 0}) == (
        200, {"template": "post_purchase", "overridden": True, "version": 1})
    assert _put(client, shopify_shop.shop_id, {"mjml": CUSTOM, "version": 0})[0] == 409  # stale edit
    shown = json.loads(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase",
                                       headers=ADMIN).body)
    assert shown["mjml"] == CUSTOM and shown["version"] == 1

    other = register_shop(client, "other-shop", "shopify", sender_email="loyalty@other-shop.example")
    already = len(sent_mail(moto_endpoint))
    for shop in (shopify_shop, other):
        deliver_shopify(deps, shop.shop_id, shop.secret, sample_order_payload("shopify", order_id="1", email=DEFAULT_EMAIL),
                 "orders/paid")
    run_send_handler(drain_queue(os.environ["LOYALTY_SEND_QUEUE"]))
    bodies = {mail.part("text/html").count("Custom thanks") for mail in sent_mail(moto_endpoint)[already:]}
    assert bodies == {0, 1}  # the override in one shop's mail, the default in the other's

    reset = client.http.delete(f"/admin/shops/{shopify_shop.shop_id}/templates/post_purchase", headers=ADMIN)
    assert json.loads(reset.body)["overridden"] is False


def test_unknown_template_is_404(client, shopify_shop):
    response = client.http.get(f"/admin/shops/{shopify_shop.shop_id}/templates/nope", headers=ADMIN)
    assert response.status_code == 404 and json.loads(response.body)["field"] == "template"
