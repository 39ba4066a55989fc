"""Sending one e-mail from the send queue: ``send_message``.

The send guarantee
------------------
At least once, with a duplicate only in one narrow case. Each queue message
carries an idempotency key; its send log item (``SEND#{shop}#{key}``) is the
idempotency record:

1. One strongly consistent read (TransactGetItems) of the send log and, for
   marketing, the mail preferences. A send log that is
   ``sent``/``skipped``/``failed`` (or a later delivery state) means the message
   was handled: the answer is ``duplicate`` and nothing is sent. A live claim by
   another worker raises ``SendInProgress`` (a ``TransientSendError``), so the
   queue tries again later instead of dropping the message.
2. The account (profile and point lots: one Query, so the mail can name the
   nearest expiry). Skips (unknown/redacted customer, no address; marketing: no consent,
   unsubscribed, over the shop's cap) are written as ``skipped`` with a reason.
3. The message is rendered and built *before* the claim: a template error marks
   the send ``failed`` and raises ``PoisonMessage`` (the handler lets it go to the
   dead-letter queue, where it is visible).
   A shop whose sender cannot send (its domain not verified, or not its own) gets the
   message *held*: the send log ``held`` with the reason and the message kept, in one
   transaction (``store.held_mail``); it is sent when released (services/shops/sender_domains.py).
4. The claim is one TransactWriteItems: the address is not on the shop's
   suppression list (condition check), the send log becomes ``claimed`` with a
   lease (``LOYALTY_MAIL_LEASE_SECONDS``, default 120 s) if it is new or an
   earlier claim's lease ran out without ``sent``, and for marketing the
   preferences (versioned) get this send's cap slot. Two parallel marketing
   sends racing for the last slot: one commits, the other re-reads and skips.
5. SES ``SendEmail`` (raw MIME, configuration set, tags: shop, template, campaign, customer,
   category and ``send``, the idempotency key encoded by domain/mail/message_tags.py, which SES
   returns in every event so the events find the send log without a lookup item).
6. One TransactWriteItems: send log ``sent`` + the outbox item deleted + the results counted
   (+ the SES message id lookup, only for a key too long for a tag). From the send queue's handler these items ride in the next
   message's claim transaction (step 4) of the same batch; the batch's last sent e-mail, or one
   whose successor claims nothing (skipped, duplicate, held, deferred, refused...), gets its
   own write right away (``send_consumer``, ``mail_store.write_sent``).

Failures: ``TransientSendError`` (throttling, SES 5xx, network) ends our lease at
once and is raised, so SQS redelivers the message after its visibility timeout
(the queue's backoff; after ``maxReceiveCount`` it lands in the DLQ).
``PermanentSendError`` marks the send ``failed`` and returns normally.

The duplicate case: if the process dies (or the final write fails) after SES accepted the
message but before step 6, the lease runs out and the redelivered queue message sends again.
Since a sent e-mail's mark rides with the very next claim, before the next SES send, a crash
leaves at most one e-mail sent but unmarked, whatever the batch size. A claim transaction
refused by the claim's condition writes the previous e-mail's mark alone first; a final write
that fails is tried per e-mail; the messages whose write still fails are reported failed, so
SQS brings them back.
Set the send queue's visibility timeout to at least the lease, so a redelivery after a crash
finds the lease expired.

Requests per sent message from the send queue (shop and verified sender cached): 1 Query
(profile, lots and mail preferences: ``load_account_for_send``) + 1 TransactWriteItems (the
claim, conditioned on there being no send log yet, carrying the previous e-mail's final write
and results counter), and per batch 1 TransactWriteItems for the last one's (2.1 per e-mail in
a batch of 10); + 1 SES SendEmail (+1 GetItem of the sender's domain claim when not cached).
The send log is read (TransactGetItems, as step 1 above) only when the first claim is refused:
a duplicate costs the Query, a refused claim and that read; a skip 1 Query + 1 PutItem (+ its
counter's UpdateItem).
"""
from __future__ import annotations

