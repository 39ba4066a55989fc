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
        200, {"template": "post_purchase", "overridden": True, "version": 1,
              "text_source": "generated from the HTML", "warnings": []})
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


WINBACK_BODY = """<mj-section><mj-column>
  <mj-text>We miss you, {{ customer.first_name }}. Come and see what is new.</mj-text>
  <mj-button href="{{ links.shop }}">Visit the shop</mj-button>
</mj-column></mj-section>"""


def _put_winback(client, shop_id, body):
    response = client.http.put(f"/admin/shops/{shop_id}/templates/winback", headers=ADMIN,
                               body=json.dumps(body).encode())
    return response.status_code, json.loads(response.body)


def _preview_winback(client, shop_id, body):
    response = client.http.post(f"/admin/shops/{shop_id}/templates/winback/preview", headers=ADMIN,
                                body=json.dumps(body).encode())
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def test_the_text_part_says_what_the_overridden_html_says(client, shopify_shop):
    # The default winback body shows the sample code COMEBACK15; the shop's new body offers none.
    default = _preview_winback(client, shopify_shop.shop_id, {"locale": "en"})
    assert "COMEBACK15" in default["text"]
    status, saved = _put_winback(client, shopify_shop.shop_id, {"mjml": WINBACK_BODY, "version": 0})
    assert status == 200 and saved["text_source"] == "generated from the HTML"
    shown = _preview_winback(client, shopify_shop.shop_id, {"locale": "en"})
    assert "COMEBACK15" not in shown["text"] and "COMEBACK15" not in shown["html"]
    assert "We miss you, Emily. Come and see what is new." in shown["text"]
    assert "Visit the shop: https://" in shown["text"]  # the button, as a link
    assert "Unsubscribe: https://" in shown["text"]  # the footer comes along


def test_an_override_can_give_its_own_subject_preheader_and_text_and_divergence_is_flagged(client, shopify_shop):
    parts = {"subject": "{{ customer.first_name }}, we kept your points",
             "preheader": "Come back for a look", "text": "Hello {{ customer.first_name }}, come back soon."}
    status, saved = _put_winback(client, shopify_shop.shop_id, {"mjml": WINBACK_BODY, "version": 0, **parts})
    assert status == 200 and saved["text_source"] == "own"
    # the text does not show the link the HTML shows: the workspace says so
    assert saved["warnings"] == ["the text part does not show {{ links.shop }}, which the HTML shows"]
    shown = json.loads(client.http.get(f"/admin/shops/{shopify_shop.shop_id}/templates/winback", headers=ADMIN).body)
    assert {name: shown[name] for name in parts} == parts and shown["warnings"] == saved["warnings"]
    rendered = _preview_winback(client, shopify_shop.shop_id, {"locale": "de"})
    assert rendered["subject"] == "Jonas, we kept your points" and rendered["preheader"] == "Come back for a look"
    assert rendered["text"].strip() == "Hello Jonas, come back soon."
    # a broken own text is refused naming its field
    status, error = _put_winback(client, shopify_shop.shop_id, {"mjml": WINBACK_BODY, "version": 1,
                                                                 "text": "{{ no_such_value }}"})
    assert status == 400 and error["field"] == "text", error


def test_an_own_subject_that_prints_a_huge_line_is_refused_naming_the_subject(client, shopify_shop):
    # 25 bytes of source, 100,000 characters in every mail's Subject header: a preview showed it
    # and a save stored it.
    huge = {"mjml": WINBACK_BODY, "subject": "{{ 'x' * 100000 }}"}
    response = client.http.post(f"/admin/shops/{shopify_shop.shop_id}/templates/winback/preview", headers=ADMIN,
                                 body=json.dumps(huge).encode())
    error = json.loads(response.body)
    assert response.status_code == 400 and error["field"] == "subject" and "998" in error["message"], error
    status, error = _put_winback(client, shopify_shop.shop_id, {**huge, "version": 0})
    assert status == 400 and error["field"] == "subject", error
    # at the limit it still goes through
    status, saved = _put_winback(client, shopify_shop.shop_id, {**huge, "subject": "{{ 'x' * 998 }}", "version": 0})
    assert status == 200, saved
    assert len(_preview_winback(client, shopify_shop.shop_id, {})["subject"]) == 998
