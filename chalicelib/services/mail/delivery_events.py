"""SES delivery events → suppression, send log states, soft bounce counts.

SES event publishing (configuration set ``loyalty-mail``) sends one JSON record per
event, accepted here in any of the shapes it arrives in on a queue:

- raw (SNS with raw message delivery, Firehose-style records, tests);
- an SNS envelope: ``{"Type": "Notification", "Message": "<the record as JSON>"}``;
- an EventBridge event: ``{"source": "aws.ses", "detail-type": "Email Bounced", "detail": {record}}``.

Identity feedback notifications (``notificationType`` instead of ``eventType``) are
read the same way.

The send is found through the ``SESMSG#{message id}`` lookup written when the send
was marked sent. Unknown message ids are ignored, with one exception: a hard bounce
or complaint whose ``mail.tags`` name one of our shops still suppresses the address
(the lookup is missing only if the sender died right after SES took the message).

Effects:

- Bounce, ``Permanent``: the address is suppressed for the shop (all mail, marketing and
  transactional); send log ``bounced``.
- Bounce, ``Transient``/``Undetermined``: the customer's ``soft_bounces`` count goes up; send log
  ``bounced`` (SES publishes a soft bounce once it has given up retrying).
- Complaint: suppress; send log ``complained`` (a ``not-spam`` feedback report is ignored).
- Delivery: send log ``delivered``.
- Open, Click: counters on the send log (at-least-once: a redelivered event counts twice).
- Anything else (Send, Reject, DeliveryDelay, Rendering Failure, Subscription): ignored.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Optional

from chalicelib.errors import NotFound
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.shops import shops
from chalicelib.store.mail import mail_store
from chalicelib.store.mail.mail_store import MailPrefs, find_ses_message

logger = logging.getLogger("loyalty.mail.events")


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


def handle_ses_event(deps, body: dict | str, *, now: Optional[datetime] = None) -> dict:
    event = parse_event(body)
    if event is None:
        logger.warning("ignored a message on the events queue that is not an SES event")
        return {"status": "ignored", "reason": "not_an_ses_event"}
    now = now or deps.clock()
    event_type = event.get("eventType") or event.get("notificationType")
    mail = event.get("mail") if isinstance(event.get("mail"), dict) else {}
    message_id = mail.get("messageId")
    ref = find_ses_message(message_id) if isinstance(message_id, str) and message_id else None
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
                                                      allowed_from=(mail_store.SENT, mail_store.DELIVERED)),
                                shop_id, "bounced", customer_id):
                effects.append("bounced")
        else:
            if customer_id:
                store.update_prefs(customer_id, lambda prefs: _count_soft_bounce(prefs, now))
                effects.append("soft_bounce_counted")
            if key and _counted(deps, store.set_send_status(key, mail_store.BOUNCED, now=now,
                                                      reason=f"soft bounce: {sub_type}",
                                                      allowed_from=(mail_store.SENT,)),
                                shop_id, "bounced", customer_id):
                effects.append("bounced")
    elif event_type == "Complaint":
        complaint = event.get("complaint") or {}
        if complaint.get("complaintFeedbackType") != "not-spam":
            for address, _ in _recipients(complaint.get("complainedRecipients"), None):
                store.suppress(address, "complaint", complaint.get("complaintFeedbackType"), now, message_id)
                effects.append("suppressed")
            if key and _counted(deps, store.set_send_status(
                    key, mail_store.COMPLAINED, now=now, reason="complaint",
                    allowed_from=(mail_store.SENT, mail_store.DELIVERED, mail_store.BOUNCED)),
                    shop_id, "complained", customer_id):
                effects.append("complained")
    elif event_type == "Delivery":
        if key and _counted(deps, store.set_send_status(key, mail_store.DELIVERED, now=now,
                                                  allowed_from=(mail_store.SENT,)),
                            shop_id, "delivered", customer_id):
            effects.append("delivered")
    elif event_type in ("Open", "Click"):
        store.count_engagement(key, event_type.lower(), now)
        effects.append(event_type.lower())
    else:
        return {"status": "ignored", "reason": "event_type", "event": event_type}
    logger.info("ses event %s: shop=%s effects=%s", event_type, shop_id, effects)
    return {"status": "applied", "event": event_type, "shop_id": shop_id, "effects": effects}


def _counted(deps, subject: Optional[str], shop_id: str, outcome: str, customer_id: Optional[str]) -> bool:
    """Count a send's move to ``outcome`` in its campaign's or flow's results (once: only
    the event that moved the send log counts). True when it moved."""
    if subject is None:
        return False

    try:
        deps.repos.results(shop_id, subject).add(outcome, customer_id or subject)
    except Exception:  # a lost count must not make SES redeliver the event
        logger.warning("could not count a %s event", outcome, exc_info=True)
    return True


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
    """SES puts each tag's values in a list: ``{"shop": ["demo-shop"]}``."""
    value = tags.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value and value != "none" else None


def _shop_exists(deps, shop_id: str) -> bool:
    if not shops.valid_shop_id(shop_id):
        return False
    try:
        load_shop(deps, shop_id)
    except NotFound:
        return False
    return True
