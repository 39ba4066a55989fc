"""Raw MIME for one recipient: multipart/alternative (text/plain + text/html), at render speed.

The message is the one the standard library's ``email`` package writes under an SMTP policy
(CRLF line ends, headers folded at 78 characters, non-ASCII display names and subjects as
RFC 2047 encoded words, UTF-8 bodies in quoted-printable, 7-bit clean), but built from a
``Skeleton`` prepared once per sender: the From header (encoded by the ``email`` package
itself), the boundary and every static header and part header are written once; per recipient
only To, Subject, Date, Message-ID, the List-Unsubscribe URIs and the two bodies are filled in
(bodies through ``binascii.b2a_qp``, in C). Building the message object per recipient cost
about ten times the render it wraps. tests/unit/test_mime.py parses the result with the
standard library and holds it to the ``email`` package's own message.

Marketing mail gets RFC 2369 / RFC 8058 headers::

    List-Unsubscribe: <https://…/u/TOKEN>, <mailto:…?subject=unsubscribe%20TOKEN>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click

written verbatim and folded only between the URIs (the ``email`` package would turn a long,
unbreakable URL into encoded words, which mail clients then fail to read as URLs).
"""
from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from email.headerregistry import Address
from email.utils import format_datetime
from functools import lru_cache
from typing import Optional

ONE_CLICK = "List-Unsubscribe=One-Click"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_CRLF = "\r\n"
# A header line may hold 78 characters; an encoded word adds "=?utf-8?b?" and "?=" to its base64.
_ENCODED_WORD_BYTES = 42  # 56 base64 characters: "Subject: =?utf-8?b?" + 56 + "?=" is 77
_ASCII_WORD = re.compile(r"^[\x21-\x7e]+$")
_NEEDS_ENCODING = re.compile(r"[^\x20-\x7e]|=\?")


class InvalidAddress(ValueError):
    """An address that cannot be written into a message header."""


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

    def folded(self) -> str:
        """The header's lines, folded between the URIs only."""
        return ("List-Unsubscribe: " + ("," + _CRLF + " ").join(self.header().split(", ")) + _CRLF
                + f"List-Unsubscribe-Post: {ONE_CLICK}{_CRLF}")


@dataclass(frozen=True)
class Skeleton:
    """What every message from one sender shares, encoded once."""

    from_header: str  # "From: …\r\n", folded and encoded
    message_id_domain: str
    boundary: str

    def build(self, *, to_address: str, subject: str, html: str, text: str, now: datetime,
              list_unsubscribe: Optional[ListUnsubscribe] = None, reply_to: Optional[str] = None) -> bytes:
        headers = [self.from_header, "To: ", _address(to_address, "").addr_spec, _CRLF]
        if reply_to:
            headers += ["Reply-To: ", _address(reply_to, "").addr_spec, _CRLF]
        headers += [
                   _subject_header(_one_line(subject)),
                   "Date: ", format_datetime(now.astimezone(timezone.utc)), _CRLF,
                   "Message-ID: <", secrets.token_hex(16), "@", self.message_id_domain, ">", _CRLF]
        if list_unsubscribe is not None:
            headers.append(list_unsubscribe.folded())
        boundary = self.boundary
        head = "".join(headers) + (
            f'MIME-Version: 1.0{_CRLF}Content-Type: multipart/alternative;{_CRLF} boundary="{boundary}"{_CRLF}{_CRLF}'
            f"--{boundary}{_CRLF}{_PART_HEADERS.format(subtype='plain')}{_CRLF}")
        # The CRLF before a delimiter belongs to the delimiter (RFC 2046), not to the body.
        middle = f"{_CRLF}--{boundary}{_CRLF}{_PART_HEADERS.format(subtype='html')}{_CRLF}"
        tail = f"{_CRLF}--{boundary}--{_CRLF}"
        return b"".join((head.encode("ascii"), _quoted_printable(text), middle.encode("ascii"),
                         _quoted_printable(html), tail.encode("ascii")))


_PART_HEADERS = ('Content-Type: text/{subtype}; charset="utf-8"' + _CRLF
                 + "Content-Transfer-Encoding: quoted-printable" + _CRLF)


@lru_cache(maxsize=256)
def skeleton(from_name: str, from_address: str, message_id_domain: Optional[str] = None) -> Skeleton:
    """The prepared parts of one sender's messages (cached: a shop sends many)."""
    from email.message import EmailMessage
    from email.policy import SMTP

    # The From header exactly as the email package encodes and folds it: done once per sender.
    holder = EmailMessage(policy=SMTP)
    holder["From"] = _address(from_address, _one_line(from_name))
    from_header = SMTP.fold("From", holder["From"])
    domain = message_id_domain or _address(from_address, "").domain
    # A random boundary per sender: bodies are quoted-printable, whose lines can never hold
    # "=_" followed by these 32 hex digits unencoded ("=" is always written "=3D").
    return Skeleton(from_header=from_header, message_id_domain=domain, boundary=f"=_{secrets.token_hex(16)}")


