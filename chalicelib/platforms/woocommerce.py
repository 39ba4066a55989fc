"""WooCommerce webhooks (REST API v3 resources) → platform-neutral events."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Mapping, Optional

from chalicelib.domain.money import to_minor
from chalicelib.domain.platform_events import (
    CodeDiscount,
    CustomerEvent,
    CustomerFacts,
    Delivery,
    IgnoredEvent,
    Order,
    OrderDeletedEvent,
    OrderEvent,
    OrderLine,
    ProductEvent,
    ProductFacts,
    Receipt,
    Refund,
    ShippingAddress,
    Shipment,
    WebhookEvent,
    receipt,
)

from chalicelib.errors import BadRequest

from .body import load_json_object
from .context import WebhookContext
from .fields import (Amount, OptionalTimestamp, Payload, PlatformId, Quantity, ShownOnly, checked_email, first_present,
                     place_from, referral_from_pairs, validate)
from .headers import required_header
from .signing import verify_base64_signature
from .tracking import MAX_PARCELS, TrackingText, TrackingUrlText, numbers, safe_links

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"

ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
CUSTOMER_TOPICS = frozenset({"customer.created", "customer.updated"})
PRODUCT_TOPICS = frozenset({"product.created", "product.updated", "product.restored"})
# "delivered" is the status the Advanced Shipment Tracking plugin adds after "completed".
PAID_STATUSES = frozenset({"processing", "completed", "refunded", "delivered"})
DELIVERED_STATUS = "delivered"
# The Shipment Tracking extension keeps an order's parcels in this order meta.
TRACKING_META_KEY = "_wc_shipment_tracking_items"
# Tracking pages of the extension's predefined providers (its slug → the carrier's page);
# any other provider comes with ``custom_tracking_link``.
PROVIDER_TRACKING_URLS = {
    "dhl": ("DHL", "https://www.dhl.com/en/express/tracking.html?AWB={number}&brand=DHL"),
    "dhl-parcel": ("DHL Parcel", "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?idc={number}"),
    "deutsche-post-dhl": ("Deutsche Post DHL", "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?idc={number}"),
    "ups": ("UPS", "https://www.ups.com/track?loc=en_US&tracknum={number}"),
    "usps": ("USPS", "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1={number}"),
    "fedex": ("FedEx", "https://www.fedex.com/apps/fedextrack/?action=track&tracknumbers={number}"),
    "dpd": ("DPD", "https://tracking.dpd.de/parcelstatus?query={number}"),
    "hermes": ("Hermes", "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation/#{number}"),
    "royal-mail": ("Royal Mail", "https://www.royalmail.com/track-your-item#/tracking-results/{number}"),
    "nova-poshta": ("Nova Poshta", "https://novaposhta.ua/tracking/?cargo_number={number}"),
    "ukrposhta": ("Ukrposhta", "https://track.ukrposhta.ua/tracking_UA.html?barcode={number}"),
}
# A payment date on these means the payment did not stand.
UNPAID_STATUSES = frozenset({"pending", "failed", "cancelled"})

# The unsigned ping WooCommerce sends once when a webhook is saved.
_PING_BODY = re.compile(rb"webhook_id=([0-9]{1,20})")

_EXTRA_HEADERS = {
    "x-wc-webhook-delivery-id": "delivery_id",
    "x-wc-webhook-id": "webhook_id",
    "x-wc-webhook-source": "source",
}


class Billing(Payload):
    email: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    country: Optional[str] = None
    state: Optional[str] = None


class LineItem(Payload):
    id: PlatformId
    quantity: Quantity
    total: Amount  # after discounts, without tax
    total_tax: Optional[Amount] = None
    subtotal: Annotated[Optional[Amount], ShownOnly] = None  # before discounts, without tax
    subtotal_tax: Annotated[Optional[Amount], ShownOnly] = None
    name: Optional[str] = None
    sku: Optional[str] = None
    product_id: Optional[int] = None


class CouponLine(Payload):
    code: str
    discount: Optional[Amount] = None  # the money the coupon took off, tax excluded (discount_tax: its tax)
    discount_tax: Optional[Amount] = None


class FeeLine(Payload):
    name: Optional[str] = None
    total: Optional[Amount] = None  # without tax
    total_tax: Optional[Amount] = None


class WooShipping(Payload):
    address_1: Optional[str] = None
    city: Optional[str] = None
    postcode: Optional[str] = None
    country: Optional[str] = None
    state: Optional[str] = None


class MetaData(Payload):
    key: Optional[str] = None
    value: Optional[Any] = None


class TrackingItem(Payload):
    """One entry of ``_wc_shipment_tracking_items`` (the Shipment Tracking extension)."""

    tracking_number: Optional[TrackingText] = None
    tracking_provider: Optional[TrackingText] = None
    custom_tracking_provider: Optional[TrackingText] = None
    custom_tracking_link: Optional[TrackingUrlText] = None
    tracking_id: Optional[TrackingText] = None
    date_shipped: Optional[Any] = None  # unix seconds as a string


class WooRefund(Payload):
    id: PlatformId
    total: Amount  # negative: "-5.00"


class WooOrder(Payload):
    id: PlatformId
    status: str
    currency: str
    line_items: list[LineItem]
    number: Optional[PlatformId] = None
    prices_include_tax: Optional[bool] = False
    date_created_gmt: OptionalTimestamp = None
    date_paid_gmt: OptionalTimestamp = None
    date_modified_gmt: OptionalTimestamp = None
    total: Optional[Amount] = None
    shipping_total: Optional[Amount] = None
    shipping_tax: Optional[Amount] = None
    discount_total: Annotated[Optional[Amount], ShownOnly] = None  # without tax (discount_tax: its tax)
    discount_tax: Annotated[Optional[Amount], ShownOnly] = None
    total_tax: Annotated[Optional[Amount], ShownOnly] = None
    fee_lines: Annotated[Optional[list[FeeLine]], ShownOnly] = None
    customer_id: Optional[int] = None
    billing: Optional[Billing] = None
    coupon_lines: Optional[list[CouponLine]] = None
    refunds: Optional[list[WooRefund]] = None
    shipping: Optional[WooShipping] = None
    meta_data: Optional[list[MetaData]] = None


class OrderDeletion(Payload):
    id: PlatformId


class WooCustomer(Payload):
    id: PlatformId
    email: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    date_modified_gmt: OptionalTimestamp = None
    billing: Optional[Billing] = None


def _with_tax(amount: Decimal, tax: Optional[Decimal], prices_include_tax: bool) -> Decimal:
    # Line and shipping totals exclude tax; shops that show prices with tax
    # expect the customer to earn on what they paid.
    return amount + (tax or Decimal(0)) if prices_include_tax else amount


def _refunded_goods_money(refund_total: Decimal, order: WooOrder) -> Decimal:
    """A refund's money as the lines count it. The refund's total is what went back to the
    customer, tax included; where prices exclude tax the lines earned on their net totals, so
    the money is brought to net with the goods' own tax (one of two units, 97.99 with 8.875 %
    sales tax, is 90.00 of spend, not 97.99)."""
    money = abs(refund_total)
    if order.prices_include_tax:
        return money
    net = sum((line.total for line in order.line_items), Decimal(0))
    gross = net + sum((line.total_tax or Decimal(0) for line in order.line_items), Decimal(0))
    return money * net / gross if net > 0 and gross > net else money


def _is_paid(order: WooOrder) -> bool:
    status = order.status.lower()
    return status in PAID_STATUSES or (order.date_paid_gmt is not None and status not in UNPAID_STATUSES)


def order_from_payload(order: WooOrder, exponent: int) -> Order:
    include_tax = bool(order.prices_include_tax)
    lines = tuple(
        OrderLine(
            line_id=line.id,
            quantity=line.quantity,
            paid_minor=max(to_minor(_with_tax(line.total, line.total_tax, include_tax), exponent), 0),
            sku=first_present(line.sku),
            product_id=str(line.product_id) if line.product_id else None,
            title=line.name or "",
            list_minor=max(to_minor(_with_tax(line.subtotal, line.subtotal_tax, include_tax), exponent), 0)
            if line.subtotal is not None else None,
        )
        for line in order.line_items
    )
    shipping = to_minor(_with_tax(order.shipping_total or Decimal(0), order.shipping_tax, include_tax), exponent)
    paid = _is_paid(order)
    billing = order.billing or Billing()
    return Order(
        order_id=order.id,
        customer=CustomerFacts(
            email=checked_email(billing.email, "billing.email"),
            # 0 is WooCommerce's guest checkout.
            platform_customer_id=str(order.customer_id) if order.customer_id else None,
            first_name=first_present(billing.first_name),
            last_name=first_present(billing.last_name),
        ),
        currency=order.currency.upper(),
        lines=lines,
        paid=paid,
        cancelled=order.status.lower() == "cancelled",
        name=f"#{order.number or order.id}",
        created_at=order.date_created_gmt,
        paid_at=order.date_paid_gmt if paid else None,
        shipping_minor=shipping,
        total_minor=to_minor(order.total, exponent) if order.total is not None else sum(line.paid_minor for line in lines) + shipping,
        discount_codes=tuple(coupon.code for coupon in order.coupon_lines or ()),
        # The coupon's discount, with its tax where the shop's prices include tax (as the lines count).
        code_discounts=tuple(
            CodeDiscount(coupon.code, max(to_minor(_with_tax(coupon.discount, coupon.discount_tax, include_tax),
                                                   exponent), 0))
            for coupon in order.coupon_lines or () if coupon.discount is not None),
        refunds=tuple(
            Refund(refund_id=refund.id, order_id=order.id,
                   amount_minor=to_minor(_refunded_goods_money(refund.total, order), exponent))
            for refund in order.refunds or ()
        ),
        fully_refunded=order.status.lower() == "refunded",
        shipping_address=ShippingAddress(order.shipping.address_1, order.shipping.city or "",
                                         order.shipping.postcode or "", order.shipping.country or "")
        if order.shipping and order.shipping.address_1 else None,
        referral_code=referral_from_pairs((m.key, m.value) for m in order.meta_data or ()),
        shipments=shipments_from_meta(order),
        place=place_from(*((address.country, address.state) for address in (order.shipping, order.billing)
                           if address is not None)),
        receipt=_receipt(order, lines, exponent),
    )


def _receipt(order: WooOrder, lines: tuple[OrderLine, ...], exponent: int) -> Optional[Receipt]:
    """The order's rows as WooCommerce's own order e-mail lists them: each amount with its tax
    where the shop's prices include tax. ``total`` stays what was paid after refunds too."""
    if order.total is None:
        return None
    include_tax = bool(order.prices_include_tax)

    def shown(amount: Optional[Decimal], tax: Optional[Decimal]) -> int:
        return to_minor(_with_tax(amount or Decimal(0), tax, include_tax), exponent)

    listed = [line.list_minor for line in lines]
    return receipt(
        total_minor=to_minor(order.total, exponent),
        subtotal_minor=sum(listed) if None not in listed else None,
        discount_minor=shown(order.discount_total, order.discount_tax),
        shipping_minor=shown(order.shipping_total, order.shipping_tax) if order.shipping_total is not None else None,
        tax_minor=to_minor(order.total_tax, exponent) if order.total_tax is not None else None,
        taxes_included=include_tax,
        fees=tuple((" ".join((fee.name or "").split())[:255], shown(fee.total, fee.total_tax))
                   for fee in order.fee_lines or () if fee.total is not None),
    )


