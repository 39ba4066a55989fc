"""An individual offer's e-mail: each customer the offer gave a code is told, once, in their
language, with the offer's own terms (discount or amount, the products, the minimum, until when)
and a signed link that applies their code (the send path's tracked links, docs/links.md).

It is marketing: consent, suppression, the cap and quiet hours are the send path's to apply,
one customer at a time, when each e-mail goes out. Its results count like a flow's, under the
``personal_offer`` template (`GET /admin/shops/{shop}/flows/personal_offer/stats`).

Exactly once per customer and offer: the offer's record counts how many of its customers (in
customer-id order) were queued, and each chunk of e-mails commits in one transaction with that
count, over the record's version. A second send, two racing senders or a retry after a crash
queue only what no commit queued before; the idempotency key (``offer:{offer}:{customer}``) makes
a republished outbox item harmless to the sender.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Optional
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.domain.campaigns import send_time
from chalicelib.domain.mail.outbox import MARKETING
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.mail import outbox
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.validation import bad_request_from
from chalicelib.store import keys
from chalicelib.store.loyalty.offers import OfferRecord, due_offer_mailings
from chalicelib.store.loyalty.repository import Change, ConcurrentChange

TEMPLATE = "personal_offer"
CHUNK = 50  # e-mails per transaction (with the record: well under DynamoDB's 100 items)
ATTEMPTS = 5
NOT_SENT, SCHEDULED, SENDING, SENT = "not_sent", "scheduled", "sending", "sent"


class OfferSendRequest(BaseModel):
    """Send the offer's e-mail now, or at ``send_at``."""

    model_config = ConfigDict(extra="forbid")

    send_at: Optional[datetime] = Field(None, description="when to send (ISO 8601 with its offset); now when omitted")


class _Gone(Exception):
    pass


def send_offer(deps, shop_id: str, offer_id: str, body: dict) -> dict:
    """``POST /admin/shops/{shop}/offers/{offer}/sends``: queue the e-mails now, or schedule them."""
    shop = load_shop(deps, shop_id)
    try:
        request = OfferSendRequest.model_validate(body or {})
    except ValidationError as error:
        raise bad_request_from(error) from None
    now = deps.clock()
    records = deps.repos.offer_records(shop.shop_id)
    record = records.load(offer_id)
    if record is None:
        raise NotFound(f"offer_id: no offer {offer_id!r} in this shop", field="offer_id")
    status = record.mailing.get("status", NOT_SENT)
    if status == SENT:
        raise Conflict("offer_id: its e-mail was sent; each customer gets it once", field="offer_id")
    send_at = request.send_at
    if send_at is not None:
        if send_at.tzinfo is None:
            raise BadRequest("send_at: give the offset (e.g. 2031-03-14T10:00:00+02:00)", field="send_at")
        send_at = send_at.astimezone(timezone.utc)
        # A moment already past would send at once, unasked (the empty body is how "now" is said).
        reason = send_time.refusal(send_at, None, ZoneInfo(shop.timezone), now)
        if reason:
            raise BadRequest(f"send_at: {reason}. Plan a later time, or leave send_at out to send it at once",
                             field="send_at")
        if send_at > now:
            if status == SENDING:
                raise Conflict("offer_id: its e-mail is being sent; it cannot be scheduled now", field="offer_id")
            record.mailing = {"status": SCHEDULED, "send_at": keys.iso(send_at), "queued": 0}
            try:
                records.save(record)
            except ValueError:
                raise Conflict("offer_id: the offer changed while scheduling; try again", field="offer_id") from None
            return offer_view(deps, shop, record)
    queue_offer_mail(deps, shop, offer_id, now, now_even_if_scheduled=True)
    return offer_view(deps, shop, records.load(offer_id))


def send_due_offers(deps, now: Optional[datetime] = None) -> dict:
    """The schedule: every scheduled offer e-mail now due."""
    now = now or deps.clock()
    report = {}
    for shop_id, offer_id in due_offer_mailings(now):
        try:
            shop = load_shop(deps, shop_id)
        except NotFound:  # a shop being erased
            continue
        report[f"{shop_id}/{offer_id}"] = queue_offer_mail(deps, shop, offer_id, now)
    return report


def queue_offer_mail(deps, shop, offer_id: str, now: datetime, *, now_even_if_scheduled: bool = False) -> int:
    """Queue the e-mails of every customer not queued yet; the number queued by this call.
    ``now_even_if_scheduled``: the admin asked to send now an offer scheduled for later."""
    records = deps.repos.offer_records(shop.shop_id)
    queued = 0
    conflicts = 0
    while True:
        record = records.load(offer_id)
        if record is None:
            return queued
        status = record.mailing.get("status", NOT_SENT)
        if status == SENT:
            return queued
        if status == SCHEDULED and record.mailing.get("send_at", "") > keys.iso(now) and not now_even_if_scheduled:
            return queued
        customers = sorted(record.recipients)
        done = int(record.mailing.get("queued", 0))
        chunk = customers[done:done + CHUNK]
        messages = [_message(shop, record, customer_id, now) for customer_id in chunk]
        finished = done + len(chunk) >= len(customers)
        record.mailing = {**record.mailing, "status": SENT if finished else SENDING, "queued": done + len(chunk),
                          "started_at": record.mailing.get("started_at") or keys.iso(now)}
        if finished:
            record.mailing["sent_at"] = keys.iso(now)
        try:
            deps.repos.loyalty(shop.shop_id).commit(Change(items=[records.write(record)], outbox=messages), now)
        except ConcurrentChange:
            conflicts += 1  # another sender moved the count on: read it again
            if conflicts >= ATTEMPTS:
                return queued
            continue
        outbox.publish(deps, messages)
        queued += len(messages)
        if finished:
            return queued


def _message(shop, record: OfferRecord, customer_id: str, now: datetime) -> dict:
    terms = record.terms
    titles = terms.get("product_titles") or {}
    data = {"offer_id": record.offer_id, "offer_name": terms["name"], "code": record.recipients[customer_id],
            "code_expires_at": terms["expires_at"],
            "products": [{"sku": sku, "title": titles.get(sku) or sku} for sku in terms["product_skus"]]}
    if terms.get("discount_percent"):
        data["discount_percent"] = terms["discount_percent"]
    elif terms.get("value_minor"):
        data["code_value_minor"] = int(terms["value_minor"])
    if terms.get("min_order_minor"):
        data["min_order_minor"] = int(terms["min_order_minor"])
    if terms.get("url"):
        data["url"] = terms["url"]
    return {"idempotency_key": f"offer:{record.offer_id}:{customer_id}", "shop_id": shop.shop_id,
            "customer_id": customer_id, "template": TEMPLATE, "category": MARKETING, "campaign_id": None,
            "utm_campaign": terms["name"], "created_at": now.isoformat(), "data": data}


def get_offer(deps, shop_id: str, offer_id: str) -> dict:
    shop = load_shop(deps, shop_id)
    record = deps.repos.offer_records(shop.shop_id).load(offer_id)
    if record is None:
        raise NotFound(f"offer_id: no offer {offer_id!r} in this shop", field="offer_id")
    return offer_view(deps, shop, record)


def offer_view(deps, shop, record: OfferRecord) -> dict:
    mailing = record.mailing or {}
    return {"offer_id": record.offer_id, **{k: v for k, v in record.terms.items() if v is not None},
            "customers": len(record.recipients), "currency": shop.currency,
            "mailing": {"status": mailing.get("status", NOT_SENT), "queued": int(mailing.get("queued", 0)),
                        **{k: mailing[k] for k in ("send_at", "started_at", "sent_at") if mailing.get(k)}}}
