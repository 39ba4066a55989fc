"""What the local stack has sent: the emulator's SES outbox, read back as e-mails."""
from __future__ import annotations

import email
import email.policy
import json
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass
class SentMail:
    message_id: str
    sender: str
    recipients: list[str]
    raw: str

    @property
    def parsed(self) -> email.message.EmailMessage:
        return email.message_from_string(self.raw, policy=email.policy.default)

    @property
    def subject(self) -> str:
        return str(self.parsed["Subject"] or "")

    def part(self, content_type: str) -> str:
        body = self.parsed.get_body(preferencelist=(content_type.split("/")[1],))
        return body.get_content() if body is not None else ""

    def headers(self) -> dict[str, str]:
        return {name: str(value) for name, value in self.parsed.items()}


def sent_mail(emulator_url: str) -> list[SentMail]:
    """Every message the emulator's SES accepted, oldest first."""
    from urllib.parse import urlsplit

    from devstack.emulator import IN_PROCESS_PORTS

    if urlsplit(emulator_url).port in IN_PROCESS_PORTS:
        # The emulator runs in this process (tests, benchmarks): read its SES directly. Its
        # whole-state dump walks every item ever written in the session and, late in a full
        # test session on a busy machine, took more than a minute.
        from moto.ses.models import RawMessage

        messages = [vars(message) for message in RawMessage.instances_tracked]
    else:
        with urllib.request.urlopen(f"{emulator_url}/moto-api/data.json", timeout=120) as response:
            messages = json.load(response).get("ses", {}).get("RawMessage", [])
    return [SentMail(m["id"], m["source"], sorted(set(m["destinations"])), m["raw_data"]) for m in messages]


def export(mails: list[SentMail], directory: Path) -> list[Path]:
    """Write each message as .eml (to open in a mail client) and .html (to open in a browser)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for number, mail in enumerate(mails, start=1):
        stem = f"{number:03d}-{_slug(mail.subject)}"
        eml, html = directory / f"{stem}.eml", directory / f"{stem}.html"
        eml.write_text(mail.raw, encoding="utf-8")
        html.write_text(mail.part("text/html"), encoding="utf-8")
        written += [eml, html]
    return written


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-").lower()[:50] or "message"
