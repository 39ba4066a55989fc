"""SES delivery events → suppression, send log states, soft bounce counts.

SES event publishing (configuration set ``loyalty-mail``) sends one JSON record per
event, accepted here in any of the shapes it arrives in on a queue:

- raw (SNS with raw message delivery, Firehose-style records, tests);
- an SNS envelope: ``{"Type": "Notification", "Message": "<the record as JSON>"}``;
- an EventBridge event: ``{"source": "aws.ses", "detail-type": "Email Bounced", "detail": {record}}``.

Identity feedback notifications (``notificationType`` instead of ``eventType``) are
read the same way.

The send is found from the message's own tags, which SES returns in every event: ``shop``,
``customer`` and ``send`` (the idempotency key, domain/mail/message_tags.py), so the send log
``SEND#{shop}#{key}`` is known without reading anything; the shop in the key is the tag's, so an
event can only ever reach a send log of the shop it names. An event without them (an e-mail sent
before the tag existed, or with a key too long for a tag; identity notifications) goes through
the ``SESMSG#{message id}`` lookup written when that send was marked sent. Unknown message ids
are ignored, with one exception: a hard bounce or complaint whose ``mail.tags`` name one of our
shops still suppresses the address (the lookup is missing only if the sender died right after
SES took the message).

Effects:

- Bounce, ``Permanent``: the address is suppressed for the shop (all mail, marketing and
  transactional); send log ``bounced``.
- Bounce, ``Transient``/``Undetermined``: send log ``bounced`` (SES publishes a soft bounce once it
  has given up retrying), and then the customer's ``soft_bounces`` count goes up, once: only when
  the send log moved (a redelivered soft bounce finds it moved), or when no send is known.
- Complaint: suppress; send log ``complained`` (a ``not-spam`` feedback report is ignored).
- Delivery: send log ``delivered``.
- Open, Click: counters on the send log (at-least-once: a redelivered event counts twice).
- Anything else (Send, Reject, DeliveryDelay, Rendering Failure, Subscription): ignored.

A queue batch (``EventBatch``, the events queue hands ten at a time) reads the SES id lookups of
its events without the tags in one BatchGetItem (none when all carry them), and adds what its events moved (delivered, bounced, complained) to
the campaigns' and flows' results at its end, one ADD per campaign or flow instead of one per
event. A send's move is counted once: only the event that moved the send log counts, so a
redelivered event (its batch-mate failed, SQS brought it back) moves nothing and adds nothing.
"""
from __future__ import annotations

import json
import logging
import re
from collections import Counter
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Optional, Sequence

from chalicelib.domain.mail import message_tags
from chalicelib.errors import NotFound
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.shops import shops
from chalicelib.store.mail import mail_store
from chalicelib.store.mail.mail_store import MailPrefs, SesMessageRef, find_ses_message, find_ses_messages

logger = logging.getLogger("loyalty.mail.events")

_CUSTOMER_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # as a queue message's customer_id (services/mail/mailer.py)


def parse_event(body: dict | str | bytes) -> Optional[dict]:
    """The SES event record inside ``body``, or None when there is none."""
    try:
        event: Any = json.loads(body) if isinstance(body, (str, bytes)) else body
        for _ in range(3):  # SNS inside EventBridge or the other way round, at most
            if not isinstance(event, dict):
                return None
            if event.get("Type") == "Notification" and isinstance(event.get("Message"), str):
                event = json.loads(event["Message"])
            elif "detail-type" in event and isinstance(event.get("detail"), dict):
                event = event["detail"]
            else:
                break
    except ValueError:
        return None
    if not isinstance(event, dict) or not (event.get("eventType") or event.get("notificationType")):
        return None
    return event