import json
import logging
import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from typing import Annotated, Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.domain.campaigns.links import subject_of
from chalicelib.domain.loyalty.lapse import day_end
from chalicelib.domain.campaigns import lift
from chalicelib.domain.campaigns.program_holdout import in_program_holdout
from chalicelib.domain.mail import deferral, eligibility, message_tags, quiet_hours
from chalicelib.domain.places.zones import zone_of
from chalicelib.errors import NotFound
from chalicelib.mail import tokens
from chalicelib.mail.base import resolve_locale
from chalicelib.mail.messenger import (
    Messenger,
    PermanentSendError,
    TransientSendError,
)
from chalicelib.mail.mime import InvalidAddress, ListUnsubscribe, build_message
from chalicelib.mail.tracking import LinkTracker
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.mail import mail_store
from chalicelib.store.mail.mail_store import ClaimRefused, SendRecord

# The shop switched this automated e-mail off (Shop.flows_off): queued before, skipped now.
FLOW_OFF = "flow_off"
logger = logging.getLogger("loyalty.mail")

_CLAIM_ATTEMPTS = 6


class PoisonMessage(Exception):
    """The queue message can never be handled as it is (malformed, unknown shop, a
    template that does not render). The handler lets it go to the dead-letter queue.
    ``recorded_before``: an earlier try already wrote the send log ``failed``."""

    def __init__(self, message: str, *, recorded_before: bool = False):
        super().__init__(message)
        self.recorded_before = recorded_before


class SendInProgress(TransientSendError):
    """Another worker holds a live claim on this idempotency key (or the claim kept
    losing races): try again later; by then it is sent, or its lease has lapsed."""


class SendRequest(BaseModel):
    """The JSON body of a message on the send queue."""

    model_config = ConfigDict(extra="ignore")

    idempotency_key: Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[^\x00-\x1f\x7f]+$")]
    shop_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")]
    customer_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
    template: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    category: Literal["transactional", "marketing"]
    campaign_id: Optional[Annotated[str, Field(min_length=1, max_length=128)]] = None
    # The campaign's holdout share: recipients drawn into it are skipped ("holdout"), not sent.
    holdout_percent: Optional[Annotated[int, Field(ge=0, le=lift.MAX_HOLDOUT_PERCENT)]] = None
    # Marketing: until when the e-mail is worth sending (default by kind: domain/mail/deferral.py), and,
    # once the cap deferred it, since when it has waited.
    valid_until: Optional[datetime] = None
    # An A/B test's variant (0–3): its subject and preheader are in data["variant_copy"].
    variant: Optional[Annotated[int, Field(ge=0, le=3)]] = None
    # utm_campaign on the shop's links: the campaign's name (a flow's is its template).
    utm_campaign: Optional[Annotated[str, Field(max_length=200)]] = None
    variant_copy: Optional[dict[Literal["subject", "preheader"], Annotated[str, Field(max_length=200)]]] = None
    deferred_since: Optional[datetime] = None
    data: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


def unsubscribe_url(deps, shop_id: str, customer_id: str, now: Optional[datetime] = None,
                    subject: Optional[str] = None) -> str:
    return f"{deps.config.public_url}/u/{deps.tokens.make_token(shop_id, customer_id, issued_at=now, subject=subject)}"


def parse_message(body: dict | str | bytes) -> SendRequest:
    try:
        if isinstance(body, (str, bytes)):
            body = json.loads(body)
        if not isinstance(body, dict):
            raise PoisonMessage("send message: a JSON object is required")
        return SendRequest.model_validate(body)
    except ValueError as error:  # JSONDecodeError and pydantic's ValidationError are ValueErrors
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()) \
            if isinstance(error, ValidationError) else str(error)
        raise PoisonMessage(f"send message: {detail}") from None


