"""Operator CLI: ``python -m devstack.cli --help``.

By default every command talks to the LOCAL stack started by ``make run``
(the embedded AWS emulator on 127.0.0.1:$EMULATOR_PORT, table
``loyalty-local``, the API on 127.0.0.1:$PORT) with fake credentials, so it can
never touch a real AWS account by accident. ``--aws`` uses the usual AWS
settings instead; then LOYALTY_TABLE (and, for ``send-sample``, ``--api-url``
or LOYALTY_API_URL) must be set.

Shop and customer commands call the services directly (no HTTP, no admin
token); ``send-sample`` signs a sample webhook with the shop's secret and
POSTs it to the API like a shop platform would.

Nothing here runs at import time: the Lambda package carries this module but
never imports it.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional, Sequence
from chalicelib import composition
from chalicelib.composition import dependencies

LOCAL_TABLE = "loyalty-local"
LOCAL_REGION = "eu-central-1"
DEFAULT_PORT = 8000
DEFAULT_EMULATOR_PORT = 5000
PLATFORM_CHOICES = ("shopify", "woocommerce", "generic")


class CliError(Exception):
    """A problem the operator can fix; printed without a traceback, exit 1."""


# --- environment ------------------------------------------------------------


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise CliError(f"{name}={raw!r} is not a TCP port number")
    return int(raw)


def local_api_url() -> str:
    return f"http://127.0.0.1:{_port('PORT', DEFAULT_PORT)}"


def local_emulator_url() -> str:
    return f"http://127.0.0.1:{_port('EMULATOR_PORT', DEFAULT_EMULATOR_PORT)}"


def local_environment() -> dict[str, str]:
    """What devstack.run sets for itself and the API: emulator, fake credentials, local table."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
        "AWS_ENDPOINT_URL": local_emulator_url(),
        "LOYALTY_TABLE": LOCAL_TABLE,
        # Links in e-mails (unsubscribe, tracked links) lead to the local API.
        "LOYALTY_PUBLIC_URL": local_api_url(),
        # The development admin token and link-signing key apply only where this says so.
        "LOYALTY_LOCAL_STACK": "1",
    }


def configure_environment(args: argparse.Namespace) -> None:
    """Point this process at the local stack, or check the settings ``--aws`` needs."""

    if getattr(args, "aws", False):
        if not os.environ.get("LOYALTY_TABLE"):
            raise CliError("--aws: set LOYALTY_TABLE to the deployed table's name (e.g. loyalty-dev)")
        if args.command == "send-sample" and not (getattr(args, "api_url", None) or os.environ.get("LOYALTY_API_URL")):
            raise CliError("--aws send-sample: give --api-url or set LOYALTY_API_URL to the deployed API's URL")
    else:
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(local_environment())
    composition.reset()


def api_url(args: argparse.Namespace) -> str:
    explicit = getattr(args, "api_url", None)
    if explicit:
        return explicit.rstrip("/")
    if getattr(args, "aws", False):
        return os.environ["LOYALTY_API_URL"].rstrip("/")
    return local_api_url()


# --- commands ---------------------------------------------------------------


def cmd_shops_list(args: argparse.Namespace) -> Any:
    from chalicelib.services.shops import shops

    return shops.list_shops(dependencies())


def cmd_shops_show(args: argparse.Namespace) -> Any:
    from chalicelib.services.shops import shops

    return shops.get_shop_view(dependencies(), args.shop_id)


def cmd_shops_add(args: argparse.Namespace) -> Any:
    from chalicelib.errors import NotFound
    from chalicelib.services.shops import shops

    if not args.replace:
        try:
            shops.get_shop_view(dependencies(), args.shop_id)
        except NotFound:
            pass
        else:
            raise CliError(f"shop {args.shop_id!r} exists already; add --replace to overwrite ALL its settings "
                           "(options not given go back to their defaults)")
    document: dict[str, Any] = {
        "platform": args.platform,
        "currency": args.currency,
        "webhook_secret": args.secret,
        "sender_email": args.sender_email,
        "storefront_url": args.storefront_url,
    }
    optional = {"timezone": args.timezone, "default_locale": args.locale, "name": args.name}
    document.update({key: value for key, value in optional.items() if value is not None})
    if args.program_json:
        document["program"] = _read_program(args.program_json)
    view, created = shops.put_shop(dependencies(), args.shop_id, document)
    if not getattr(args, "aws", False):
        import boto3

        from devstack.ses import verify_sender_domain

        verify_sender_domain(boto3.client("sesv2"), args.sender_email)  # the emulator refuses unverified senders
    return {"created": created, "shop": view}