def shipments_from_meta(order: WooOrder) -> tuple[Shipment, ...]:
    """The parcels the Shipment Tracking extension stored on the order; each keeps its
    ``tracking_id`` (or its number) as the shipment's id, so a resent order owes nothing new."""
    from urllib.parse import quote

    entries = next((m.value for m in order.meta_data or () if m.key == TRACKING_META_KEY), None)
    if not isinstance(entries, list):
        return ()
    delivered = order.status.lower() == DELIVERED_STATUS
    shipments = []
    for index, raw in enumerate(entries[:MAX_PARCELS]):
        try:
            item = validate(TrackingItem, raw) if isinstance(raw, dict) else None
        except BadRequest:
            # A plugin's malformed meta must not cost the order its points: the parcel is skipped.
            continue
        if item is None or not first_present(item.tracking_number, item.custom_tracking_link):
            continue
        number = first_present(item.tracking_number) or ""
        slug = (item.tracking_provider or "").strip().lower().replace(" ", "-")
        carrier, template = PROVIDER_TRACKING_URLS.get(slug, (None, None))
        url = first_present(item.custom_tracking_link) or (template.format(number=quote(number, safe=""))
                                                           if template and number else None)
        shipments.append(Shipment(
            shipment_id=first_present(item.tracking_id, number) or f"{order.id}-{index}",
            order_id=order.id,
            status="delivered" if delivered else "in_transit",
            carrier=first_present(item.custom_tracking_provider) or carrier or (item.tracking_provider or "").strip(),
            tracking_numbers=numbers([number]),
            tracking_urls=safe_links([url]),
        ))
    return tuple(shipments)