def send_message(deps, body: dict | str, *, messenger: Optional[Messenger] = None, templates=None,
                 now: Optional[datetime] = None,
                 sender_gate: Optional[Callable[[object, datetime], Optional[str]]] = None,
                 outbox_key: Optional[dict] = None, rider: Optional[mail_store.SentWrite] = None,
                 keep_final: bool = False) -> dict:
    """Handle one send-queue message (see the module docstring for the guarantee).

    ``rider``: the queue batch's previous sent e-mail's final write, not written yet: it rides in
    this message's claim transaction (``MailStore.claim``; ``rider.written`` once it landed). A
    message that claims nothing leaves it unwritten: the caller writes it at once.
    ``keep_final``: a sent message returns its own final write (``final_write`` in the answer)
    instead of writing it, for the next message's claim or the batch's end (``send_consumer``).

    ``outbox_key``: the outbox item the message came from; a sent message deletes it in its
    final write (``outbox_cleared`` in the answer), anything else leaves it to the caller.

    ``sender_gate(shop, now)`` says why the shop's sender may not send now (None: it may);
    such mail is held (``services/shops/sender_domains.py``).

    Returns ``{"status": "sent" | "skipped" | "held" | "duplicate" | "failed", ...}``.
    Raises ``PoisonMessage`` (to the DLQ) and ``TransientSendError`` (retry later).
    """
    request = parse_message(body)
    try:
        shop = load_shop(deps, request.shop_id)
    except NotFound:
        raise PoisonMessage(f"send message: no shop {request.shop_id!r}") from None
    now = now or deps.clock()
    marketing = request.category == "marketing" or request.template in _marketing_templates()
    category = "marketing" if marketing else "transactional"
    store = deps.repos.mail(shop.shop_id)
    accounts = deps.repos.loyalty(shop.shop_id)
    draft = SendRecord(shop_id=shop.shop_id, idempotency_key=request.idempotency_key,
                       customer_id=request.customer_id, template=request.template, category=category,
                       campaign_id=request.campaign_id, status="new", created_at=now)

    hold = sender_gate(shop, now) if sender_gate else _default_sender_gate(deps, shop, now)

    # The first try reads only the recipient (one Query: profile, lots, mail preferences) and
    # claims on the condition that no send log exists; the send log is read only when that
    # condition fails (a redelivery, a held or lapsed send) and every later try works as before.
    send_log_read = False
    for attempt in range(_CLAIM_ATTEMPTS):
        if attempt > 1:  # (the second try only follows the first's unread send log: no contention yet)
            time.sleep(random.uniform(0, 0.02 * (attempt - 1)))
        if send_log_read:
            context = store.load_for_send(request.customer_id, request.idempotency_key, with_prefs=marketing)
            previous = context.send
            if previous is not None and previous.is_final:
                if previous.status == mail_store.FAILED and (previous.reason or "").startswith("template:"):
                    # Still poison on every try, so it reaches the dead-letter queue instead of vanishing as a duplicate.
                    raise PoisonMessage(f"template {request.template!r} failed: {previous.reason[len('template:'):].strip()}",
                                        recorded_before=True)
                return _result("duplicate", request, previous_status=previous.status)
            if previous is not None and previous.lease_live(now):
                raise SendInProgress(f"send {request.idempotency_key!r} is being sent by another worker")
            context.account = accounts.load_account(request.customer_id)  # profile + lots: one Query
        else:
            context, previous = _recipient_only(store, accounts, request.customer_id, marketing), None
        only_if_new = not send_log_read
        send_log_read = True  # whatever happens below, a further try reads the send log
        record = _continuing(draft, previous)

        reason = FLOW_OFF if not shop.sends_flow(request.template, request.campaign_id) \
            else _skip_reason(shop, context, marketing, now, request.idempotency_key)
        if reason == "marketing_cap":
            deferred = _defer(deps, shop, context.prefs, request, now)
            if deferred:
                return deferred
            if request.deferred_since:  # it waited, and its window closes before the cap has room
                reason = deferral.EXPIRED_IN_QUEUE
        if reason:
            if store.record_final(record, mail_store.SKIPPED, reason, now, only_if_new=only_if_new):
                logger.info("mail skipped: shop=%s template=%s reason=%s", shop.shop_id, request.template, reason)
                return _result("skipped", request, reason=reason)
            continue  # someone else wrote the send log meanwhile: look again
        if marketing and in_program_holdout(shop.shop_id, request.customer_id, shop.program_holdout_percent):
            # The program's holdout never gets marketing mail: what the whole program adds is measured against it.
            if store.record_final(record, mail_store.SKIPPED, PROGRAM_HOLDOUT, now, only_if_new=only_if_new):
                return _result("skipped", request, reason=PROGRAM_HOLDOUT)
            continue
        if marketing:
            # Before the holdout draw: a kept-back recipient waits for the morning too, so both groups'
            # attribution windows open when the e-mail would have arrived, not the holdout's at night.
            morning = _after_quiet_hours(shop, context.account, now)
            if morning is not None:
                deferred = _defer(deps, shop, context.prefs, request, now, release_at=morning)
                if deferred:
                    return deferred
                # Its window closes before the quiet hours end: not sent at night, not sent at all.
                if store.record_final(record, mail_store.SKIPPED, QUIET_HOURS, now, only_if_new=only_if_new):
                    return _result("skipped", request, reason=QUIET_HOURS)
                continue
        if hold:  # before the holdout draw too: a campaign's holdout is drawn when its mail can go
            if not only_if_new and deps.repos.held_mail(shop.shop_id).hold(record, request.model_dump(mode="json"),
                                                                          hold, now):
                logger.info("mail held: shop=%s template=%s reason=%s", shop.shop_id, request.template, hold)
                return _result("held", request, reason=hold)
            continue  # holding needs the send log as it is (held_mail's own condition): read it first
        if _kept_back(request):
            # A suppressed address never gets the e-mail (the claim refuses it): kept out of the holdout
            # as the sent group's are, so both groups are drawn from the addresses that can receive it.
            reason = "suppressed" if store.is_suppressed(context.account.email) else lift.HOLDOUT
            if store.record_final(record, mail_store.SKIPPED, reason, now, only_if_new=only_if_new):
                if reason == lift.HOLDOUT:
                    _record_group(deps, request, lift.HOLDOUT, now)
                return _result("skipped", request, reason=reason)
            continue

        account = context.account
        try:
            raw = _build(deps, shop, account, request, templates, now)
        except InvalidAddress as error:
            if not store.record_final(record, mail_store.FAILED, f"invalid address: {error}", now,
                                      only_if_new=only_if_new):
                continue
            return _result("failed", request, reason="invalid_address")
        except Exception as error:
            if _is_template_error(error):
                if not store.record_final(record, mail_store.FAILED, f"template: {error}", now, only_if_new=only_if_new):
                    continue  # the send log says what happened before: the next try goes by it
                logger.error("mail template failed: shop=%s template=%s: %s", shop.shop_id, request.template, error)
                raise PoisonMessage(f"template {request.template!r} failed: {error}") from error
            raise

        prefs = None
        if marketing:
            prefs = context.prefs
            prefs.marketing_sends = eligibility.counted(prefs.marketing_sends, now, shop.marketing_cap.per_days,
                                                        request.idempotency_key)
        try:
            claimed = store.claim(record, previous, account.email, now, timedelta(seconds=deps.config.mail_lease_seconds),
                                  prefs, only_if_new=only_if_new, rider=rider)
        except ClaimRefused as refusal:
            if refusal.suppressed:
                if store.record_final(record, mail_store.SKIPPED, "suppressed", now, only_if_new=only_if_new):
                    return _result("skipped", request, reason="suppressed")
            continue
        break
    else:
        raise SendInProgress(f"send {request.idempotency_key!r}: too much contention, try again later")

    messenger = messenger or deps.messenger
    tags = {"shop": shop.shop_id, "template": request.template, "campaign": request.campaign_id or "none",
            "customer": request.customer_id, "category": category}
    send_tag = message_tags.encode_key(request.idempotency_key)
    if send_tag is not None:  # SES's events find the send log from it: no SES id lookup item to write
        tags[message_tags.SEND_TAG] = send_tag
    try:
        message_id = messenger.send_raw(sender=shop.sender_email, recipient=account.email, raw=raw,
                                        configuration_set=deps.config.ses_configuration_set, tags=tags)
    except TransientSendError as error:
        store.release(claimed, f"transient: {error}", now)
        logger.warning("mail send will be retried: shop=%s template=%s: %s", shop.shop_id, request.template, error)
        raise
    except PermanentSendError as error:
        if _sender_not_verified(error) and deps.repos.held_mail(shop.shop_id).hold(
                claimed, request.model_dump(mode="json"), SENDER_UNVERIFIED, now, claim_id=claimed.claim_id):
            # SES no longer takes this sender (its DNS records went): held, not lost.
            from chalicelib.services.shops.sender_domains import sender_rejected

            sender_rejected(deps, shop)
            logger.warning("mail held: SES refused the sender of shop %s: %s", shop.shop_id, error)
            return _result("held", request, reason=SENDER_UNVERIFIED)
        store.record_final(claimed, mail_store.FAILED, f"{error.code or 'rejected'}: {error}", now)
        logger.warning("mail rejected: shop=%s template=%s: %s", shop.shop_id, request.template, error)
        return _result("failed", request, reason=error.code or "rejected")
    final = store.sent_write(claimed, message_id, now, outbox_key=outbox_key, lookup=send_tag is None)
    if not keep_final:  # else written with the next message's claim, or at the batch's end (send_consumer)
        mail_store.write_sent(final)
    if request.campaign_id and (request.holdout_percent or request.variant is not None):
        _record_group(deps, request, lift.SENT, now)
    return _result("sent", request, ses_message_id=message_id, outbox_cleared=bool(outbox_key),
                   **({"final_write": final} if keep_final else {}))