def _read_program(path: str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"--program-json: cannot read {path}: {error.strerror}") from None
    try:
        program = json.loads(text, parse_float=Decimal)
    except ValueError as error:
        raise CliError(f"--program-json: {path} is not valid JSON ({error})") from None
    if not isinstance(program, dict):
        raise CliError(f"--program-json: {path} must hold a JSON object, e.g. {{\"cashback_percent\": \"2\"}}")
    return program


def cmd_customer(args: argparse.Namespace) -> Any:
    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.services.loyalty import storefront

    shop = load_shop(dependencies(), args.shop_id)
    if args.history:
        return storefront.customer_history(dependencies(), shop, args.email, str(args.limit) if args.limit else None, None)
    return storefront.customer_view(dependencies(), shop, args.email)


def build_sample(args: argparse.Namespace, currency: str) -> tuple[str, str, dict]:
    """(description, topic, payload) of the delivery ``send-sample`` asks for."""
    from devstack import samples

    platform = args.platform
    if getattr(args, "payload", None):
        return _recorded_payload(args)
    if args.refund_of:
        refund_id = args.refund_id or str(_fresh_number())
        payload = samples.sample_refund_payload(
            platform, refund_id=refund_id, order_id=args.refund_of,
            lines=[{"line_id": args.line, "quantity": args.quantity}], email=args.email, currency=currency)
        topic = {"shopify": "refunds/create", "woocommerce": "order.updated", "generic": "refund"}[platform]
        return (f"refund {refund_id} of order {args.refund_of} (line {args.line} × {args.quantity})", topic, payload)
    if args.cancel:
        payload = samples.sample_order_payload(platform, order_id=args.cancel, email=args.email, cancelled=True,
                                               currency=currency)
        topic = {"shopify": "orders/cancelled", "woocommerce": "order.updated", "generic": "order"}[platform]
        return f"cancellation of order {args.cancel}", topic, payload
    order_id = args.order_id or str(_fresh_number())
    codes = [args.discount_code] if getattr(args, "discount_code", None) else []
    payload = samples.sample_order_payload(platform, order_id=order_id, email=args.email, currency=currency,
                                           discount_codes=codes)
    topic = {"shopify": "orders/paid", "woocommerce": "order.created", "generic": "order"}[platform]
    with_code = f" with code {codes[0]}" if codes else ""
    return f"paid order {order_id} for {args.email}{with_code}", topic, payload


