"""Multi-step flows on the in-memory store with a clock the test moves: defined as data through
the admin API, started by webhooks, stepped by the schedule exactly once, left by customers who
no longer meet the condition; abandoned checkouts reminded and recovered."""
from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from chalicelib.services.flows import runner, schedule
from chalicelib.services.mail import mailer
from devstack.samples import sample_order_payload
from tests.support.mail import RecordingMessenger
from tests.support.outbox import outbox_items
from tests.support.queues import drain_queue
from tests.support.shops import ADMIN, register_shop
from tests.support.webhooks import run_together

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
ANNA, BOHDAN = "anna.kravets+shop@example.com", "bohdan.lysenko@example.com"


@pytest.fixture
def shop(memory_client):
    return register_shop(memory_client, "flow-shop", "shopify")


def api(client, method: str, path: str, body=None):
    response = client.http.request(method, path, headers={**ADMIN, "Content-Type": "application/json"},
                                   body=json.dumps(body).encode() if body is not None else b"")
    return response.status_code, json.loads(response.body or b"null")


def enable(client, shop, flow_id: str) -> dict:
    status, flow = api(client, "GET", f"/admin/shops/{shop.shop_id}/flow-definitions/{flow_id}")
    assert status == 200 and flow["enabled"] is False and flow["version"] == 0  # shipped, switched off
    status, saved = api(client, "PUT", f"/admin/shops/{shop.shop_id}/flow-definitions/{flow_id}",
                        {**flow, "enabled": True})
    assert status == 200, saved
    return saved


def order(shop, clock, email: str, order_id: str, **extra) -> dict:
    payload = sample_order_payload("shopify", order_id=order_id, email=email, created_at=clock.now, locale="uk")
    payload.update(extra)
    response = shop.deliver(payload, topic="orders/paid")
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def flow_mail() -> list[dict]:
    return [m for m in drain_queue(os.environ["LOYALTY_SEND_QUEUE"]) if m["template"] == "flow_message"]


def rendered_text(deps, message: dict) -> str:
    import email
    from email import policy

    boto3.client("sesv2").create_email_identity(EmailIdentity="shop.example")
    messenger = RecordingMessenger()
    result = mailer.send_message(deps, message, messenger=messenger)
    assert result["status"] == "sent", result
    parsed = email.message_from_bytes(messenger.sent[0]["raw"], policy=policy.default)
    return str(parsed["Subject"]) + "\n" + parsed.get_body(("plain",)).get_content()


def test_second_purchase_flow_over_simulated_days_and_the_customer_who_orders_again_leaves(
        memory_client, fake_deps, shop):
    clock = fake_deps.clock
    enable(memory_client, shop, "second-purchase")
    assert order(shop, clock, ANNA, "5001")["flows_started"] == ["second-purchase"]
    assert order(shop, clock, BOHDAN, "5002")["flows_started"] == ["second-purchase"]
    assert schedule.run_flows_now(fake_deps)["steps"] == 2  # both start waiting 14 days

    clock.advance(days=6)
    again = order(shop, clock, BOHDAN, "5003")
    assert "second-purchase" not in again.get("flows_started", [])  # a second order is not a first one
    assert schedule.run_flows_now(fake_deps)["steps"] == 0  # nothing due yet
    drain_queue(os.environ["LOYALTY_SEND_QUEUE"])

    clock.advance(days=8, minutes=1)
    report = schedule.run_flows_now(fake_deps)
    assert (report["sent"], report["exited"]) == (1, 1)
    assert schedule.run_flows_now(fake_deps)["steps"] == 0  # the schedule runs twice: nothing again
    (message,) = flow_mail()
    assert message["customer_id"] == shop_customer(fake_deps, shop, ANNA)
    assert message["data"]["code"].startswith("GIFT-") and message["data"]["discount_percent"] == "10"
    text = rendered_text(fake_deps, message)
    assert "Готові до наступної покупки?" in text and message["data"]["code"] in text

    _, flow = api(memory_client, "GET", f"/admin/shops/{shop.shop_id}/flow-definitions/second-purchase")
    funnel = flow["funnel"]
    assert (funnel["started"], funnel["completed"]) == (2, 1)
    assert [(s["reached"], s["sent"], s["exited"]) for s in funnel["steps"]] == [(2, 0, 0), (2, 0, 1), (1, 1, 0)]


