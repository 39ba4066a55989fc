"""Who may receive a shop's test e-mails: only addresses whose owners confirmed them.

A marketer adds an address; we send it one confirmation e-mail (from the shop's verified
sender, through the configuration set) with a signed link; the owner opens it and presses
Confirm (a GET only shows the page, so a link scanner that follows links confirms nothing).
Test sends and confirmation mails together are limited per shop and hour, with one counter
in DynamoDB that every Lambda instance shares (429 with Retry-After).
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Optional

from chalicelib.mail.pages import document, escape
from chalicelib.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests
from chalicelib.mail import tokens
from chalicelib.store.templates.test_recipients import CONFIRMED, PENDING, TestRecipient, take_test_send

logger = logging.getLogger("loyalty.test_recipients")

MAX_RECIPIENTS = 25
CONFIRMATION_VALIDITY = timedelta(days=7)
RESEND_AFTER = timedelta(minutes=10)  # asking again sooner does not mail the address again
WINDOW_SECONDS = 3600
CONFIRM_PATH = "/test-recipients/confirm/"


# -- the marketer's list ---------------------------------------------------------------------------

def list_recipients(deps, shop_id: str) -> dict:
    from chalicelib.services.shops.lookup import load_shop

    load_shop(deps, shop_id)
    return {"recipients": [_view(r) for r in sorted(deps.repos.test_recipients(shop_id).all(), key=lambda r: r.email)],
            "limit": MAX_RECIPIENTS}


def add_recipient(deps, shop_id: str, body: dict, requested_by: str, *, now: Optional[datetime] = None,
                  messenger=None) -> tuple[int, dict]:
    """List an address and mail it a confirmation link. 202 when a confirmation went out,
    200 when the address is confirmed already or was mailed a moment ago."""
    from chalicelib.services.shops.lookup import load_shop

    shop = load_shop(deps, shop_id)
    now = now or deps.clock()
    unknown = sorted(set(body) - {"email"})
    if unknown:
        raise BadRequest(f"{unknown[0]}: not a field here (email)", field=unknown[0])
    email = normalise_address(body.get("email"), "email")
    store = deps.repos.test_recipients(shop_id)
    existing = store.get(email)
    if existing is not None and existing.status == CONFIRMED:
        return 200, _view(existing)
    if existing is not None and existing.confirmation_sent_at and existing.confirmation_sent_at > now - RESEND_AFTER:
        return 200, _view(existing)
    if existing is None and len(store.all()) >= MAX_RECIPIENTS:
        raise Conflict(f"email: a shop may list at most {MAX_RECIPIENTS} test recipients; remove one first",
                       field="email", reason="too_many_recipients")
    require_sender_ready(deps, shop, now)
    recipient = existing or TestRecipient(shop_id=shop_id, email=email, status=PENDING,
                                          nonce=secrets.token_urlsafe(12), requested_at=now,
                                          requested_by=requested_by)
    recipient.confirmation_sent_at = now
    raw = _confirmation_message(deps, shop, recipient, now)  # an address no message can carry is refused before any write
    take_test_send_slot(deps, shop_id, now)
    store.save(recipient)
    _send(deps, shop, recipient, raw, messenger)
    return 202, _view(recipient)


def remove_recipient(deps, shop_id: str, email: str) -> dict:
    from chalicelib.services.shops.lookup import load_shop

    load_shop(deps, shop_id)
    address = normalise_address(email, "email")
    store = deps.repos.test_recipients(shop_id)
    if store.get(address) is None:
        raise NotFound(f"email: {address} is not a test recipient of this shop", field="email")
    store.remove(address)
    return {"email": address, "removed": True}


# -- what a test send checks ------------------------------------------------------------------------

def require_confirmed(deps, shop_id: str, email: str) -> str:
    """The address in its stored form, if the shop's list has it confirmed; 403 otherwise."""
    address = normalise_address(email, "to")
    recipient = deps.repos.test_recipients(shop_id).get(address)
    if recipient is None or recipient.status != CONFIRMED:
        state = "has not confirmed yet" if recipient is not None else "is not one of the shop's test recipients"
        raise Forbidden(f"to: {address} {state}; test e-mails go only to addresses their owners confirmed "
                        "(POST /admin/shops/{shop}/test-recipients)", field="to", reason="recipient_unconfirmed")
    return address


def require_sender_ready(deps, shop, now: datetime) -> None:
    from chalicelib.services.shops.sender_domains import hold_reason

    reason = hold_reason(deps, shop, now=now)
    if reason is not None:
        raise Conflict(f"sender_email: {shop.sender_email} cannot send yet ({reason.replace('_', ' ')}): its domain "
                       "must be registered by this shop and verified by SES (GET /admin/shops/{shop}/sender-domains)",
                       field="sender_email", reason=reason)


def take_test_send_slot(deps, shop_id: str, now: datetime) -> None:
    limit = deps.config.test_sends_per_hour
    second = int(now.timestamp())
    window_start = second - second % WINDOW_SECONDS
    if not take_test_send(shop_id, window_start, WINDOW_SECONDS, limit):
        raise TooManyRequests(f"a shop may send {limit} test e-mails (confirmations included) an hour; "
                              "try again later", retry_after=window_start + WINDOW_SECONDS - second,
                              reason="test_send_limit")


