"""E-mail addresses: what counts as one, and the one spelling a customer is keyed by.

The same person reaches us as ``Kunde@Bücher.example`` from one platform,
``kunde@xn--bcher-kva.example`` from another and ``kunde%40b%C3%BCcher.example``
in a storefront's URL. All of them must find the same account, so every address
is reduced to one canonical form before it is keyed or stored: the local part
in Unicode NFC and lower case, the domain in its Unicode (IDNA 2008, UTS 46)
form. Plus addressing (``bob+shop@``) is a different mailbox and stays as it is.

Validation is email-validator's syntax check (no DNS): Unicode local parts
(SMTPUTF8) and internationalised domains are accepted; quoted local parts,
IP-literal domains and special-use names (``.local``, ``.test``, ``.invalid``)
are not, since no shop's customer has one.
"""
from __future__ import annotations

import functools
from typing import Optional

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254


@functools.lru_cache(maxsize=4096)
def _checked(text: str) -> tuple[Optional[str], Optional[str]]:
    """(canonical form, None) or (None, reason)."""
    if len(text) > MAX_LENGTH:
        return None, f"longer than {MAX_LENGTH} characters"
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        return None, _reason(str(error))
    return f"{valid.local_part.lower()}@{valid.domain.lower()}", None


def _reason(message: str) -> str:
    # email-validator's sentences, as one lower-case clause after "email: ".
    message = message.rstrip(".")
    return message[:1].lower() + message[1:]


def canonical_email(text: Optional[str]) -> Optional[str]:
    """The canonical spelling of a valid address; None when it is not one."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _checked(text.strip())[0]


def email_problem(text: Optional[str]) -> Optional[str]:
    """Why ``text`` is not a usable e-mail address (None: it is one). Never repeats the value,
    which is personal data."""
    if not isinstance(text, str) or not text.strip():
        return "required"
    return _checked(text.strip())[1]


def normalize_email(text: str) -> str:
    """The form a customer is keyed by: canonical when valid; otherwise trimmed and lower-cased,
    as addresses were keyed before they were validated (so such a customer is still found)."""
    return canonical_email(text) or text.strip().lower()