def _recorded_payload(args: argparse.Namespace) -> tuple[str, str, dict]:
    """A recorded delivery (tests/fixtures/platforms/*.json) replayed as it is, with its topic."""
    default_topic = {"shopify": "orders/paid", "woocommerce": "order.updated", "generic": "order"}[args.platform]
    try:
        payload = json.loads(Path(args.payload).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CliError(f"--payload: cannot read {args.payload}: {error}") from None
    if not isinstance(payload, dict):
        raise CliError(f"--payload: {args.payload} must hold one JSON object (a webhook body)")
    return f"recorded payload {args.payload}", args.topic or default_topic, payload


def _fresh_number() -> int:
    return 100_000 + secrets.randbelow(900_000)


def cmd_send_sample(args: argparse.Namespace) -> Any:
    from chalicelib.composition import dependencies
    from devstack import samples

    deps = dependencies()  # also points the store at the configured table and emulator
    stored = deps.repos.shops().get(args.shop_id)
    if stored is None:
        raise CliError(f"no shop {args.shop_id!r} in table {deps.config.table_name} "
                       "(see: shops list)")
    secret = stored.secrets.get("webhook_secret")
    if not secret:
        raise CliError(f"shop {args.shop_id!r} has no webhook secret")
    description, topic, payload = build_sample(args, stored.config.get("currency", "UAH"))
    headers, body = samples.signed_request(args.platform, secret, payload,
                                           topic=None if args.platform == "generic" else topic)
    url = f"{api_url(args)}/webhooks/{args.platform}/{args.shop_id}"
    responses = []
    for _ in range(args.repeat):
        status, answer = http_request("POST", url, body, headers)
        responses.append({"status": status, "body": answer})
    return {"sent": description, "topic": topic, "url": url, "responses": responses}


# --- HTTP -------------------------------------------------------------------


def cmd_stats(args: argparse.Namespace) -> Any:
    from chalicelib.services.campaigns import results

    if args.campaign:
        return results.campaign_results(dependencies(), args.shop_id, args.campaign)
    if args.flow:
        return results.flow_results(dependencies(), args.shop_id, args.flow)
    return results.all_flow_results(dependencies(), args.shop_id)


def cmd_jobs_run_daily(args: argparse.Namespace) -> Any:
    """The scheduled jobs at a chosen moment; the e-mails they owe go through the send queue."""
    from chalicelib.services.lifecycle.daily import run_daily

    return run_daily(dependencies(), _parse_now(args.now), [args.shop] if args.shop else None)


def cmd_jobs_run_campaigns(args: argparse.Namespace) -> Any:
    """Send every campaign due at --now, printing progress page by page."""
    from chalicelib.services.campaigns.campaigns import run_due_campaigns

    now = _parse_now(args.now)
    quiet = getattr(args, "json", False)

    def progress(campaign) -> None:
        if not quiet:
            print(f"\r  {campaign.name}: {campaign.queued} recipients queued ({campaign.pages} pages)",
                  end="", flush=True, file=sys.stderr)

    report = run_due_campaigns(dependencies(), now, on_page=progress)
    if not quiet and report:
        print(file=sys.stderr)
    return {"campaigns": report}


def _parse_day(text: Optional[str], option: str):
    from datetime import datetime, timezone

    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option}: {text!r} is not a date (YYYY-MM-DD) or an ISO date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class ProgressBar:
    """One self-rewriting line on stderr: bar, count, rate and time left."""

    def __init__(self, label: str, width: int = 30):
        import time

        self.label, self.width, self.started, self.shown = label, width, time.monotonic(), 0.0
        self._clock = time.monotonic

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        if done != total and now - self.shown < 0.2:
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        filled = int(self.width * done / total) if total else self.width
        left = f"{(total - done) / rate:5.0f} s left" if rate and done < total else f"{elapsed:5.1f} s    "
        print(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} "
              f"{rate:6.1f}/s {left}", end="", file=sys.stderr, flush=True)


def cmd_import(args: argparse.Namespace) -> Any:
    """Import a shop's history (or --dry-run it): see docs/import.md."""
    from chalicelib.composition import dependencies
    from chalicelib.services.orders import history_import

    for path in filter(None, (args.file, args.opening_balances)):
        if not Path(path).is_file():
            raise CliError(f"no such file: {path}")
    options = history_import.ImportOptions(
        args.format, earn_points=not args.no_points, points_since=_parse_day(args.points_since, "--points-since"),
        since=_parse_day(args.since, "--since"), until=_parse_day(args.until, "--until"), workers=args.workers)
    now = dependencies().clock()
    prepared = history_import.prepare(dependencies(), args.shop_id, args.file, options, now, balances_path=args.opening_balances)
    if args.dry_run:
        return history_import.dry_run(prepared, now)
    quiet = getattr(args, "json", False)
    bar = None if quiet else ProgressBar(f"import {args.shop_id}")
    try:
        report = history_import.run(dependencies(), prepared, options, now, progress=bar)
    finally:
        if bar is not None:
            print(file=sys.stderr)
    return report


def cmd_import_status(args: argparse.Namespace) -> Any:
    from chalicelib.services.orders import history_import

    return history_import.import_status(dependencies(), args.shop_id)