def build_message(*, from_name: str, from_address: str, to_address: str, subject: str, html: str, text: str,
                  now: datetime, list_unsubscribe: Optional[ListUnsubscribe] = None,
                  message_id_domain: Optional[str] = None, reply_to: Optional[str] = None) -> bytes:
    """The raw message as bytes, ready for SES ``Content.Raw.Data``."""
    return skeleton(from_name or "", from_address, message_id_domain).build(
        to_address=to_address, subject=subject, html=html, text=text, now=now, list_unsubscribe=list_unsubscribe,
        reply_to=reply_to)


def _subject_header(subject: str) -> str:
    if not _NEEDS_ENCODING.search(subject):
        return _fold_ascii("Subject", subject)
    return "Subject: " + (_CRLF + " ").join(_encoded_words(subject)) + _CRLF


def _fold_ascii(name: str, value: str) -> str:
    """Folds at spaces so no line passes 78 characters; a word longer than a line stays whole
    (RFC 5322 allows up to 998), as the email package leaves it."""
    if not value:
        return f"{name}: {_CRLF}"
    lines, line = [], f"{name}:"
    for word in value.split(" "):
        if line and len(line) + 1 + len(word) > 78 and line != f"{name}:":
            lines.append(line)
            line = ""
        line = f"{line} {word}"
    lines.append(line)
    return _CRLF.join(lines) + _CRLF


def _encoded_words(value: str) -> list[str]:
    """RFC 2047 base64 encoded words of UTF-8, split on character boundaries: each word the most
    whole characters that fit in ``_ENCODED_WORD_BYTES`` (a cut never lands on a UTF-8 continuation
    byte, 0b10xxxxxx)."""
    data, words, start = value.encode("utf-8"), [], 0
    while start < len(data):
        end = start + _ENCODED_WORD_BYTES
        if end < len(data):
            while data[end] & 0xC0 == 0x80:
                end -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[start:end]).decode('ascii')}?=")
        start = end
    return words


def _quoted_printable(body: str) -> bytes:
    body = body or ""
    if "\r" in body:  # a rendered body has none: two scans of ~28 kB saved (0.03 ms)
        body = body.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    encoded = binascii.b2a_qp(body.encode("utf-8"), quotetabs=False, istext=True, header=False)
    # b2a_qp keeps the input's line ends: make them CRLF, and quote a line that starts "From "
    # (mbox readers would mangle it) or is a lone "." (SMTP's end of data), as the email package does.
    encoded = encoded.replace(b"\n", b"\r\n")
    if b"From " in encoded or b"\r\n.\r\n" in encoded or encoded.startswith(b".\r\n"):
        encoded = re.sub(rb"(?m)^(From |\.\r$)", lambda m: b"=" + format(m.group(1)[0], "02X").encode() + m.group(1)[1:],
                         encoded)
    return encoded


def envelope_address(addr_spec: str) -> str:
    """The address as SES takes it, in its envelope and in the message's headers: 7-bit ASCII,
    an internationalised domain in IDNA 2008 (UTS #46) punycode, the form customers' domains are
    validated in (domain/email_address.py). Python's own "idna" codec is IDNA 2003, which maps
    ``straße.de`` to ``strasse.de``: another domain, someone else's inbox."""
    return _address(addr_spec, "").addr_spec


def _address(addr_spec: str, display_name: str) -> Address:
    addr_spec = (addr_spec or "").strip()
    local, at, domain = addr_spec.rpartition("@")
    if not at or not local or not domain or _CONTROL.search(addr_spec) or any(c in addr_spec for c in " <>,\"()"):
        raise InvalidAddress(f"not an e-mail address: {addr_spec!r}")
    if not local.isascii():
        raise InvalidAddress("non-ASCII local parts (SMTPUTF8) cannot be sent")
    try:
        return Address(display_name=display_name, username=local, domain=_ascii_domain(domain))
    except (UnicodeError, ValueError) as error:
        raise InvalidAddress(f"not an e-mail address: {addr_spec!r}") from error


@lru_cache(maxsize=1024)
def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain
    import idna

    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ValueError(str(error)) from error


def _one_line(value: str) -> str:
    """Header text on one line: no CR/LF (header injection) or other control characters."""
    return " ".join(_CONTROL.sub(" ", value or "").split())
