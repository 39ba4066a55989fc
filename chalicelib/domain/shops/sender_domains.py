"""Sending domains: which names a shop may claim, the DNS records it publishes, and what
SES's answer about an identity means for sending. Plain rules, no I/O.

A domain is kept in one form everywhere: lower case, IDNA 2008 (UTS #46) punycode, no
trailing dot (``Пример.РФ`` → ``xn--e1afmkfd.xn--p1ai``), because SES, DNS and DKIM all
speak punycode and two spellings of one domain must never be two claims.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

MAX_DOMAIN_LENGTH = 253
# Labels a sending domain may have below the domain its owner registered (news.mail.shop.example: 2).
MAX_SUBDOMAIN_DEPTH = 4
DEFAULT_MAIL_FROM_LABEL = "bounce"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

VERIFIED, PENDING, FAILED, NOT_STARTED = "verified", "pending", "failed", "not_started"


class DomainRejected(ValueError):
    """Not a domain a shop can send from; the message is the reason."""


def normalise_domain(text: object) -> str:
    """The domain in its one stored form, or ``DomainRejected`` with the reason."""
    if not isinstance(text, str) or not text.strip():
        raise DomainRejected("a domain name is required, like shop.example")
    candidate = text.strip().rstrip(".")
    if "://" in candidate or "/" in candidate or "@" in candidate or ":" in candidate:
        raise DomainRejected("only the domain name, like shop.example (no scheme, path, port or address)")
    try:
        import idna

        ascii_form = idna.encode(candidate, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError) as error:
        raise DomainRejected(f"not a valid (internationalised) domain name: {error}") from None
    ascii_form = ascii_form.lower()
    if len(ascii_form) > MAX_DOMAIN_LENGTH:
        raise DomainRejected(f"longer than {MAX_DOMAIN_LENGTH} characters")
    labels = ascii_form.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise DomainRejected("not a domain name: letters, digits and '-' in dot-separated labels, like shop.example")
    if labels[-1].isdigit():
        raise DomainRejected("an IP address cannot send mail through SES; use a domain name")
    registered = registered_domain(ascii_form)
    if registered is None:
        raise DomainRejected(f"{ascii_form} is a public suffix (like co.uk or github.io): name your own domain")
    if len(labels) - len(registered.split(".")) > MAX_SUBDOMAIN_DEPTH:
        raise DomainRejected(f"at most {MAX_SUBDOMAIN_DEPTH} labels below {registered}")
    return ascii_form


def normalise_mail_from_label(text: object) -> str:
    if text is None:
        return DEFAULT_MAIL_FROM_LABEL
    if not isinstance(text, str) or not _LABEL.match(text.strip().lower()):
        raise DomainRejected("one DNS label (letters, digits, '-'), like bounce")
    return text.strip().lower()


def registered_domain(domain: str) -> Optional[str]:
    """The domain its owner registered (``shop.example`` for ``news.shop.example``), by the
    Public Suffix List; None for a public suffix itself."""
    return _psl().privatesuffix(domain)


def parent_domains(domain: str) -> list[str]:
    """The domain's parents down to the registered domain, nearest first (none for a registered
    domain): a claim on any of them by another shop covers this one, since SES lets a verified
    domain's identity send from its subdomains."""
    registered = registered_domain(domain)
    if registered is None or registered == domain:
        return []
    labels = domain.split(".")
    parents = []
    for start in range(1, len(labels)):
        parent = ".".join(labels[start:])
        parents.append(parent)
        if parent == registered:
            break
    return parents


def sender_domain(sender_email: str) -> str:
    return sender_email.rsplit("@", 1)[1]


def normalise_sender_email(text: str) -> str:
    """``local@domain`` with the domain in its stored form. The local part stays as typed
    (lower-cased), but must be ASCII: SES sends only from ASCII addresses."""
    local, _, domain = text.strip().rpartition("@")
    if not local or not domain:
        raise DomainRejected("not an e-mail address")
    if not local.isascii() or any(c.isspace() or c in '<>"(),;:[]\\' for c in local) or len(local) > 64:
        raise DomainRejected("the part before @ must be at most 64 ASCII characters without spaces or <>\"(),;:[]\\")
    return f"{local.lower()}@{normalise_domain(domain)}"


@dataclass(frozen=True)
class DnsRecord:
    name: str
    type: str
    value: str
    purpose: str
    required: bool = True

    def as_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "value": self.value, "purpose": self.purpose,
                "required": self.required}


def dns_records(domain: str, dkim_tokens: list[str], mail_from_domain: Optional[str], region: str) -> list[DnsRecord]:
    """What the shop publishes: Easy DKIM's three CNAMEs, the custom MAIL FROM's MX and SPF,
    and a DMARC policy to start with (reports only)."""
    records = [DnsRecord(f"{token}._domainkey.{domain}", "CNAME", f"{token}.dkim.amazonses.com",
                         "DKIM: SES signs the shop's mail with this domain") for token in dkim_tokens]
    if mail_from_domain:
        records += [
            DnsRecord(mail_from_domain, "MX", f"10 feedback-smtp.{region}.amazonses.com",
                      "MAIL FROM: bounces come back to SES (SPF aligns with the From domain)"),
            DnsRecord(mail_from_domain, "TXT", '"v=spf1 include:amazonses.com ~all"',
                      "SPF: SES may send for the MAIL FROM domain"),
        ]
    records.append(DnsRecord(f"_dmarc.{domain}", "TXT", f'"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"',
                             "DMARC (a suggestion): start with reports only, then p=quarantine once they are "
                             "clean; Gmail and Yahoo require DMARC from bulk senders", required=False))
    return records


@dataclass(frozen=True)
class IdentityStatus:
    """SES's word on a domain identity (GetEmailIdentity), reduced to what the shop acts on."""

    verified_for_sending: bool
    dkim_status: str  # PENDING | SUCCESS | FAILED | TEMPORARY_FAILURE | NOT_STARTED
    dkim_tokens: tuple[str, ...]
    mail_from_domain: Optional[str]
    mail_from_status: Optional[str]  # PENDING | SUCCESS | FAILED | TEMPORARY_FAILURE

    @property
    def status(self) -> str:
        if self.verified_for_sending:
            return VERIFIED
        if self.dkim_status == "FAILED":
            return FAILED
        if self.dkim_status == "NOT_STARTED":
            return NOT_STARTED
        return PENDING


def identity_status(answer: dict) -> IdentityStatus:
    """From a GetEmailIdentity (or CreateEmailIdentity) answer."""
    dkim = answer.get("DkimAttributes") or {}
    mail_from = answer.get("MailFromAttributes") or {}
    return IdentityStatus(
        verified_for_sending=bool(answer.get("VerifiedForSendingStatus")),
        dkim_status=str(dkim.get("Status") or "NOT_STARTED"),
        dkim_tokens=tuple(str(token) for token in dkim.get("Tokens") or ()),
        mail_from_domain=mail_from.get("MailFromDomain") or None,
        mail_from_status=mail_from.get("MailFromDomainStatus") or None)


def _psl():
    global _PSL
    if _PSL is None:
        from publicsuffixlist import PublicSuffixList

        _PSL = PublicSuffixList()
    return _PSL


_PSL = None