def _recipient_only(store, accounts, customer_id: str, marketing: bool):
    """The first try's one read: the account and (marketing) the mail preferences, no send log."""
    account, prefs_item = accounts.load_account_for_send(customer_id)
    return mail_store.SendContext(account=account, prefs=store.prefs_from_item(customer_id, prefs_item) if marketing
                                  else None, send=None)


QUIET_HOURS = "quiet_hours"
PROGRAM_HOLDOUT = "program_holdout"


def _after_quiet_hours(shop, account, now: datetime) -> Optional[datetime]:
    """When the customer's quiet hours end, if it is night on their clock now; else None."""
    zone = zone_of(account.timezone if account else None, shop.timezone)
    morning = quiet_hours.next_allowed(now, zone, shop.quiet_hours)
    return morning if morning > now else None


def _defer(deps, shop, prefs, request: SendRequest, now: datetime,
           release_at: Optional[datetime] = None) -> Optional[dict]:
    """Keep the e-mail for later if that is inside its validity window (one PutItem): for the cap's
    next free slot (the cap is full), or until ``release_at`` (the end of the customer's quiet
    hours). None when it cannot (the caller skips it: for the cap, or for the quiet hours)."""
    cap = shop.marketing_cap
    until = deferral.valid_until(request.template, request.campaign_id, request.created_at, request.valid_until,
                                 request.data)
    reason = QUIET_HOURS if release_at is not None else "marketing_cap"
    if release_at is None:
        release_at = deferral.next_free_slot(prefs.marketing_sends, now, cap.max_messages, cap.per_days)
        if cap.max_messages == 0:
            return None
    if release_at >= until:
        return None
    waiting = deferral.Waiting(key=request.idempotency_key,
                               priority=deferral.priority(request.template, request.campaign_id, shop.mail_priority_order),
                               queued_at=request.created_at, valid_until=until)
    message = request.model_dump(mode="json", exclude_none=True)
    message["deferred_since"] = (request.deferred_since or now).isoformat()
    first = deps.repos.deferred_mail(shop.shop_id).defer(request.customer_id, message, waiting, release_at)
    logger.info("mail deferred (%s): shop=%s template=%s until %s", reason, shop.shop_id, request.template, release_at)
    return _result("deferred", request, release_at=release_at.isoformat(), reason=reason,
                   first_deferral=first and not request.deferred_since)