def cmd_webhook_health(args: argparse.Namespace) -> Any:
    from chalicelib.services.orders import webhook_health

    return webhook_health.health_view(dependencies(), args.shop_id)


def cmd_reconcile(args: argparse.Namespace) -> Any:
    from chalicelib.services.orders import reconciliation

    return reconciliation.reconcile_shop(dependencies(), args.shop_id, _parse_now(args.now), since=_parse_day(args.since, "--since"))


def _parse_now(text: Optional[str]):
    from datetime import datetime

    if not text:
        return None
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--now: not an ISO 8601 time with offset: {text!r}") from None
    if now.tzinfo is None:
        raise CliError("--now: give the offset too, e.g. 2027-03-01T09:00:00+01:00")
    return now


def cmd_outbox(args: argparse.Namespace) -> Any:
    """What the local stack's SES has sent (the emulator keeps every message)."""
    from devstack.sent_mail import export, sent_mail

    if getattr(args, "aws", False):
        raise CliError("outbox reads the local emulator's SES; on AWS use the send log and SES events")
    mails = sent_mail(local_emulator_url())
    result: dict[str, Any] = {"count": len(mails), "messages": [
        {"message_id": m.message_id, "from": m.sender, "to": m.recipients, "subject": m.subject,
         **({"headers": m.headers(), "raw": m.raw} if getattr(args, "json", False) else {})} for m in mails]}
    if args.export:
        result["exported"] = [str(path) for path in export(mails, Path(args.export))]
    return result


def http_request(method: str, url: str, body: Optional[bytes] = None,
                 headers: Optional[dict] = None, timeout: float = 30) -> tuple[int, Any]:
    """(status, parsed JSON or text) of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CliError(f"cannot reach {url} ({reason}); is the local stack running (make run)?") from None
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


# --- output -----------------------------------------------------------------


def describe_webhook_answer(status: int, answer: Any) -> str:
    """One line for a webhook response: ``200 applied order 1001: +213 points → balance 213``."""
    if not isinstance(answer, dict):
        return f"{status} {answer}"
    if "error" in answer:
        return f"{status} {answer['error']}: {answer.get('message', '')}"
    result = answer.get("result", "?")
    parts = [f"{status} {result}"]
    if answer.get("order_id"):
        parts.append(f"order {answer['order_id']}")
    if answer.get("refund_id"):
        parts.append(f"refund {answer['refund_id']}")
    line = " ".join(parts)
    if result == "applied":
        changes = []
        if answer.get("points_earned"):
            changes.append(f"+{answer['points_earned']} points")
        if answer.get("points_reversed"):
            changes.append(f"-{answer['points_reversed']} points")
        if "points_balance" in answer:
            changes.append(f"balance {answer['points_balance']}")
        if answer.get("tier"):
            changes.append(f"tier {answer['tier']}")
        if changes:
            line += ": " + ", ".join(changes)
    if answer.get("reason"):
        line += f" ({answer['reason']})"
    if answer.get("pending"):
        line += f" ({answer['pending']})"
    return line


def render(value: Any, indent: int = 0) -> list[str]:
    """A readable, YAML-like rendering of JSON-shaped data."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(render(item, indent + 1))
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                inner = render(item, indent + 1)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(f"{pad}{_scalar(value)}")
    return lines


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return "(none)"
    return str(value)


def history_lines(history: dict) -> list[str]:
    entries = history.get("entries", [])
    if not entries:
        return ["(no ledger entries)"]
    lines = [f"{'when':<20} {'kind':<12} {'points':>7} {'spend':>10} {'cashback':>9}  cause"]
    for entry in entries:
        lines.append(f"{str(entry.get('created_at', ''))[:19]:<20} {entry.get('kind', ''):<12} "
                     f"{entry.get('points', 0):>+7} {entry.get('spend', ''):>10} {entry.get('cashback', ''):>9}  "
                     f"{entry.get('cause', '')}")
    if history.get("next_cursor"):
        lines.append("(more entries: raise --limit)")
    return lines


