"""Raw MIME for one recipient: multipart/alternative (text/plain + text/html).

Built with the standard library's ``email`` package under an SMTP policy
(CRLF line ends, headers folded at 78 characters, non-ASCII display names and
subjects as RFC 2047 encoded words). Bodies are UTF-8 in quoted-printable, so
the message is 7-bit clean. The HTML already carries its hidden preheader.

Marketing mail gets RFC 2369 / RFC 8058 headers::

    List-Unsubscribe: <https://…/u/TOKEN>, <mailto:…?subject=unsubscribe%20TOKEN>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click

The ``email`` package would turn a long, unbreakable URL header into encoded
words (which mail clients then fail to read as URLs), so ``List-*`` headers are
written verbatim, folded only between the URIs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from typing import Optional

ONE_CLICK = "List-Unsubscribe=One-Click"
_VERBATIM_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class InvalidAddress(ValueError):
    """An address that cannot be written into a message header."""


class _Policy(EmailPolicy):
    """SMTP policy that leaves the List-* headers as written (only ASCII URIs go there)."""

    def fold(self, name, value):
        if name.lower() in _VERBATIM_HEADERS:
            return self._verbatim(name, value)
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if name.lower() in _VERBATIM_HEADERS:
            return self._verbatim(name, value).encode("ascii")
        return super().fold_binary(name, value)

    def _verbatim(self, name, value) -> str:
        parts = [part.strip() for part in str(value).split(",")]
        return f"{name}: " + ("," + self.linesep + " ").join(parts) + self.linesep


POLICY = _Policy(linesep="\r\n")


@dataclass(frozen=True)
class ListUnsubscribe:
    """Where a recipient (or their mail client) unsubscribes."""

    url: str
    mailto: Optional[str] = None  # mailto: URI, e.g. mailto:unsubscribe@…?subject=…

    def header(self) -> str:
        uris = [self.url] + ([self.mailto] if self.mailto else [])
        for uri in uris:
            if not uri.isascii() or any(c in uri for c in "<>, \t\r\n"):
                raise ValueError(f"not usable in List-Unsubscribe: {uri!r}")
        return ", ".join(f"<{uri}>" for uri in uris)


def build_message(*, from_name: str, from_address: str, to_address: str, subject: str, html: str, text: str,
                  now: datetime, list_unsubscribe: Optional[ListUnsubscribe] = None,
                  message_id_domain: Optional[str] = None) -> bytes:
    """The raw message as bytes, ready for SES ``Content.Raw.Data``."""
    message = EmailMessage(policy=POLICY)
    message["From"] = _address(from_address, _one_line(from_name))
    message["To"] = _address(to_address, "")
    message["Subject"] = _one_line(subject)
    message["Date"] = format_datetime(now.astimezone(timezone.utc))
    message["Message-ID"] = make_msgid(domain=message_id_domain or from_address.rpartition("@")[2])
    if list_unsubscribe is not None:
        message["List-Unsubscribe"] = list_unsubscribe.header()
        message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(_lines(text), subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(_lines(html), subtype="html", charset="utf-8", cte="quoted-printable")
    for part in message.iter_parts():
        del part["MIME-Version"]  # only the top level carries it
    return message.as_bytes()


def _address(addr_spec: str, display_name: str) -> Address:
    addr_spec = (addr_spec or "").strip()
    local, at, domain = addr_spec.rpartition("@")
    if not at or not local or not domain or _CONTROL.search(addr_spec) or any(c in addr_spec for c in " <>,\"()"):
        raise InvalidAddress(f"not an e-mail address: {addr_spec!r}")
    if not local.isascii():
        raise InvalidAddress("non-ASCII local parts (SMTPUTF8) cannot be sent")
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
        return Address(display_name=display_name, username=local, domain=domain)
    except (UnicodeError, ValueError) as error:
        raise InvalidAddress(f"not an e-mail address: {addr_spec!r}") from error


def _one_line(value: str) -> str:
    """Header text on one line: no CR/LF (header injection) or other control characters."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def _lines(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    return body if body.endswith("\n") else body + "\n"
