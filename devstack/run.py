"""The local stack: ``python -m devstack.run`` (``make run``).

Starts the embedded AWS emulator (moto) in this process, creates the table,
runs ``chalice local`` as a child process, registers a demo shop through the
admin API, sends a few signed sample webhooks and prints how to go on. Runs
until Ctrl-C / SIGTERM; ``--exit-after-demo`` stops after the demo (tests).

Ports: PORT (API, default 8000), EMULATOR_PORT (emulator, default 5000) and FUNCTION_URL_PORT (the
webhooks' function URL, served as Lambda serves it: default PORT + 1, or any free port if that one
is taken).
Everything here is local and fake: credentials, secrets and keys.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Optional

from devstack import cli
from devstack.ports import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHOP_ID = "demo-shop"
ADMIN_TOKEN_DEFAULT = "local-admin-token"
CUSTOMERS = ("olena.koval@example.com", "taras.melnyk@example.com")
START_TIMEOUT_SECONDS = 60


def _stop_with_this_process() -> None:
    """Runs in the ``chalice local`` child before it starts: on Linux the kernel sends it SIGTERM when
    this process dies, however it dies. Killed with SIGKILL (a test's teardown on a busy machine), we
    cannot stop the child's process group ourselves, and it kept serving its port unowned."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def queue_handlers() -> dict[str, str]:
    """Queue name → the app's handler for it (what Lambda's event source mappings do on AWS)."""
    from chalicelib.composition import dependencies

    settings = dependencies().config
    return {settings.send_queue_name: "send_email", settings.events_queue_name: "delivery_events_handler"}
STOP_TIMEOUT_SECONDS = 5


class StackError(Exception):
    """Startup failed for a reason the user can act on (printed without a traceback)."""


class _Stop(BaseException):
    """Raised by the SIGINT/SIGTERM handler to unwind into the cleanup."""


_signals = {"deferred": False, "pending": False}


def _on_signal(signum, frame) -> None:
    if _signals["deferred"]:
        _signals["pending"] = True  # raised once the child is started and recorded
        return
    raise _Stop()


class _NoStopHere:
    """Delay a Ctrl-C/SIGTERM while a child process starts, so none is left unrecorded."""

    def __enter__(self) -> None:
        _signals["deferred"] = True

    def __exit__(self, *exc) -> None:
        _signals["deferred"] = False
        if _signals["pending"] and exc[0] is None:
            _signals["pending"] = False
            raise _Stop()


# --- small helpers ------------------------------------------------------------


def _say(text: str = "") -> None:
    print(text, flush=True)


def _heading(text: str) -> None:
    _say()
    _say(f"== {text} " + "=" * max(3, 68 - len(text)))


def _check_port_free(name: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # The servers set SO_REUSEADDR too, so only a listening socket counts as "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            raise StackError(
                f"port {port} ({name}) is already in use ({error.strerror}).\n"
                f"  Stop whatever listens there (another `make run`?  try: lsof -i :{port}),\n"
                f"  or pick another port, e.g.: make run {name}={port + 1}") from None


def _ports() -> tuple[int, int]:
    try:
        api_port = cli._port("PORT", cli.DEFAULT_PORT)
        emulator_port = cli._port("EMULATOR_PORT", cli.DEFAULT_EMULATOR_PORT)
    except cli.CliError as error:
        raise StackError(str(error)) from None
    if api_port == emulator_port:
        raise StackError(f"PORT and EMULATOR_PORT are both {api_port}: they must differ")
    return api_port, emulator_port


def _function_url_port(api_port: int, emulator_port: int) -> int:
    """FUNCTION_URL_PORT when set (it must be free), else the port after the API's, else any free one."""
    if os.environ.get("FUNCTION_URL_PORT"):
        try:
            port = cli._port("FUNCTION_URL_PORT", api_port + 1)
        except cli.CliError as error:
            raise StackError(str(error)) from None
        if port in (api_port, emulator_port):
            raise StackError(f"FUNCTION_URL_PORT is {port}, taken by PORT or EMULATOR_PORT: they must differ")
        _check_port_free("FUNCTION_URL_PORT", port)
        return port
    candidate = api_port + 1
    if candidate != emulator_port:
        try:
            _check_port_free("FUNCTION_URL_PORT", candidate)
            return candidate
        except StackError:
            pass
    return free_port()


class ChildOutput:
    """Collects the API process's output; shown on failure, streamed once ready."""

    def __init__(self, stream) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._echo = False
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            with self._lock:
                self._lines.append(line)
                if self._echo:
                    print(f"  api | {line}", flush=True)

    def echo_from_now(self) -> None:
        with self._lock:
            self._echo = True

    def text(self) -> str:
        with self._lock:
            return "\n".join(f"  | {line}" for line in self._lines[-60:]) or "  | (no output)"

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


# --- the stack ----------------------------------------------------------------


class CampaignScheduler:
    """Runs the due campaigns every ``interval`` seconds in a daemon thread (the schedule of
    ``chalicelib.routes.campaigns`` on AWS), so a campaign planned in the workspace goes out."""

    def __init__(self, interval: float = 15.0) -> None:
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="campaign-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        from chalicelib.composition import dependencies
        from chalicelib.services.campaigns.campaigns import run_due_campaigns

        while not self._stopped.wait(self.interval):
            try:
                report = run_due_campaigns(dependencies())
            except Exception as error:  # noqa: BLE001 - the next run tries again; the stack keeps serving
                _say(f"  campaign scheduler: {type(error).__name__}: {error}")
                continue
            for campaign, outcome in report.items():
                _say(f"  campaign {campaign}: {outcome}")

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(STOP_TIMEOUT_SECONDS)


class Stack:
    def __init__(self, api_port: int, emulator_port: int, function_url_port: Optional[int] = None) -> None:
        self.api_port = api_port
        self.emulator_port = emulator_port
        self.function_url_port = function_url_port or api_port + 1
        self.api_url = f"http://127.0.0.1:{api_port}"
        self.emulator_url = f"http://127.0.0.1:{emulator_port}"
        self.function_url = f"http://127.0.0.1:{self.function_url_port}"
        self.function_url_server = None
        self.emulator = None
        self.chalice: Optional[subprocess.Popen] = None
        self.output: Optional[ChildOutput] = None
        self.worker = None
        self.stream_poller = None
        self.scheduler = None

    def environment(self) -> dict[str, str]:
        env = cli.local_environment()
        env["AWS_ENDPOINT_URL"] = self.emulator_url
        env["LOYALTY_ADMIN_TOKEN"] = os.environ.get("LOYALTY_ADMIN_TOKEN") or ADMIN_TOKEN_DEFAULT
        # Locally a shop edited with the CLI must take effect at once, not after the Lambda cache time.
        env["LOYALTY_SHOP_CACHE_SECONDS"] = "0"
        # As deployed: outbox items reach the send queue through the table's stream (devstack/stream_poller.py).
        env["LOYALTY_OUTBOX_STREAM"] = "1"
        # As deployed: the shops are shown the webhooks' function URL as their webhook address.
        env["LOYALTY_WEBHOOK_URL"] = self.function_url
        return env

    def start_emulator(self) -> None:
        from devstack.emulator import SerializedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines
        server = SerializedMotoServer(ip_address="127.0.0.1", port=self.emulator_port, verbose=False)
        server.start()
        self.emulator = server  # only a started server is stopped (stop() would wait forever otherwise)

    def create_table(self) -> None:
        import boto3

        from chalicelib.composition import dependencies
        from devstack.queues import create_queues
        from devstack.ses import create_configuration_set
        from devstack.tables import create_table

        create_table(boto3.client("dynamodb"), os.environ["LOYALTY_TABLE"])
        settings = dependencies().config
        create_queues(boto3.client("sqs"), settings.send_queue_name, settings.events_queue_name,
                      visibility_timeout=5)
        create_configuration_set(boto3.client("sesv2"))

    def start_queue_worker(self) -> None:
        from devstack.queue_worker import QueueWorker
        from devstack.stream_poller import StreamPoller, enable_stream

        import boto3

        enable_stream(boto3.client("dynamodb"), os.environ["LOYALTY_TABLE"])
        self.stream_poller = StreamPoller(os.environ["LOYALTY_TABLE"])
        self.stream_poller.start()
        self.worker = QueueWorker(queue_handlers())
        self.worker.start()

    def start_function_url(self) -> None:
        """The webhooks' function (chalicelib.routes.orders.webhook_url) at its URL, in this process."""
        from chalicelib.routes.orders import webhook_url
        from devstack.function_url import FunctionUrlServer

        self.function_url_server = FunctionUrlServer(self.function_url_port, webhook_url)
        self.function_url_server.start()

    def start_campaign_scheduler(self) -> None:
        """What the one-minute schedule does on AWS: send the campaigns that are due (every 15 s here)."""
        self.scheduler = CampaignScheduler()
        self.scheduler.start()

    def start_api(self) -> None:
        chalice = Path(sys.executable).parent / "chalice"
        if not chalice.exists():
            raise StackError(f"{chalice} not found: install the dev requirements (make run does)")
        command = [str(chalice), "local", "--stage", "local", "--host", "127.0.0.1",
                   "--port", str(self.api_port), "--no-autoreload"]
        with _NoStopHere():
            self.chalice = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole, Ctrl-C reaches only us
                preexec_fn=_stop_with_this_process)
            self.output = ChildOutput(self.chalice.stdout)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.chalice.poll() is not None:
                raise StackError(f"chalice local exited with code {self.chalice.returncode} while starting:\n"
                                 + self.output.text())
            try:
                with socket.create_connection(("127.0.0.1", self.api_port), timeout=1):
                    pass
                cli.http_request("GET", f"{self.api_url}/", timeout=5)  # any answer (403) means it serves
                return
            except (OSError, cli.CliError):
                time.sleep(0.2)
        raise StackError(f"chalice local did not answer on {self.api_url} within {START_TIMEOUT_SECONDS} s:\n"
                         + self.output.text())

    def stop(self) -> None:
        if self.function_url_server is not None:
            self.function_url_server.stop()
            self.function_url_server = None
        if self.stream_poller is not None:
            self.stream_poller.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.worker is not None:
            self.worker.stop()
        if self.chalice is not None and self.chalice.poll() is None:
            try:
                os.killpg(self.chalice.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.chalice.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.chalice.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.chalice.wait()
        if self.output is not None:
            self.output.join(1)
        if self.chalice is not None and self.chalice.stdout is not None:
            self.chalice.stdout.close()
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None


# --- the demo -------------------------------------------------------------------


def _api(stack: Stack, method: str, path: str, body: Any = None, headers: Optional[dict] = None,
         expect: tuple[int, ...] = (200, 201)) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    status, answer = cli.http_request(method, stack.api_url + path, data, all_headers)
    if status not in expect:
        raise StackError(f"{method} {path} answered {status}: {answer}")
    return answer


def _post_webhook(stack: Stack, label: str, headers: dict, body: bytes, *, function_url: bool = False) -> dict:
    base = stack.function_url if function_url else stack.api_url
    status, answer = cli.http_request("POST", f"{base}/webhooks/shopify/{SHOP_ID}", body, headers)
    entry = "function URL" if function_url else "API"
    _say(f"  {headers['X-Shopify-Topic']:<15} {label:<40} {entry:<12} → {cli.describe_webhook_answer(status, answer)}")
    if status >= 300:
        raise StackError(f"the webhook was refused ({status}): {answer}")
    return answer


# What a customer can choose their points for (GET /shops/demo-shop/customers/{email}/rewards).
DEMO_REWARDS = {
    "free-shipping": {"name": "Безкоштовна доставка", "kind": "free_shipping", "points": 80, "min_order": "500.00"},
    "minus-100": {"name": "−100 грн на замовлення", "kind": "amount_off", "points": 100, "amount": "100.00",
                  "min_order": "300.00"},
    "minus-10-percent": {"name": "−10 % на навушники JBL", "kind": "percent_off", "points": 250, "discount_percent": "10",
                         "product_skus": ["JBL-T520BT-BLU"]},
}


def run_demo(stack: Stack) -> dict:
    from devstack import samples

    admin = {"Authorization": f"Bearer {os.environ['LOYALTY_ADMIN_TOKEN']}"}
    webhook_secret = "whsec_local_" + secrets.token_urlsafe(24)
    shop = {
        "name": "Demo Shop", "platform": "shopify", "webhook_secret": webhook_secret, "currency": "UAH",
        "default_locale": "uk", "timezone": "Europe/Kyiv", "sender_email": "loyalty@demo-shop.example",
        "storefront_url": "https://demo-shop.example", "program": {"cashback_percent": "2"},
    }
    _heading("Demo shop")
    _api(stack, "PUT", f"/admin/shops/{SHOP_ID}", shop, admin)
    sending = _api(stack, "GET", f"/admin/shops/{SHOP_ID}/sender-domains", headers=admin, expect=(200,))
    key = _api(stack, "POST", f"/admin/shops/{SHOP_ID}/api-keys", {"label": "local demo"}, admin)["api_key"]
    _say(f"  PUT /admin/shops/{SHOP_ID}: Shopify shop, UAH, uk, Europe/Kyiv, 2 % cashback, default tiers")
    for domain in sending["domains"]:
        _say(f"  GET /admin/shops/{SHOP_ID}/sender-domains: {domain['domain']} {domain['status']} "
             f"(DKIM {domain['dkim']['status']}, {len(domain['records'])} DNS records; the emulator verifies at once)")
    _say(f"  POST /admin/shops/{SHOP_ID}/api-keys: storefront API key issued")
    owner_key = _api(stack, "POST", f"/admin/shops/{SHOP_ID}/admin-keys",
                     {"label": "local owner", "role": "owner"}, admin)["admin_key"]
    marketer_key = _api(stack, "POST", f"/admin/shops/{SHOP_ID}/admin-keys",
                        {"label": "local marketer", "role": "marketer"}, admin)["admin_key"]
    _say(f"  POST /admin/shops/{SHOP_ID}/admin-keys: workspace keys for the shop's owner and its marketer issued")
    for reward_id, reward in DEMO_REWARDS.items():
        _api(stack, "PUT", f"/admin/shops/{SHOP_ID}/rewards/{reward_id}", reward, admin)
    _say(f"  PUT /admin/shops/{SHOP_ID}/rewards/…: {', '.join(r['name'] for r in DEMO_REWARDS.values())}")

    _heading(f"Signed sample Shopify webhooks → POST /webhooks/shopify/{SHOP_ID} "
             f"(the API, or the webhooks' function URL {stack.function_url})")
    first, second = CUSTOMERS
    order_a = samples.sample_order_payload("shopify", order_id="1001", email=first)
    order_b = samples.sample_order_payload(
        "shopify", order_id="1002", email=second, first_name="Taras", last_name="Melnyk",
        lines=[{"id": "1", "sku": "KINDLE-PW-16GB", "title": "Електронна книга Kindle Paperwhite 16 GB",
                "quantity": 1, "unit_price": "6499.00"}])
    delivery_a = samples.signed_request("shopify", webhook_secret, order_a, topic="orders/paid")
    _post_webhook(stack, f"#1001 {first}", *delivery_a)
    _post_webhook(stack, f"#1002 {second}", *samples.signed_request(
        "shopify", webhook_secret, order_b, topic="orders/paid"), function_url=True)
    _post_webhook(stack, "#1001 the same delivery again (a retry)", *delivery_a)
    refund = samples.sample_refund_payload("shopify", refund_id="5001", order_id="1001",
                                           lines=[{"line_id": "1", "quantity": 1}])
    _post_webhook(stack, "#1001 one of the two phone cases", *samples.signed_request(
        "shopify", webhook_secret, refund, topic="refunds/create"))

    customer_path = f"/shops/{SHOP_ID}/customers/{urllib.parse.quote(first, safe='@')}"
    _heading(f"Customer {first}")
    _say(f"  GET {customer_path}   (storefront API, X-Api-Key)")
    view = _api(stack, "GET", customer_path, headers={"X-Api-Key": key}, expect=(200,))
    for line in cli.render(view):
        _say(f"  {line}")
    _heading(f"Ledger history of {first}")
    _say(f"  GET {customer_path}/history")
    history = _api(stack, "GET", customer_path + "/history", headers={"X-Api-Key": key}, expect=(200,))
    for line in cli.history_lines(history):
        _say(f"  {line}")

    _heading("E-mails (SQS → send_email → SES)")
    stack.worker.wait_idle(timeout=30)
    from devstack.sent_mail import sent_mail

    for mail in sent_mail(stack.emulator_url):
        _say(f"  to {', '.join(mail.recipients):<30} {mail.subject}")
    if stack.worker.failed:
        _say(f"  ({stack.worker.failed} queue message(s) failed and will be retried; see the log below)")
    return {"webhook_secret": webhook_secret, "api_key": key, "customer": first, "admin_key": owner_key,
            "marketer_key": marketer_key}


def print_summary(stack: Stack, demo: dict) -> None:
    _heading("Local stack")
    _say(f"  API                {stack.api_url}")
    _say(f"  Webhooks           {stack.function_url}/webhooks/<platform>/<shop_id>   (the function URL; "
         f"the API's /webhooks too)")
    _say(f"  AWS emulator       {stack.emulator_url}   (moto; table {os.environ['LOYALTY_TABLE']}, in memory)")
    _say()
    _say("  Local demo secrets (fake, valid only for this run):")
    _say(f"    admin token      {os.environ['LOYALTY_ADMIN_TOKEN']}")
    _say(f"    webhook secret   {demo['webhook_secret']}   (shop {SHOP_ID})")
    _say(f"    API key          {demo['api_key']}")
    _say(f"    workspace key    {demo['admin_key']}   (owner of {SHOP_ID}: every setting, key and change)")
    _say(f"    marketer key     {demo['marketer_key']}   (templates, segments, campaigns of {SHOP_ID})")

    _heading("Try it")
    email = demo["customer"]
    _say(f"  The marketers' workspace (docs/workspace.md): open {stack.api_url}/admin and sign in with the")
    _say("  owner's or the marketer's workspace key above (one shop) or the admin token (every shop).")
    _say("  Customer view over HTTP:")
    _say(f"    curl -s -H 'X-Api-Key: {demo['api_key']}' \\")
    _say(f"      {stack.api_url}/shops/{SHOP_ID}/customers/{email}")
    _say("  The rewards they can choose their points for (and, under more_rewards, what they save up for):")
    _say(f"    curl -s -H 'X-Api-Key: {demo['api_key']}' \\")
    _say(f"      {stack.api_url}/shops/{SHOP_ID}/customers/{email}/rewards")
    _say("  Admin API:")
    _say(f"    curl -s -H 'Authorization: Bearer {os.environ['LOYALTY_ADMIN_TOKEN']}' {stack.api_url}/admin/shops")
    ports = []
    if stack.api_port != cli.DEFAULT_PORT:
        ports.append(f"PORT={stack.api_port}")
    if stack.emulator_port != cli.DEFAULT_EMULATOR_PORT:
        ports.append(f"EMULATOR_PORT={stack.emulator_port}")
    prefix = " ".join(ports + [".venv/bin/python -m devstack.cli"])
    _say("  CLI (docs/cli.md; add --help to any command):")
    for args in ("shops list", f"shops show {SHOP_ID}", f"customer {SHOP_ID} {email}",
                 f"customer {SHOP_ID} {email} --history",
                 f"send-sample shopify {SHOP_ID} --email {shlex.quote('you@example.com')}",
                 f"send-sample shopify {SHOP_ID} --order-id 2001 --repeat 2",
                 f"send-sample shopify {SHOP_ID} --refund-of 1001 --line 2",
                 "outbox", "outbox --export out/mail   # then open out/mail/*.html in a browser"):
        _say(f"    {prefix} {args}")
    _say()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--exit-after-demo", action="store_true",
                        help="stop everything and exit once the demo has run (for tests)")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    stack: Optional[Stack] = None
    code = 0
    try:
        api_port, emulator_port = _ports()
        _check_port_free("EMULATOR_PORT", emulator_port)
        _check_port_free("PORT", api_port)
        stack = Stack(api_port, emulator_port, _function_url_port(api_port, emulator_port))
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(stack.environment())

        _say(f"Starting the local loyalty stack (project {PROJECT_ROOT})")
        stack.start_emulator()
        _say(f"  AWS emulator (moto)   {stack.emulator_url}")
        stack.create_table()
        _say(f"  DynamoDB table        {os.environ['LOYALTY_TABLE']}  (from infra/table.json)")
        stack.start_api()
        _say(f"  API (chalice local)   {stack.api_url}")
        stack.start_function_url()
        _say(f"  Webhooks function URL {stack.function_url}  (chalicelib.routes.orders.webhook_url, as Lambda serves it)")
        stack.start_queue_worker()
        _say(f"  Queue handlers        {', '.join(queue_handlers().values())} (polling the emulator's SQS)")
        _say("  Outbox stream         publish_outbox (polling the table's DynamoDB Stream, as Lambda's mapping does)")
        stack.start_campaign_scheduler()
        _say("  Campaign scheduler    due campaigns sent every 15 s")

        demo = run_demo(stack)
        print_summary(stack, demo)
        _say("Ready.")
        if args.exit_after_demo:
            _say("Stopping (--exit-after-demo).")
        else:
            _say("Press Ctrl-C to stop. API request log:")
            stack.output.echo_from_now()
            stack.chalice.wait()
            code = 1
            _say(f"chalice local exited unexpectedly with code {stack.chalice.returncode}.")
    except _Stop:
        _say()
        _say("Stopping…")
    except (StackError, cli.CliError) as error:
        print(f"\nerror: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if stack is not None:
            stack.stop()
    if stack is not None:
        _say("Stopped." if code == 0 else "Stopped (with errors).")
    return code


if __name__ == "__main__":
    sys.exit(main())