def normalise_address(value: object, field: str) -> str:
    from chalicelib.domain.shops.sender_domains import DomainRejected, normalise_domain

    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 254:
        raise BadRequest(f"{field}: an e-mail address (at most 254 characters)", field=field)
    local, _, domain = value.strip().rpartition("@")
    if not local or any(c.isspace() or c in '<>"(),;:[]\\' or ord(c) < 32 for c in local) or len(local) > 64:
        raise BadRequest(f"{field}: not an e-mail address", field=field)
    try:
        domain = normalise_domain(domain)
    except DomainRejected as error:
        raise BadRequest(f"{field}: not an e-mail address ({error})", field=field) from None
    return f"{local}@{domain}"


# -- the owner's confirmation ------------------------------------------------------------------------

def confirm_page(deps, token: str, *, now: Optional[datetime] = None) -> tuple[int, str]:
    """``GET``: shows what is being confirmed, with the button; changes nothing."""
    found = _resolve(deps, token, now or deps.clock())
    if isinstance(found[0], int):  # the page that says why the link does not work
        return found
    shop, confirmation = found
    body = (f"<h1>Receive test e-mails from {escape(shop.name or shop.shop_id)}?</h1>\n"
            f"<p>The shop's marketers asked to send test e-mails (drafts of their newsletters and notices) to "
            f"<strong>{escape(confirmation.email)}</strong>. Confirm only if you are one of them.</p>\n"
            '<form method="post"><button class="primary" type="submit">Confirm</button></form>\n'
            '<p class="muted">If you did not expect this, ignore it: nothing is sent to you without the button.</p>\n')
    return 200, document("en", "Confirm test e-mails", body, shop=shop)


def confirm_post(deps, token: str, *, now: Optional[datetime] = None) -> tuple[int, str]:
    now = now or deps.clock()
    found = _resolve(deps, token, now)
    if isinstance(found[0], int):
        return found
    shop, confirmation = found
    if not deps.repos.test_recipients(shop.shop_id).confirm(confirmation.email, confirmation.nonce, now):
        return _gone()
    logger.info("test recipient confirmed for shop %s", shop.shop_id)
    body = (f"<h1>Confirmed</h1>\n<p>{escape(confirmation.email)} now receives the test e-mails of "
            f"{escape(shop.name or shop.shop_id)}. The shop can remove it from its list at any time.</p>\n")
    return 200, document("en", "Confirmed", body, shop=shop)


def _resolve(deps, token: str, now: datetime):
    from chalicelib.errors import NotFound as ShopMissing
    from chalicelib.services.shops.lookup import load_shop

    confirmation = deps.tokens.read_recipient_confirmation(token)
    if confirmation is None:
        return 404, document("en", "This link does not work",
                             "<h1>This link does not work</h1>\n<p>It may be incomplete: copy the whole link "
                             "from the e-mail.</p>\n")
    if confirmation.expires_at < now:
        return _gone()
    try:
        shop = load_shop(deps, confirmation.shop_id)
    except ShopMissing:
        return _gone()
    recipient = deps.repos.test_recipients(shop.shop_id).get(confirmation.email)
    if recipient is None or recipient.nonce != confirmation.nonce:
        return _gone()
    return shop, confirmation


def _gone() -> tuple[int, str]:
    return 410, document("en", "This link has expired",
                         "<h1>This link has expired</h1>\n<p>Ask the shop to add your address again: a new "
                         "e-mail with a new link will follow.</p>\n")


def _confirmation_message(deps, shop, recipient: TestRecipient, now: datetime) -> bytes:
    from chalicelib.mail.mime import InvalidAddress, build_message

    token = deps.tokens.make_recipient_confirmation(tokens.RecipientConfirmation(
        shop.shop_id, recipient.email, recipient.nonce, now + CONFIRMATION_VALIDITY))
    link = f"{deps.config.public_url}{CONFIRM_PATH}{token}"
    name = shop.name or shop.shop_id
    text = (f"The marketers of {name} want to send their test e-mails to this address.\n\n"
            f"Confirm it here (the link works for 7 days):\n{link}\n\n"
            "If you did not expect this, ignore this e-mail: nothing more is sent to you.\n")
    html = (f"<p>The marketers of {escape(name)} want to send their test e-mails to this address.</p>"
            f'<p><a href="{escape(link)}">Confirm this address</a> (the link works for 7 days).</p>'
            "<p>If you did not expect this, ignore this e-mail: nothing more is sent to you.</p>")
    try:
        return build_message(from_name=name, from_address=shop.sender_email, to_address=recipient.email,
                             subject=f"Confirm test e-mails from {name}", html=html, text=text, now=now)
    except InvalidAddress as error:
        raise BadRequest(f"email: {error}", field="email") from None


def _send(deps, shop, recipient: TestRecipient, raw: bytes, messenger) -> None:
    from chalicelib.mail.messenger import SendError

    try:
        (messenger or deps.messenger).send_raw(
            sender=shop.sender_email, recipient=recipient.email, raw=raw, configuration_set=deps.config.ses_configuration_set,
            tags={"shop": shop.shop_id, "template": "test_recipient_confirmation", "category": "test"})
    except SendError as error:
        raise BadRequest(f"email: the confirmation could not be sent ({error})", field="email") from None


def _view(recipient: TestRecipient) -> dict:
    return {"email": recipient.email, "status": recipient.status,
            "requested_at": recipient.requested_at.isoformat(), "requested_by": recipient.requested_by,
            "confirmation_sent_at": recipient.confirmation_sent_at.isoformat()
            if recipient.confirmation_sent_at else None,
            "confirmed_at": recipient.confirmed_at.isoformat() if recipient.confirmed_at else None}