def shop_customer(deps, shop, email: str) -> str:
    from chalicelib.services.shops.lookup import load_shop

    return load_shop(deps, shop.shop_id).customer_id_for(email)


def test_a_step_is_taken_once_by_racing_workers_and_after_a_crash_before_publishing(
        memory_client, fake_deps, shop, monkeypatch):
    from chalicelib.services.shops.lookup import load_shop

    clock = fake_deps.clock
    enable(memory_client, shop, "second-purchase")
    order(shop, clock, ANNA, "6001")
    drain_queue(os.environ["LOYALTY_SEND_QUEUE"])
    loaded = load_shop(fake_deps, shop.shop_id)
    (run,) = fake_deps.repos.flows(shop.shop_id).due_runs(clock.now)
    runner.take_due_step(fake_deps, loaded, run.run_id, clock.now)  # the wait
    clock.advance(days=14, minutes=1)
    runner.take_due_step(fake_deps, loaded, run.run_id, clock.now)  # the condition holds

    # The worker dies after its commit and before publishing: the outbox keeps the e-mail.
    def die(deps, messages):
        raise KeyboardInterrupt("the Lambda was stopped")

    with monkeypatch.context() as patched:
        patched.setattr(runner.outbox, "publish", die)
        with pytest.raises(KeyboardInterrupt):
            runner.take_due_step(fake_deps, loaded, run.run_id, clock.now)
    assert [i.message["idempotency_key"] for i in outbox_items(shop.shop_id)
            if i.message["template"] == "flow_message"] == [f"flow:{run.run_id}:2"]
    # The retried schedule and three racing workers find the step claimed.
    taken = run_together([lambda: runner.take_due_step(fake_deps, loaded, run.run_id, clock.now)] * 3)
    assert taken == [None, None, None]
    assert flow_mail() == []  # nothing published twice; the sweeper republishes the one outbox item
    assert [s["step"] for s in fake_deps.repos.flows(shop.shop_id).steps_taken(run.run_id)] == [0, 1, 2]


def test_racing_workers_on_a_due_step_take_it_once(memory_client, fake_deps, shop):
    from chalicelib.services.shops.lookup import load_shop

    clock = fake_deps.clock
    enable(memory_client, shop, "second-purchase")
    order(shop, clock, ANNA, "6101")
    loaded = load_shop(fake_deps, shop.shop_id)
    (run,) = fake_deps.repos.flows(shop.shop_id).due_runs(clock.now)
    taken = run_together([lambda: runner.take_due_step(fake_deps, loaded, run.run_id, clock.now)] * 4)
    assert sum(step is not None for step in taken) == 1


def checkout(shop, **changes):
    payload = json.loads((FIXTURES / "shopify_checkouts_create.json").read_text(encoding="utf-8"))
    payload.update(changes)
    return payload


def test_abandoned_checkout_reminds_after_an_hour_and_stops_when_the_checkout_becomes_an_order(
        memory_client, fake_deps, shop):
    clock = fake_deps.clock
    enable(memory_client, shop, "abandoned-checkout")
    created = json.loads(shop.deliver(checkout(shop), topic="checkouts/create").body)
    assert created["flows_started"] == ["abandoned-checkout"]
    updated = json.loads(shop.deliver(checkout(shop, updated_at="2031-03-14T11:09:00+02:00"),
                                      topic="checkouts/update").body)
    assert updated["flows_started"] == []  # one run per checkout token
    schedule.run_flows_now(fake_deps)
    clock.advance(minutes=59)
    assert schedule.run_flows_now(fake_deps)["sent"] == 0
    clock.advance(minutes=2)
    assert schedule.run_flows_now(fake_deps)["sent"] == 1
    (reminder,) = flow_mail()
    assert reminder["data"]["url"].startswith("https://demo-shop.myshopify.com/71234560111/checkouts/ac/")
    text = rendered_text(fake_deps, reminder)
    assert "Ви залишили товари в кошику" in text and "Навушники JBL Tune 520BT, сині" in text
    assert reminder["data"]["url"] in text

    clock.advance(hours=3)
    recovered = order(shop, clock, "mariia.shevchenko@example.com", "7001",
                      checkout_token="9f2b1c7e4d0a8b3f6e5d4c3b2a190817")
    assert recovered["result"] == "applied"
    clock.advance(hours=21)
    report = schedule.run_flows_now(fake_deps)
    assert (report["sent"], report["exited"]) == (0, 1)
    assert flow_mail() == []


