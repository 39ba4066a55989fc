"""The referral and membership scenario, against a running local stack (`make run`).

    make run PORT=8200 EMULATOR_PORT=5200            # in one terminal
    PORT=8200 EMULATOR_PORT=5200 .venv/bin/python -m bench.referral_scenario

A refers B; B's first order (Shopify, A's code applied, arrived through A's share link)
gets the friend's discount; the daily jobs run as if 10 and then 15 days had passed
(the return window is 14): A is rewarded only after the window, once, and gets the
``referral_reward`` e-mail. Then a member buys the membership and orders: free
shipping and the extra cashback. Everything goes through the HTTP API and the CLI.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

from devstack.cli import http_request, local_api_url
from devstack.samples import sample_order_payload, signed_request

SHOP = f"referral-demo-{uuid.uuid4().hex[:6]}"
SECRET = "whsec-referral-demo-0123456789"
ADMIN = {"Authorization": f"Bearer {os.environ.get('LOYALTY_ADMIN_TOKEN', 'local-admin-token')}",
         "Content-Type": "application/json"}
PROGRAM = {
    "cashback_percent": "2",
    "referral": {"friend_discount_percent": "10", "reward_points": 200, "return_window_days": 14, "monthly_cap": 5},
    "membership": {"sku": "CLUB-MONTH", "period": "monthly", "extra_cashback_percent": "3", "reminder_days": 7},
}


def say(text: str = "") -> None:
    print(text, flush=True)


def api(method: str, path: str, body=None, headers=None):
    raw = json.dumps(body).encode() if body is not None else None
    status, answer = http_request(method, local_api_url() + path, raw, headers)
    return status, answer


def order(order_id: str, email: str, first_name: str, lines: list[dict], *, codes=(), landing=None, address=None):
    payload = sample_order_payload("shopify", order_id=order_id, email=email, first_name=first_name,
                                   discount_codes=codes, lines=lines)
    if landing:
        payload["landing_site"] = landing
    if address:
        payload["shipping_address"] = address
    headers, body = signed_request("shopify", SECRET, payload, topic="orders/paid")
    status, answer = http_request("POST", f"{local_api_url()}/webhooks/shopify/{SHOP}", body, headers)
    return status, answer


def cli(*args: str):
    command = [sys.executable, "-m", "devstack.cli", *args, "--json"]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    status, _ = api("PUT", f"/admin/shops/{SHOP}", {
        "name": "Referral demo", "platform": "shopify", "webhook_secret": SECRET, "currency": "UAH",
        "default_locale": "uk", "timezone": "Europe/Kyiv", "sender_email": "loyalty@demo-shop.example",
        "storefront_url": "https://demo-shop.myshopify.com", "program": PROGRAM}, ADMIN)
    key = api("POST", f"/admin/shops/{SHOP}/api-keys", None, ADMIN)[1]["api_key"]
    store = {"X-Api-Key": key}
    say(f"Shop {SHOP} (status {status}): referral 10 % for the friend, 200 points for the referrer after 14 days; "
        "membership CLUB-MONTH: free shipping + 3 % extra cashback")

    say("\n1. A (anna.koval@gmail.com) buys, and gets her referral code and share link")
    print_answer(*order("7001", "anna.koval@gmail.com", "Anna", [{"sku": "GRINDER", "unit_price": "2400.00"}],
                        address={"address1": "Khreshchatyk 22", "city": "Kyiv", "zip": "01001", "country_code": "UA"}))
    anna = api("GET", f"/shops/{SHOP}/customers/anna.koval@gmail.com", None, store)[1]
    code, link = anna["referral"]["code"], anna["referral"]["share_url"]
    say(f"   A's code {code}, share link {link}; A has {anna['points_balance']} points")
    check = api("GET", f"/shops/{SHOP}/codes/{code}?order_total=1500.00", None, store)[1]
    say(f"   checkout asks about {code}: kind={check['kind']} first_order_only={check['first_order_only']} "
        f"discount={check['discount_percent']} % valid={check['valid']}")

    say("\n2. B (bohdan@example.com) arrives through the link; first order with the 10 % code applied")
    status, answer = order("7002", "bohdan@example.com", "Bohdan",
                           [{"sku": "KETTLE", "unit_price": "1500.00", "discount": "150.00"}], codes=[code],
                           landing=f"/?ref={code}",
                           address={"address1": "Sadova 3", "city": "Lviv", "zip": "79000", "country_code": "UA"})
    print_answer(status, answer)

    say("\n3. Fraud checks: A's own mailbox spelled differently, and an order to A's door")
    print_answer(*order("7003", "AnnaKoval+deals@googlemail.com", "Anna", [{"sku": "BEANS", "unit_price": "300.00"}],
                        codes=[code]))
    print_answer(*order("7004", "dmytro@example.com", "Dmytro", [{"sku": "BEANS", "unit_price": "300.00"}],
                        codes=[code], address={"address1": " khreshchatyk  22", "city": "KYIV", "zip": "01001",
                                               "country_code": "ua"}))

    now = datetime.now(timezone.utc)
    for days in (10, 15, 16):
        at = (now + timedelta(days=days)).isoformat()
        report = cli("jobs", "run", "daily", "--now", at, "--shop", SHOP)["shops"][SHOP]["referral_rewards"]
        balance = api("GET", f"/shops/{SHOP}/customers/anna.koval@gmail.com", None, store)[1]["points_balance"]
        say(f"\n4. jobs run daily --now +{days} days: referral_rewards {report}; A has {balance} points")

    history = api("GET", f"/shops/{SHOP}/customers/anna.koval@gmail.com/history?limit=3", None, store)[1]
    say("   A's newest ledger entries: " + "; ".join(
        f"{e['kind']} {e['points']:+d} points" + (f", {e['cashback']} UAH" if e["kind"] == "cashback" else "")
        + f" ({e['cause']})" for e in history["entries"]))

    say("\n5. The referral_reward e-mail (sent by the stack's queue worker through the local SES)")
    for _ in range(30):
        sent = [m for m in cli("outbox")["messages"] if "anna.koval@gmail.com" in m["to"]]
        if any("рекомендац" in m["subject"].lower() or "referral" in m["subject"].lower() for m in sent):
            break
        time.sleep(1)
    for message in sent:
        say(f"   to {', '.join(message['to'])}: {message['subject']}")

    say("\n6. M buys a month of membership, then orders a grinder with shipping")
    print_answer(*order("7101", "maria@example.com", "Maria", [{"sku": "CLUB-MONTH", "unit_price": "99.00"}]))
    status, answer = order("7102", "maria@example.com", "Maria", [{"sku": "GRINDER", "unit_price": "2400.00"}])
    print_answer(status, answer)
    maria = api("GET", f"/shops/{SHOP}/customers/maria@example.com", None, store)[1]
    say(f"   membership: {json.dumps(maria['membership'], ensure_ascii=False)}")
    entry = next(e for e in api("GET", f"/shops/{SHOP}/customers/maria@example.com/history", None, store)[1]["entries"]
                 if e["cause"] == "order:7102" and e["kind"] == "cashback")
    say(f"   order 7102 cashback: {entry['cashback']} UAH on 2400.00 (2 % + 3 % member extra); "
        f"wallet {maria['cashback_balance']} UAH")
    code_check = api("GET", f"/shops/{SHOP}/codes/{maria['membership']['free_shipping_code']}", None, store)[1]
    say(f"   checkout asks about {code_check['code']}: free_shipping={code_check['free_shipping']} "
        f"valid={code_check['valid']} until {code_check['valid_until']}")


def print_answer(status: int, answer) -> None:
    if isinstance(answer, dict):
        keep = {k: answer[k] for k in ("result", "order_id", "points_earned", "referral", "membership")
                if k in answer}
        say(f"   webhook {status}: {json.dumps(keep, ensure_ascii=False)}")
    else:
        say(f"   webhook {status}: {answer}")


if __name__ == "__main__":
    main()