def _customer_facts(customer: WooCustomer) -> CustomerFacts:
    billing = customer.billing or Billing()
    return CustomerFacts(
        email=checked_email(customer.email, "email") if first_present(customer.email)
        else checked_email(billing.email, "billing.email"),
        platform_customer_id=customer.id if customer.id != "0" else None,
        first_name=first_present(customer.first_name, billing.first_name),
        last_name=first_present(customer.last_name, billing.last_name),
        updated_at=customer.date_modified_gmt,
    )


class WooImage(Payload):
    src: Optional[TrackingUrlText] = None


class WooProduct(Payload):
    """product.created / product.updated (REST API v3 product resource)."""

    id: PlatformId
    name: Optional[str] = None
    permalink: Optional[TrackingUrlText] = None
    status: Optional[TrackingText] = None  # publish, draft, pending, private
    price: Optional[Amount] = None  # "" when not set
    purchasable: Optional[bool] = None
    stock_status: Optional[TrackingText] = None  # instock, outofstock, onbackorder
    images: list[WooImage] = []
    date_modified_gmt: OptionalTimestamp = None

    @classmethod
    def from_payload(cls, payload: dict) -> "WooProduct":
        # WooCommerce sends "" for a product without a price.
        if isinstance(payload.get("price"), str) and not payload["price"].strip():
            payload = {**payload, "price": None}
        return validate(cls, payload)


