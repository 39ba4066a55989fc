"""What every scenario does against the running local stack: sign and post webhooks to the API,
then wait for the e-mails the stack's queue worker sends and print them."""
from __future__ import annotations

import json
import os
import secrets
import sys
import time
from typing import Iterable, Optional

from devstack import cli, samples
from devstack.sent_mail import SentMail, sent_mail

SHOP_ID = "demo-shop"
MAIL_WAIT_SECONDS = 30


class Stack:
    """The running local stack, seen from a second process."""

    def __init__(self, shop_id: str = SHOP_ID):
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(cli.local_environment())
        from chalicelib import composition

        composition.reset()
        self.deps = composition.dependencies()
        stored = self.deps.repos.shops().get(shop_id)
        if stored is None:
            sys.exit(f"no shop {shop_id!r} on the local stack: start it first with `make run`")
        self.shop_id, self.secret = shop_id, stored.secrets["webhook_secret"]
        self.api, self.emulator = cli.local_api_url(), cli.local_emulator_url()
        self._seen = len(sent_mail(self.emulator))

    def webhook(self, platform: str, payload: dict, *, topic: Optional[str] = None, label: str = "",
                event_id: Optional[str] = None) -> dict:
        headers, body = samples.signed_request(platform, self.secret, payload, topic=topic, event_id=event_id)
        status, answer = cli.http_request("POST", f"{self.api}/webhooks/{platform}/{self.shop_id}", body, headers)
        print(f"→ {label or topic}: HTTP {status} {json.dumps(answer, ensure_ascii=False)[:240]}", flush=True)
        return answer

    def admin(self, method: str, path: str, body=None) -> dict:
        token = os.environ.get("LOYALTY_ADMIN_TOKEN", "local-admin-token")
        raw = json.dumps(body).encode() if body is not None else None
        status, answer = cli.http_request(method, f"{self.api}{path}", raw,
                                          {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        if status >= 300:
            sys.exit(f"{method} {path}: HTTP {status} {answer}")
        return answer

    def enable_flow(self, flow_id: str) -> dict:
        flow = self.admin("GET", f"/admin/shops/{self.shop_id}/flow-definitions/{flow_id}")
        if not flow["enabled"]:
            flow = self.admin("PUT", f"/admin/shops/{self.shop_id}/flow-definitions/{flow_id}", {**flow, "enabled": True})
        print(f"→ flow {flow_id!r} enabled: trigger {flow['trigger']['kind']}, "
              f"steps {[step['type'] for step in flow['steps']]}", flush=True)
        return flow

    def run_flows(self, at, label: str) -> dict:
        """The flows schedule as it would run at ``at`` (the stack's queue worker sends what it queues)."""
        from chalicelib.services.flows.runner import run_due_flows
        from chalicelib.services.shops.lookup import load_shop

        report = run_due_flows(self.deps, [load_shop(self.deps, self.shop_id)], at)
        print(f"→ schedule at {label} ({at:%Y-%m-%d %H:%M} UTC): {report}", flush=True)
        return report

    def funnel(self, flow_id: str) -> None:
        flow = self.admin("GET", f"/admin/shops/{self.shop_id}/flow-definitions/{flow_id}")
        funnel = flow["funnel"]
        print(f"Funnel of {flow_id!r}: started {funnel['started']}, completed {funnel['completed']}")
        for step, definition in zip(funnel["steps"], flow["steps"]):
            print(f"  step {step['step']} {definition['type']:<9} reached {step['reached']:>3}  sent {step['sent']:>3}"
                  f"  left here {step['exited']:>3}")

    def new_mail(self, expected: int, recipients: Iterable[str]) -> list[SentMail]:
        """The e-mails sent since the last call to the given addresses (waits for ``expected``)."""
        wanted = set(recipients)
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while True:
            mails = sent_mail(self.emulator)[self._seen:]
            mine = [mail for mail in mails if wanted & set(mail.recipients)]
            if len(mine) >= expected or time.monotonic() > deadline:
                self._seen += len(mails)
                return mine
            time.sleep(0.5)

    def print_mail(self, mails: list[SentMail]) -> None:
        for mail in mails:
            print("\n" + "=" * 78)
            print(f"To: {', '.join(mail.recipients)}\nSubject: {mail.subject}")
            print("-" * 78)
            print(mail.part("text/plain").strip().split("\n--\n")[0])
        if not mails:
            print("(no e-mail)")
        print("=" * 78, flush=True)


def fresh_id() -> str:
    return str(6_000_000_000 + secrets.randbelow(999_999_999))


def fresh_email(name: str) -> str:
    return f"{name}+{secrets.token_hex(3)}@example.com"