def print_import_report(result: dict) -> None:
    if result.get("already_complete"):
        print(f"Import {result['import_id']} of {result['shop_id']} was already complete; nothing to do.")
        print("\n".join(render(result["result"].get("counts", {}), 1)))
        return
    run_ = result["this_run"]
    if result.get("resumed_from") is not None:
        print(f"Resumed import {result['import_id']} at item {result['resumed_from']} of {result['items'] + result['opening_balances']}.")
    print(f"Imported into {result['shop_id']} (import {result['import_id']}): {run_['items']} items in "
          f"{run_['seconds']} s ({run_['items_per_second']}/s)")
    print(f"  applied {run_['applied']}, already there {run_['duplicate']}, ignored {run_['ignored']}, "
          f"failed {run_['failed']}; skipped in the file {result['skipped']}, outside the dates {result['outside_dates']}")
    print(f"  points earned {run_['points_earned']}, taken back by refunds {run_['points_reversed']}"
          + (f"; orders paid before {result['points_since'][:10]} count for spend and tier only"
             if result.get("points_since") else "; no points (spend and tiers only)"))
    problems = result["problems"] + result["failures"]
    if problems:
        print(f"  {len(problems)} row(s) not imported:")
        for problem in problems:
            print(f"    line {problem['line']}: {problem['reason']}")


def print_human(args: argparse.Namespace, result: Any) -> None:
    command = args.command
    if command == "shops" and args.shops_command == "list":
        rows = result["shops"]
        if not rows:
            print("No shops yet (add one: shops add --help).")
            return
        print(f"{'shop_id':<32} platform")
        for row in rows:
            print(f"{row['shop_id']:<32} {row['platform']}")
    elif command == "shops" and args.shops_command == "add":
        print(f"{'Created' if result['created'] else 'Replaced'} shop {result['shop']['shop_id']}.")
        print("\n".join(render(result["shop"])))
    elif command == "outbox":
        print(f"{result['count']} message(s) sent through the local SES:")
        for message in result["messages"]:
            print(f"  {message['message_id'][:12]}  {', '.join(message['to']):<32} {message['subject']}")
        if result.get("exported"):
            print(f"Exported {len(result['exported'])} files to {Path(result['exported'][0]).parent} "
                  "(open the .html files in a browser, the .eml files in a mail client).")
    elif command == "import" and not args.dry_run:
        print_import_report(result)
    elif command == "customer" and args.history:
        print("\n".join(history_lines(result)))
    elif command == "send-sample":
        print(f"POST {result['url']}  [{result['topic']}] {result['sent']}")
        for response in result["responses"]:
            print("  " + describe_webhook_answer(response["status"], response["body"]))
    else:
        print("\n".join(render(result)))


# --- argument parsing ---------------------------------------------------------


def _common_options() -> argparse.ArgumentParser:
    # SUPPRESS defaults: the options may be given before or after the subcommand.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON instead of human-readable text")
    common.add_argument("--aws", action="store_true", default=argparse.SUPPRESS,
                        help="use the usual AWS settings (credentials, region) instead of the local emulator; "
                             "LOYALTY_TABLE must be set")
    common.add_argument("--api-url", default=argparse.SUPPRESS, metavar="URL",
                        help="API base URL for send-sample (default: http://127.0.0.1:$PORT locally, "
                             "LOYALTY_API_URL with --aws)")
    return common