def _kept_back(request: SendRequest) -> bool:
    """Whether this recipient of a campaign with a holdout is drawn into it (deterministic)."""
    return bool(request.holdout_percent and request.campaign_id) and lift.assign_group(
        request.campaign_id, request.customer_id, request.holdout_percent) == lift.HOLDOUT


def _record_group(deps, request: SendRequest, group: str, now: datetime) -> None:
    """The customer's group in this campaign, for the holdout lift: one PutItem, only for campaigns
    with a holdout; a failure loses one recipient's later orders from the lift, never resends."""
    try:
        deps.repos.campaign_groups(request.shop_id).assign(request.customer_id, request.campaign_id, group, now,
                                                           variant=request.variant)
    except Exception:
        logger.warning("could not record a campaign group", exc_info=True)


def _default_sender_gate(deps, shop, now: datetime) -> Optional[str]:
    from chalicelib.services.shops.sender_domains import hold_reason

    return hold_reason(deps, shop, now=now)


SENDER_UNVERIFIED = "sender_unverified"  # services/shops/sender_domains.py SENDER_UNVERIFIED
_UNVERIFIED_CODES = frozenset({"MailFromDomainNotVerifiedException", "MailFromDomainNotVerified"})


def _sender_not_verified(error: PermanentSendError) -> bool:
    text = str(error).lower()
    return error.code in _UNVERIFIED_CODES or (error.code == "MessageRejected" and "not verified" in text)