class EventBatch:
    """One queue batch of SES events: each body parsed once, the SES id lookups of those whose tags do
    not name their send read in one BatchGetItem up front (none when every event's tags do), and the results counts the events decide kept until ``finish``
    adds them, one ADD per campaign or flow (``Results.add_many``). Counts are at most once, as
    they always were: a crash before ``finish`` loses the batch's counts, never adds one twice."""

    def __init__(self, bodies: Sequence[dict | str | bytes] = ()):
        parsed = [parse_event(body) for body in bodies]
        self._events = {body: event for body, event in zip(bodies, parsed) if isinstance(body, (str, bytes))}
        message_ids = [_message_id(event) for event in parsed if event is not None and tagged_send(event) is None]
        self._refs: dict[str, SesMessageRef] = {}
        self._looked_up: set[str] = set()
        try:
            self._refs = find_ses_messages(message_id for message_id in message_ids if message_id)
            self._looked_up = {message_id for message_id in message_ids if message_id}
        except Exception:  # each event then reads its own lookup, as without a batch
            logger.warning("could not read a batch's SES lookups at once", exc_info=True)
        self._counts: dict[tuple[str, str], Counter] = {}
        self._spread: dict[tuple[str, str], str] = {}

    def event(self, body) -> tuple[bool, Optional[dict]]:
        """(known, the parsed event) for a body of this batch (its text: parsed once)."""
        if isinstance(body, (str, bytes)) and body in self._events:
            return True, self._events[body]
        return False, None

    def lookup(self, message_id: str) -> Optional[SesMessageRef]:
        if message_id in self._looked_up:
            return self._refs.get(message_id)
        return find_ses_message(message_id)

    def count(self, shop_id: str, subject: str, outcome: str, spread_by: str) -> None:
        self._counts.setdefault((shop_id, subject), Counter())[outcome] += 1
        self._spread.setdefault((shop_id, subject), spread_by)

    def finish(self, deps) -> None:
        """Add the batch's counts: one UpdateItem per campaign or flow (on the shard of its first
        event's customer, so a campaign's batches spread over its shards)."""
        counts, self._counts = self._counts, {}
        for (shop_id, subject), outcomes in counts.items():
            try:
                deps.repos.results(shop_id, subject).add_many(dict(outcomes), self._spread[(shop_id, subject)])
            except Exception:  # a lost count must not make SES redeliver the events
                logger.warning("could not count a batch's %s", dict(outcomes), exc_info=True)


def handle_ses_event(deps, body: dict | str, *, now: Optional[datetime] = None,
                     batch: Optional[EventBatch] = None) -> dict:
    known, event = batch.event(body) if batch is not None else (False, None)
    if not known:
        event = parse_event(body)
    if event is None:
        logger.warning("ignored a message on the events queue that is not an SES event")
        return {"status": "ignored", "reason": "not_an_ses_event"}
    now = now or deps.clock()
    event_type = event.get("eventType") or event.get("notificationType")
    mail = event.get("mail") if isinstance(event.get("mail"), dict) else {}
    message_id = _message_id(event)
    ref = tagged_send(event) if message_id else None
    # A send found from its tags moves only if it was marked sent with this very message, as the
    # lookup (written by that mark) made sure: a copy sent again after a crash has its own id.
    sent_as = message_id if ref is not None else None
    if ref is None and message_id:  # sent before the tag, or a key too long for one: the SES id lookup
        ref = batch.lookup(message_id) if batch is not None else find_ses_message(message_id)
    tags = mail.get("tags") if isinstance(mail.get("tags"), dict) else {}

    if ref is None:
        shop_id = _tag(tags, "shop")
        if event_type not in ("Bounce", "Complaint") or not shop_id or not _shop_exists(deps, shop_id):
            return {"status": "ignored", "reason": "unknown_message", "event": event_type}
        shop_id, key, customer_id = shop_id, None, _tag(tags, "customer")
    else:
        shop_id, key, customer_id = ref.shop_id, ref.idempotency_key, ref.customer_id
    store = deps.repos.mail(shop_id)
    effects: list[str] = []

    if event_type == "Bounce":
        bounce = event.get("bounce") or {}
        bounce_type = bounce.get("bounceType")
        sub_type = bounce.get("bounceSubType") or ""
        if bounce_type == "Permanent":
            for address, detail in _recipients(bounce.get("bouncedRecipients"), "diagnosticCode"):
                store.suppress(address, "hard_bounce", f"{sub_type}: {detail}" if detail else sub_type, now,
                               message_id)
                effects.append("suppressed")
            if key and _counted(deps, store.set_send_status(key, mail_store.BOUNCED, now=now,
                                                      reason=f"hard bounce: {sub_type}",
                                                      allowed_from=(mail_store.SENT, mail_store.DELIVERED),
                                                      ses_message_id=sent_as),
                                shop_id, "bounced", customer_id, batch):
                effects.append("bounced")
        else:
            # The send log moves first: a redelivered soft bounce finds it moved and is not counted again.
            moved = key is not None and _counted(deps, store.set_send_status(
                key, mail_store.BOUNCED, now=now, reason=f"soft bounce: {sub_type}",
                allowed_from=(mail_store.SENT,), ses_message_id=sent_as), shop_id, "bounced", customer_id, batch)
            if customer_id and (moved or key is None):
                store.update_prefs(customer_id, lambda prefs: _count_soft_bounce(prefs, now))
                effects.append("soft_bounce_counted")
            if moved:
                effects.append("bounced")
    elif event_type == "Complaint":
        complaint = event.get("complaint") or {}
        if complaint.get("complaintFeedbackType") != "not-spam":
            for address, _ in _recipients(complaint.get("complainedRecipients"), None):
                store.suppress(address, "complaint", complaint.get("complaintFeedbackType"), now, message_id)
                effects.append("suppressed")
            if key and _counted(deps, store.set_send_status(
                    key, mail_store.COMPLAINED, now=now, reason="complaint",
                    allowed_from=(mail_store.SENT, mail_store.DELIVERED, mail_store.BOUNCED),
                    ses_message_id=sent_as),
                    shop_id, "complained", customer_id, batch):
                effects.append("complained")
    elif event_type == "Delivery":
        if key and _counted(deps, store.set_send_status(key, mail_store.DELIVERED, now=now,
                                                  allowed_from=(mail_store.SENT,), ses_message_id=sent_as),
                            shop_id, "delivered", customer_id, batch):
            effects.append("delivered")
    elif event_type in ("Open", "Click"):
        store.count_engagement(key, event_type.lower(), now, ses_message_id=sent_as)
        effects.append(event_type.lower())
    else:
        return {"status": "ignored", "reason": "event_type", "event": event_type}
    logger.info("ses event %s: shop=%s effects=%s", event_type, shop_id, effects)
    return {"status": "applied", "event": event_type, "shop_id": shop_id, "effects": effects}