def build_parser() -> argparse.ArgumentParser:
    from devstack.samples import DEFAULT_EMAIL

    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="python -m devstack.cli", parents=[common],
        description="Operate the loyalty service. Talks to the local stack (make run) unless --aws is given.",
        epilog="Local stack: emulator at http://127.0.0.1:$EMULATOR_PORT (default 5000), table loyalty-local, "
               "API at http://127.0.0.1:$PORT (default 8000). See docs/cli.md.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    shops_parser = commands.add_parser("shops", help="list, show and add shops", parents=[common],
                                       description="List, show and add shops.")
    shops_commands = shops_parser.add_subparsers(dest="shops_command", required=True, metavar="SHOPS_COMMAND")
    shops_commands.add_parser("list", help="list all shops", parents=[common], description="List all shops.") \
        .set_defaults(handler=cmd_shops_list)
    show = shops_commands.add_parser("show", help="show a shop's settings (without secrets)", parents=[common],
                                     description="Show a shop's settings (secrets are never shown).")
    show.add_argument("shop_id", metavar="SHOP_ID")
    show.set_defaults(handler=cmd_shops_show)
    add = shops_commands.add_parser(
        "add", help="create a shop (or replace one with --replace)", parents=[common],
        description="Create a shop, like PUT /admin/shops/SHOP_ID. Options not given take their defaults; "
                    "the program takes its defaults unless --program-json is given.")
    add.add_argument("shop_id", metavar="SHOP_ID", help="1-64 characters: lower-case letters, digits, '-' and '_'")
    add.add_argument("--platform", required=True, choices=PLATFORM_CHOICES, help="where the shop's webhooks come from")
    add.add_argument("--currency", required=True, metavar="C", help="ISO 4217 code, e.g. UAH, EUR")
    add.add_argument("--secret", required=True, metavar="S",
                     help="webhook signing secret, at least 16 characters (the same as in the shop platform)")
    add.add_argument("--sender-email", required=True, metavar="E", help="From: address of the shop's e-mails")
    add.add_argument("--storefront-url", required=True, metavar="U", help="https:// URL of the shop")
    add.add_argument("--timezone", metavar="TZ", help="IANA time zone, e.g. Europe/Kyiv (default UTC)")
    add.add_argument("--locale", metavar="L", help="default e-mail language: en, de, ru or uk (default en)")
    add.add_argument("--name", metavar="N", help="the shop's display name")
    add.add_argument("--program-json", metavar="FILE",
                     help='JSON file with the loyalty program, e.g. {"cashback_percent": "2"}; '
                          "fields not given take their defaults")
    add.add_argument("--replace", action="store_true",
                     help="overwrite an existing shop's settings (ALL of them: options not given are reset)")
    add.set_defaults(handler=cmd_shops_add)

    customer = commands.add_parser(
        "customer", help="a customer's balance, tier and cashback (or --history)", parents=[common],
        description="Show what the storefront API shows for a customer, or their ledger history.")
    customer.add_argument("shop_id", metavar="SHOP_ID")
    customer.add_argument("email", metavar="EMAIL")
    customer.add_argument("--history", action="store_true", help="show the ledger history (newest first) instead")
    customer.add_argument("--limit", type=int, metavar="N", help="history entries to show, 1-100 (default 25)")
    customer.set_defaults(handler=cmd_customer)

    send = commands.add_parser(
        "send-sample", help="POST a signed sample webhook to the API", parents=[common],
        description="Build a realistic sample delivery for PLATFORM, sign it with the shop's webhook secret "
                    "and POST it to the API. Default: a paid order with a fresh order id.")
    send.add_argument("platform", choices=PLATFORM_CHOICES, metavar="PLATFORM",
                      help="shopify, woocommerce or generic")
    send.add_argument("shop_id", metavar="SHOP_ID")
    send.add_argument("--order-id", metavar="ID", help="order id of the paid order (default: a fresh one)")
    send.add_argument("--email", default=DEFAULT_EMAIL, metavar="E", help=f"customer e-mail (default {DEFAULT_EMAIL})")
    what = send.add_mutually_exclusive_group()
    what.add_argument("--refund-of", metavar="ORDER_ID", help="send a refund of this order instead")
    what.add_argument("--cancel", metavar="ORDER_ID", help="send a cancellation of this order instead")
    what.add_argument("--payload", metavar="FILE",
                      help="send this recorded webhook body (a JSON object) as it is, e.g. a tests/fixtures file")
    send.add_argument("--topic", metavar="T", help="the topic of a --payload delivery (default: WooCommerce "
                      "order.updated, Shopify orders/paid)")
    send.add_argument("--refund-id", metavar="RID", help="refund id (default: a fresh one)")
    send.add_argument("--line", default="1", metavar="LINE_ID",
                      help="refunded order line (default 1; sample orders have lines 1 and 2)")
    send.add_argument("--quantity", type=int, default=1, metavar="Q", help="refunded units of that line (default 1)")
    send.add_argument("--discount-code", metavar="CODE", help="a discount code the paid order carries")
    send.add_argument("--repeat", type=int, default=1, metavar="N",
                      help="send the identical delivery N times, like a platform retrying (default 1)")
    send.set_defaults(handler=cmd_send_sample)

    stats = commands.add_parser(
        "stats", help="what a campaign or a flow brought back", parents=[common],
        description="Sent, delivered, bounced, complained, unsubscribed, clicks, attributed orders and "
                    "revenue, codes redeemed: of one campaign (--campaign), one flow (--flow TEMPLATE) or "
                    "every flow.")
    stats.add_argument("shop_id", metavar="SHOP_ID")
    which = stats.add_mutually_exclusive_group()
    which.add_argument("--campaign", metavar="ID", help="a campaign's results")
    which.add_argument("--flow", metavar="TEMPLATE", help="one flow's results (e.g. post_purchase)")
    stats.set_defaults(handler=cmd_stats)

    jobs = commands.add_parser("jobs", help="run the scheduled jobs now", parents=[common],
                               description="Run the scheduled jobs by hand.")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", required=True, metavar="JOBS_COMMAND")
    run_jobs = jobs_commands.add_parser("run", help="run a job", parents=[common])
    run_jobs_commands = run_jobs.add_subparsers(dest="job", required=True, metavar="JOB")
    daily = run_jobs_commands.add_parser(
        "daily", parents=[common], help="expire points, warn before expiry, birthdays, win-back, release codes",
        description="Run the daily jobs for every shop (or --shop) as if it were --now. The e-mails they owe go "
                    "through the send queue; the local stack's queue worker sends them.")
    daily.add_argument("--now", metavar="ISO", help="the moment to run at, e.g. 2027-03-01T09:00:00+01:00")
    daily.add_argument("--shop", metavar="SHOP_ID", help="only this shop")
    daily.set_defaults(handler=cmd_jobs_run_daily)
    campaigns_job = run_jobs_commands.add_parser(
        "campaigns", parents=[common], help="send the campaigns that are due",
        description="Queue the recipients of every campaign due at --now (default: now), page by page from "
                    "its saved position, with a progress line. The local stack's queue worker sends them.")
    campaigns_job.add_argument("--now", metavar="ISO", help="the moment to run at, e.g. 2027-03-01T09:00:00+01:00")
    campaigns_job.set_defaults(handler=cmd_jobs_run_campaigns)

    history = commands.add_parser(
        "import", help="import a shop's history (orders, customers, opening balances)", parents=[common],
        description="Import a shop's exported history through the same ledger path as its webhooks, in date "
                    "order, without post-purchase e-mails. Run with --dry-run first. Running the same command "
                    "again resumes an interrupted import (an order already applied counts once). See docs/import.md.")
    history.add_argument("shop_id", metavar="SHOP_ID")
    history.add_argument("file", metavar="FILE", help="the exported file")
    history.add_argument("--format", required=True, metavar="F",
                         choices=("shopify-orders-csv", "shopify-customers-csv", "shopify-orders-json",
                                  "woocommerce-orders-json", "generic-jsonl"),
                         help="shopify-orders-csv, shopify-customers-csv, shopify-orders-json, "
                              "woocommerce-orders-json or generic-jsonl")
    history.add_argument("--dry-run", action="store_true",
                         help="write nothing: report the customers, points, tiers and liability it would create")
    history.add_argument("--no-points", action="store_true",
                         help="set spend, order counts and tiers only: no imported order earns points or cashback")
    history.add_argument("--points-since", metavar="DATE",
                         help="orders paid before DATE earn no points (default: today minus the program's "
                              "points_validity_months, i.e. points that would have expired already)")
    history.add_argument("--since", metavar="DATE", help="leave out orders paid before DATE")
    history.add_argument("--until", metavar="DATE",
                         help="leave out orders paid at or after DATE (the webhooks' and reconciliation's)")
    history.add_argument("--opening-balances", metavar="CSV",
                         help="points from the shop's previous program: CSV with email, points, expiry (YYYY-MM-DD)")
    history.add_argument("--workers", type=int, default=4, metavar="N",
                         help="parallel writers (customers are split between them; default 4)")
    history.set_defaults(handler=cmd_import)

    status = commands.add_parser("import-status", help="the shop's imports and how far they got", parents=[common],
                                 description="List a shop's imports: options, position, counts, status.")
    status.add_argument("shop_id", metavar="SHOP_ID")
    status.set_defaults(handler=cmd_import_status)

    health = commands.add_parser("webhook-health", help="a shop's webhook deliveries, failures and missed orders",
                                 parents=[common], description="What GET /admin/shops/SHOP_ID/webhook-health shows.")
    health.add_argument("shop_id", metavar="SHOP_ID")
    health.set_defaults(handler=cmd_webhook_health)

    reconcile = commands.add_parser(
        "reconcile", help="fetch the shop's orders changed since the checkpoint and apply what webhooks missed",
        parents=[common], description="Run the reconciliation job for one shop now (the hourly schedule does it "
                                      "for every shop with platform API credentials).")
    reconcile.add_argument("shop_id", metavar="SHOP_ID")
    reconcile.add_argument("--since", metavar="DATE", help="read orders changed since DATE instead of the checkpoint")
    reconcile.add_argument("--now", metavar="ISO", help="the moment to run at")
    reconcile.set_defaults(handler=cmd_reconcile)

    outbox = commands.add_parser(
        "outbox", help="e-mails the local stack has sent", parents=[common],
        description="List what the local stack sent through the emulator's SES; --json prints each message "
                    "with its headers and raw MIME; --export DIR writes each as .eml and .html.")
    outbox.add_argument("--export", metavar="DIR", help="write every message as DIR/NNN-subject.eml and .html")
    outbox.set_defaults(handler=cmd_outbox)
    return parser


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "limit", None) is not None:
        if not args.history:
            parser.error("--limit goes with --history")
        if not 1 <= args.limit <= 100:
            parser.error("--limit: must be from 1 to 100")
    if args.command == "import" and not 1 <= args.workers <= 32:
        parser.error("--workers: must be from 1 to 32")
    if args.command == "send-sample":
        if args.repeat < 1:
            parser.error("--repeat: must be at least 1")
        if args.quantity < 0:
            parser.error("--quantity: cannot be negative")
        if not args.refund_of and (args.refund_id or args.line != "1" or args.quantity != 1):
            parser.error("--refund-id, --line and --quantity go with --refund-of")
        if args.order_id and (args.refund_of or args.cancel):
            parser.error("--order-id is for paid orders; --refund-of / --cancel name their order themselves")
    return args