def _skip_reason(shop, context, marketing: bool, now: datetime, idempotency_key: str) -> Optional[str]:
    prefs = context.prefs
    return eligibility.refusal(context.account, marketing=marketing, unsubscribed=bool(prefs and prefs.unsubscribed),
                               marketing_sends=prefs.marketing_sends if prefs else {}, cap=shop.marketing_cap,
                               now=now, idempotency_key=idempotency_key)


def _continuing(draft: SendRecord, previous: Optional[SendRecord]) -> SendRecord:
    """The record to write: the draft, keeping the first attempt's creation time and claim."""
    if previous is None:
        return draft
    return SendRecord(**{**draft.__dict__, "created_at": previous.created_at, "attempts": previous.attempts})


def _build(deps, shop, account, request: SendRequest, templates, now: datetime) -> bytes:
    if templates is None:
        from chalicelib.services.templates.templates import template_set_for

        templates = template_set_for(deps, shop.shop_id)  # the defaults with the shop's own overrides
    # A stand-in renderer (tests) may bring its own context builder; the real one is the module's.
    build_context = getattr(templates, "build_context", None)
    if build_context is None:
        from chalicelib.mail.rendering import build_context

    locale = resolve_locale(account.locale, shop.default_locale)
    subject = subject_of(request.campaign_id, request.template)
    url = unsubscribe_url(deps, shop.shop_id, account.customer_id, now, subject)
    links = {"unsubscribe": url, "preferences": url}
    tracker = LinkTracker(signer=deps.tokens, public_url=deps.config.public_url, shop_id=shop.shop_id, customer_id=account.customer_id,
                          send_key=request.idempotency_key, subject=subject, hosts=shop.link_hosts,
                          expires_at=now + timedelta(days=shop.link_validity_days),
                          code=request.data.get("code") if isinstance(request.data.get("code"), str) else None,
                          utm=(shop.utm_source, shop.utm_medium, request.utm_campaign or request.template)
                          if shop.utm_source else None)
    if request.data.get("claim_points"):
        links["claim"] = claim_url(deps, shop, account.customer_id, request, subject, now)
    context = build_context(request.template, shop=shop, account=account, data=request.data, links=links, now=now)
    if request.variant_copy:  # an A/B test's subject and preheader
        context["variant_copy"] = request.variant_copy
    rendered = templates.render(request.template, locale, context)
    html, text = tracker.html(rendered.html), tracker.text(rendered.text)
    marketing = request.category == "marketing" or request.template in _marketing_templates()
    list_unsubscribe = None
    if marketing:
        mailbox = deps.config.unsubscribe_mailbox
        token = url.rsplit("/", 1)[1]
        list_unsubscribe = ListUnsubscribe(url, f"mailto:{mailbox}?subject=unsubscribe%20{token}" if mailbox else None)
    return build_message(from_name=shop.name, from_address=shop.sender_email, to_address=account.email,
                         subject=rendered.subject, html=html, text=text,
                         list_unsubscribe=list_unsubscribe, now=now, reply_to=shop.reply_to)


def claim_url(deps, shop, customer_id: str, request: SendRequest, subject: str, now: datetime) -> str:
    """The link to the page where the customer claims a message's bonus points (once)."""
    until = request.data.get("claim_until")
    if isinstance(until, str):
        # The mail says "claim by" claim_until's day, on the shop's clock: the link works to its end.
        moment = datetime.fromisoformat(until)
        expires = day_end(moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(shop.timezone)), shop.timezone)
    else:
        expires = now + timedelta(days=shop.link_validity_days)
    link = tokens.TrackedLink(shop_id=shop.shop_id, customer_id=customer_id, send_key=request.idempotency_key,
                              subject=subject, url=shop.storefront_url, expires_at=expires,
                              reward={"points": int(request.data["claim_points"]), "reward_id": subject})
    return f"{deps.config.public_url}/r/{deps.tokens.make_tracked_link(link)}"


def _result(status: str, request: SendRequest, **details) -> dict:
    return {"status": status, "idempotency_key": request.idempotency_key, "shop_id": request.shop_id,
            "template": request.template, **details}


def _marketing_templates() -> frozenset[str]:
    from chalicelib.mail.rendering import MARKETING_TEMPLATES  # imported on first send: keeps HTTP cold starts light

    return frozenset(MARKETING_TEMPLATES)


def _is_template_error(error: Exception) -> bool:
    from chalicelib.mail.rendering import TemplateError

    return isinstance(error, TemplateError)
