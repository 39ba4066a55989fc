"""The operator CLI (devstack/cli.py) against the moto server and a fresh table.

``cli.run`` executes parsed arguments against the environment as it is, so
these tests use the ``table`` fixture's table; ``cli.main`` would first point
the process at the local stack (checked separately, without running a command).
"""
from __future__ import annotations

import dataclasses
import json
import os
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from devstack import cli
from devstack.samples import DEFAULT_EMAIL, sample_order_payload, signed_request
from tests.support.clock import install_clock

SECRET = "whsec-cli-test-0123456789"
SHOP = "cli-shop"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.run(cli.parse_args(list(argv)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *argv: str):
    code, out, err = run_cli(capsys, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def add_shop(capsys, shop_id: str = SHOP, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "shops", "add", shop_id, "--platform", "shopify", "--currency", "uah",
                   "--secret", SECRET, "--sender-email", "Loyalty@Shop.example",
                   "--storefront-url", "https://shop.example/", *extra)


# The sample order's moment: the tests give the CLI explicit moments relative to it, never today.
ORDER_PAID_AT = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def apply_sample_order(deps, order_id: str = "1001", email: str = DEFAULT_EMAIL) -> dict:
    from chalicelib.services.orders.webhooks import receive_webhook

    payload = sample_order_payload("shopify", order_id=order_id, email=email, created_at=ORDER_PAID_AT)
    headers, body = signed_request("shopify", SECRET, payload, topic="orders/paid")
    # Delivered minutes after it was paid, whatever today is (an order paid over a year before
    # its delivery credits no points: they would already have lapsed).
    delivered = dataclasses.replace(deps, clock=lambda: ORDER_PAID_AT + timedelta(minutes=2))
    return receive_webhook(delivered, "shopify", SHOP, headers, body, headers["Content-Type"])


def test_shops_add_list_and_show(table, capsys, tmp_path):
    program = tmp_path / "program.json"
    program.write_text(json.dumps({"cashback_percent": "2", "earn_rate": 0.1}))

    code, out, err = add_shop(capsys, SHOP, "--timezone", "Europe/Kyiv", "--locale", "uk", "--name", "CLI shop",
                              "--program-json", str(program))
    assert (code, err) == (0, "")
    assert f"Created shop {SHOP}." in out
    assert f"webhook_url_path: /webhooks/shopify/{SHOP}" in out
    assert SECRET not in out

    assert run_json(capsys, "shops", "list") == {"shops": [{"shop_id": SHOP, "platform": "shopify"}]}
    code, out, _ = run_cli(capsys, "shops", "list")
    assert code == 0 and SHOP in out and "shopify" in out

    shown = run_json(capsys, "shops", "show", SHOP)
    assert shown["currency"] == "UAH" and shown["timezone"] == "Europe/Kyiv" and shown["default_locale"] == "uk"
    assert shown["name"] == "CLI shop" and shown["sender_email"] == "loyalty@shop.example"
    assert shown["storefront_url"] == "https://shop.example"
    assert shown["program"]["cashback_percent"] == "2" and shown["program"]["earn_rate"] == "0.1"
    assert shown["program"]["min_redeem_points"] == 100  # not given: the default
    assert "webhook_secret" not in shown


def test_shops_add_refuses_to_overwrite_without_replace(table, capsys):
    assert add_shop(capsys)[0] == 0
    code, out, err = add_shop(capsys, SHOP, "--timezone", "Europe/Berlin")
    assert code == 1 and out == ""
    assert "exists already" in err and "--replace" in err
    assert run_json(capsys, "shops", "show", SHOP)["timezone"] == "UTC"

    code, out, _ = add_shop(capsys, SHOP, "--timezone", "Europe/Berlin", "--replace")
    assert code == 0 and f"Replaced shop {SHOP}." in out
    assert run_json(capsys, "shops", "show", SHOP)["timezone"] == "Europe/Berlin"


def test_shops_add_reports_invalid_settings(table, capsys, tmp_path):
    code, _, err = run_cli(capsys, "shops", "add", SHOP, "--platform", "shopify", "--currency", "UAH",
                           "--secret", "short", "--sender-email", "loyalty@shop.example",
                           "--storefront-url", "https://shop.example")
    assert code == 1 and err.startswith("error: ") and "webhook_secret" in err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, _, err = add_shop(capsys, SHOP, "--program-json", str(broken))
    assert code == 1 and "--program-json" in err
    assert run_json(capsys, "shops", "list") == {"shops": []}


def test_customer_view_and_history_after_a_sample_order(deps, table, capsys):
    # The view on the order's own days, not today's: its points lapse a year after it was paid.
    install_clock(ORDER_PAID_AT + timedelta(minutes=5))
    add_shop(capsys)
    assert apply_sample_order(deps)["result"] == "applied"

    view = run_json(capsys, "customer", SHOP, DEFAULT_EMAIL)
    assert view["email"] == DEFAULT_EMAIL
    assert view["points_balance"] == 189  # floor(3799.00 × 0.05)
    assert view["tier"] == "Silver" and view["orders_count"] == 1 and view["currency"] == "UAH"

    code, out, _ = run_cli(capsys, "customer", SHOP, DEFAULT_EMAIL)
    assert code == 0 and "points_balance: 189" in out and "tier: Silver" in out

    history = run_json(capsys, "customer", SHOP, DEFAULT_EMAIL, "--history")
    assert [entry["kind"] for entry in history["entries"]] == ["earn"]
    code, out, _ = run_cli(capsys, "customer", SHOP, DEFAULT_EMAIL, "--history", "--limit", "1")
    assert code == 0 and "earn" in out and "order:1001" in out


def test_unknown_shop_and_customer_exit_1_with_the_service_message(table, capsys):
    code, out, err = run_cli(capsys, "customer", "no-such-shop", DEFAULT_EMAIL)
    assert (code, out) == (1, "")
    assert err.strip() == "error: no shop 'no-such-shop'"
    assert run_cli(capsys, "shops", "show", "no-such-shop")[0] == 1

    add_shop(capsys)
    code, _, err = run_cli(capsys, "customer", SHOP, "nobody@example.com")
    assert code == 1 and "no loyalty account" in err

    code, _, err = run_cli(capsys, "send-sample", "shopify", "no-such-shop", "--api-url", "http://127.0.0.1:9")
    assert code == 1 and "no shop 'no-such-shop'" in err


@pytest.fixture
def webhook_api(deps, table):
    """A tiny HTTP server answering POST /webhooks/{platform}/{shop_id} like the API does."""
    from chalicelib.errors import ServiceError
    from chalicelib.services.orders.webhooks import receive_webhook

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            _, _, platform, shop_id = self.path.split("/")
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                status, answer = 200, receive_webhook(deps, platform, shop_id, dict(self.headers), body,
                                                      self.headers["Content-Type"])
            except ServiceError as error:
                status, answer = error.status, error.to_body()
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_send_sample_signs_with_the_shops_secret_and_shows_retries_as_duplicates(webhook_api, capsys):
    add_shop(capsys)
    code, out, err = run_cli(capsys, "send-sample", "shopify", SHOP, "--api-url", webhook_api,
                             "--order-id", "2001", "--repeat", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"POST {webhook_api}/webhooks/shopify/{SHOP}  [orders/paid] paid order 2001")
    assert lines[1].strip().startswith("200 applied order 2001: +189 points")
    assert lines[2].strip() == "200 duplicate order 2001"

    sent = run_json(capsys, "send-sample", "shopify", SHOP, "--api-url", webhook_api,
                    "--refund-of", "2001", "--refund-id", "r-1", "--line", "2")
    assert sent["topic"] == "refunds/create"
    [response] = sent["responses"]
    assert response["status"] == 200 and response["body"]["result"] == "applied"
    assert response["body"]["points_reversed"] == 144  # floor(2899.00 × 0.05)

    # A platform the shop does not receive: the API's refusal, exit 1.
    code, out, _ = run_cli(capsys, "send-sample", "woocommerce", SHOP, "--api-url", webhook_api)
    assert code == 1 and "404 not_found" in out


def test_send_sample_without_a_running_api_explains(table, capsys):
    add_shop(capsys)
    code, _, err = run_cli(capsys, "send-sample", "shopify", SHOP, "--api-url", "http://127.0.0.1:9")
    assert code == 1 and "cannot reach http://127.0.0.1:9/webhooks/shopify/cli-shop" in err


def test_argument_mistakes_are_usage_errors(capsys):
    for argv in (["customer", SHOP, DEFAULT_EMAIL, "--limit", "5"],
                 ["send-sample", "shopify", SHOP, "--line", "2"],
                 ["send-sample", "shopify", SHOP, "--refund-of", "1", "--cancel", "1"],
                 ["send-sample", "magento", SHOP]):
        with pytest.raises(SystemExit) as exit_info:
            cli.parse_args(argv)
        assert exit_info.value.code == 2
    capsys.readouterr()


def test_local_mode_points_at_the_local_stack_and_aws_mode_needs_a_table(monkeypatch):
    from chalicelib import composition

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
                 "AWS_REGION", "AWS_ENDPOINT_URL", "LOYALTY_TABLE", "AWS_PROFILE"):
        monkeypatch.setenv(name, "from-the-shell")  # registered, so monkeypatch restores them
    monkeypatch.setenv("EMULATOR_PORT", "5999")
    monkeypatch.setenv("PORT", "8999")

    args = cli.parse_args(["shops", "list"])
    cli.configure_environment(args)
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5999"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing" and os.environ["LOYALTY_TABLE"] == "loyalty-local"
    assert "AWS_PROFILE" not in os.environ
    assert cli.api_url(cli.parse_args(["send-sample", "shopify", SHOP])) == "http://127.0.0.1:8999"

    monkeypatch.delenv("LOYALTY_TABLE")
    with pytest.raises(cli.CliError, match="LOYALTY_TABLE"):
        cli.configure_environment(cli.parse_args(["--aws", "shops", "list"]))
    monkeypatch.setenv("LOYALTY_TABLE", "loyalty-dev")
    monkeypatch.delenv("LOYALTY_API_URL", raising=False)
    with pytest.raises(cli.CliError, match="LOYALTY_API_URL"):
        cli.configure_environment(cli.parse_args(["send-sample", "shopify", SHOP, "--aws"]))
    composition.reset()


# The first run looks back a year or more for every due-date job (chalicelib/services/lifecycle/
# job_days.py): some 1,900 index Queries, each a request the emulator serves in about 9 ms. What
# this proves is the command (the moment it is given, the report, the refused moment without an
# offset) over the real repositories: the store's own promises are tests/contract's, on both stores.
@pytest.mark.in_memory
def test_jobs_run_daily_expires_points_at_the_given_moment(deps, table, capsys):
    assert add_shop(capsys)[0] == 0
    apply_sample_order(deps)
    out = run_json(capsys, "jobs", "run", "daily", "--now", "2027-12-01T09:00:00+01:00")
    report = out["shops"][SHOP]
    assert report["expired"]["points_expired"] == 189 and report["expired"]["customers_read"] == 1
    assert run_json(capsys, "customer", SHOP, DEFAULT_EMAIL)["points_balance"] == 0
    assert run_cli(capsys, "jobs", "run", "daily", "--now", "2027-12-01T09:00:00")[0] == 1  # no offset