def run(args: argparse.Namespace) -> int:
    """Run parsed arguments against the environment as it is now; returns the exit code."""
    from chalicelib.errors import ServiceError

    try:
        result = args.handler(args)
    except ServiceError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - connection problems deserve a hint, not a traceback
        message = _store_problem(error)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1
    if getattr(args, "json", False):
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        print_human(args, result)
    if args.command == "send-sample" and any(r["status"] >= 300 for r in result["responses"]):
        return 1
    return 0


def _store_problem(error: Exception) -> Optional[str]:
    """A readable message for errors reaching DynamoDB, or None for anything else."""
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    if not isinstance(error, (PynamoDBException, BotoCoreError, ClientError)):
        return None
    from chalicelib.composition import dependencies

    table = dependencies().config.table_name
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    text = str(getattr(error, "cause", None) or error)
    if "ResourceNotFound" in text or "non-existent table" in text or "Requested resource not found" in text:
        return f"table {table} does not exist" + (f" at {endpoint}" if endpoint else "")
    if endpoint and ("Could not connect" in text or "Connection refused" in text or "EndpointConnection" in text):
        return f"cannot reach the AWS emulator at {endpoint}; is the local stack running (make run)?"
    return f"DynamoDB ({table}): {text}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        configure_environment(args)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