def test_checkout_without_consent_is_kept_but_its_reminder_is_not_sent(memory_client, fake_deps, shop):
    clock = fake_deps.clock
    enable(memory_client, shop, "abandoned-checkout")
    payload = checkout(shop, token="c0ffee", email="no.consent@example.com", buyer_accepts_marketing=False)
    payload["customer"] = {**payload["customer"], "email": "no.consent@example.com", "id": 1,
                           "email_marketing_consent": {"state": "not_subscribed"}}
    shop.deliver(payload, topic="checkouts/create")
    schedule.run_flows_now(fake_deps)
    clock.advance(hours=1, minutes=1)
    schedule.run_flows_now(fake_deps)
    (reminder,) = flow_mail()
    result = mailer.send_message(fake_deps, reminder, messenger=RecordingMessenger())
    assert result["status"] == "skipped"


@pytest.mark.parametrize("document, field", [
    ({"name": "x", "trigger": {"kind": "first_order"}, "steps": [{"type": "wait", "hours": 0}]}, "steps.0.wait"),
    ({"name": "x", "trigger": {"kind": "birthday"}, "steps": [{"type": "exit"}]}, "trigger.kind"),
    ({"name": "x", "trigger": {"kind": "first_order"}, "steps": [{"type": "exit"}]}, "body"),
    ({"name": "x", "trigger": {"kind": "paid_order"},
      "steps": [{"type": "send", "preset": "checkout_reminder", "link": "checkout"}]}, "body"),
])
def test_hostile_flow_documents_are_refused_with_the_field(memory_client, shop, document, field):
    status, answer = api(memory_client, "PUT", f"/admin/shops/{shop.shop_id}/flow-definitions/my-flow", document)
    assert status == 400, answer
    assert json.dumps(answer).find(field) >= 0


def test_a_stale_version_is_a_conflict(memory_client, shop):
    body = {"name": "Points thank-you", "trigger": {"kind": "points_earned", "min_points": 100},
            "steps": [{"type": "send", "copy": {"en": {"subject": "Thanks", "heading": "Thanks!",
                                                       "body": "You earned points.", "cta": "Shop"}}}]}
    assert api(memory_client, "PUT", f"/admin/shops/{shop.shop_id}/flow-definitions/thanks", body)[0] == 200
    status, _ = api(memory_client, "PUT", f"/admin/shops/{shop.shop_id}/flow-definitions/thanks", body)
    assert status == 409


def test_an_offer_worth_less_than_the_currencys_smallest_unit_is_refused(memory_client, shop):
    # 0.001 UAH rounds to a code worth 0.00, which the mail would still announce as a gift.
    body = {"name": "x", "trigger": {"kind": "first_order"}, "version": 0,
            "steps": [{"type": "send", "preset": "second_purchase", "link": "shop",
                       "offer": {"value": "0.001", "valid_days": 14}}]}
    status, answer = api(memory_client, "PUT", f"/admin/shops/{shop.shop_id}/flow-definitions/tiny", body)
    assert status == 400 and answer["field"] == "steps.0.send.offer.value", answer
    body["steps"][0]["offer"]["value"] = "0.01"
    assert api(memory_client, "PUT", f"/admin/shops/{shop.shop_id}/flow-definitions/tiny", body)[0] == 200