def product_from_payload(product: WooProduct, exponent: int) -> ProductFacts:
    links, images = safe_links([product.permalink]), safe_links(image.src for image in product.images[:20])
    status = (product.status or "publish").strip().lower()
    stock = (product.stock_status or "instock").strip().lower()
    return ProductFacts(product_id=product.id, title=" ".join((product.name or "").split())[:255],
                        url=links[0] if links else None, image_url=images[0] if images else None,
                        price_minor=to_minor(product.price, exponent) if product.price is not None and product.price >= 0
                        else None,
                        available=status == "publish" and stock != "outofstock" and product.purchasable is not False,
                        updated_at=product.date_modified_gmt)


def _event(topic: str, payload: dict, ctx: WebhookContext) -> WebhookEvent:
    if topic in ORDER_TOPICS:
        return OrderEvent(order_from_payload(validate(WooOrder, payload), ctx.minor_exponent))
    if topic == "order.deleted":
        # WooCommerce sends only {"id": N} for a deleted resource.
        return OrderDeletedEvent(validate(OrderDeletion, payload).id)
    if topic in CUSTOMER_TOPICS:
        return CustomerEvent(_customer_facts(validate(WooCustomer, payload)))
    if topic in PRODUCT_TOPICS:
        return ProductEvent(product_from_payload(WooProduct.from_payload(payload), ctx.minor_exponent))
    if topic == "product.deleted":
        return ProductEvent(ProductFacts(validate(OrderDeletion, payload).id, available=False, deleted=True))
    return IgnoredEvent(f"unsupported topic {topic}")


def parse(ctx: WebhookContext, headers: Mapping[str, str], raw_body: bytes, now: datetime, content_type: str) -> Delivery:
    extra = {name: headers[header] for header, name in _EXTRA_HEADERS.items() if headers.get(header)}
    ping = _PING_BODY.fullmatch(raw_body)
    if ping:
        # Unsigned by WooCommerce's design. Only this exact form is let through
        # and it changes nothing, so skipping the check grants nothing.
        return Delivery(IgnoredEvent("ping"), topic="ping", extra={**extra, "webhook_id": ping.group(1).decode()})
    verify_base64_signature(ctx.secrets, raw_body, headers.get(SIGNATURE_HEADER.lower()), header=SIGNATURE_HEADER)
    payload = load_json_object(raw_body)
    topic = required_header(headers, TOPIC_HEADER).lower()
    # Delivery ids are new on every send, so they cannot deduplicate: no event_id.
    return Delivery(event=_event(topic, payload, ctx), event_id=None, topic=topic, extra=extra)