def _counted(deps, subject: Optional[str], shop_id: str, outcome: str, customer_id: Optional[str],
             batch: Optional[EventBatch] = None) -> bool:
    """Count a send's move to ``outcome`` in its campaign's or flow's results (once: only
    the event that moved the send log counts), at the batch's end when there is one. True when it moved."""
    if subject is None:
        return False
    if batch is not None:
        batch.count(shop_id, subject, outcome, customer_id or subject)
        return True
    try:
        deps.repos.results(shop_id, subject).add(outcome, customer_id or subject)
    except Exception:  # a lost count must not make SES redeliver the event
        logger.warning("could not count a %s event", outcome, exc_info=True)
    return True


def tagged_send(event: dict) -> Optional[SesMessageRef]:
    """The send an event's tags name (shop, customer, the encoded idempotency key), or None when they
    do not name one exactly: then the SES id lookup decides, as for e-mails sent before the tag."""
    mail = event.get("mail") if isinstance(event.get("mail"), dict) else {}
    tags = mail.get("tags") if isinstance(mail.get("tags"), dict) else {}
    key = message_tags.decode_key(_tag(tags, message_tags.SEND_TAG))
    shop_id, customer_id = _tag(tags, "shop"), _tag(tags, "customer")
    if key is None or shop_id is None or customer_id is None:
        return None
    if not shops.valid_shop_id(shop_id) or not _CUSTOMER_ID.fullmatch(customer_id):
        return None
    return SesMessageRef(shop_id, key, customer_id)


def _message_id(event: dict) -> Optional[str]:
    mail = event.get("mail") if isinstance(event.get("mail"), dict) else {}
    message_id = mail.get("messageId")
    return message_id if isinstance(message_id, str) and message_id else None


def _count_soft_bounce(prefs: MailPrefs, now: datetime) -> None:
    prefs.soft_bounces += 1
    prefs.last_soft_bounce_at = now


def _recipients(entries: Any, detail_field: Optional[str]) -> list[tuple[str, str]]:
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        _, address = parseaddr(str(entry.get("emailAddress") or ""))
        if "@" in address:
            found.append((address, str(entry.get(detail_field) or "") if detail_field else ""))
    return found


def _tag(tags: dict, name: str) -> Optional[str]:
    """A tag's one value as sent (SES lists each tag's values: ``{"shop": ["demo-shop"]}``); None when
    it is missing, empty or not one text."""
    value = tags.get(name)
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    return value if isinstance(value, str) and value else None


def _shop_exists(deps, shop_id: str) -> bool:
    if not shops.valid_shop_id(shop_id):
        return False
    try:
        load_shop(deps, shop_id)
    except NotFound:
        return False
    return True
