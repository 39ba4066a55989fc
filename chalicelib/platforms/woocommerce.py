"""WooCommerce webhooks (REST API v3 resources) → platform-neutral events."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Mapping, Optional

from chalicelib.domain.loyalty.order_record import allocate
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
    RefundLine,
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


class FeeLine(Payload):
    """A fee line: a surcharge, or, with a negative ``total``, a discount the shop gave as a fee."""

    total: Amount  # without tax
    total_tax: Optional[Amount] = None
    name: Optional[str] = None


class RefundedItem(Payload):
    """A line item of a refund resource (``GET /wc/v3/orders/{id}/refunds``): negative amounts;
    the order's line it refunds is named by its ``_refunded_item_id`` meta."""

    id: PlatformId
    total: Amount  # negative, without tax
    total_tax: Optional[Amount] = None
    meta_data: Optional[list[MetaData]] = None


class RefundedCharge(Payload):
    """A shipping or fee line of a refund resource: money that earned nothing."""

    total: Optional[Amount] = None
    total_tax: Optional[Amount] = None


class WooRefund(Payload):
    id: PlatformId
    total: Amount  # negative: "-5.00", tax included
    # Present only where the refund resource's own lines were merged in (reconciliation reads
    # them from the refunds endpoint); the order webhook's ``refunds`` carry id, reason and total.
    line_items: Optional[list[RefundedItem]] = None
    shipping_lines: Optional[list[RefundedCharge]] = None
    fee_lines: Optional[list[RefundedCharge]] = None

    @property
    def itemized(self) -> bool:
        return self.line_items is not None or self.shipping_lines is not None or self.fee_lines is not None


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
    customer_id: Optional[int] = None
    billing: Optional[Billing] = None
    coupon_lines: Optional[list[CouponLine]] = None
    fee_lines: Optional[list[FeeLine]] = None
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


def _refund_from_payload(refund: WooRefund, order: WooOrder, to_minor_units) -> Refund:
    """A refund listed on the order. The order webhook says only its total, which cannot tell
    goods from shipping or fees: that money counts as goods (docs/data-model.md, "WooCommerce money"), and the
    lines can never give back more than they earned. A refund whose own lines are known
    (the refund resource) gives back what its goods lines returned and nothing for shipping or
    fees; money it returned beyond its lines counts as goods, as a bare total does."""
    if not refund.itemized:
        return Refund(refund_id=refund.id, order_id=order.id,
                      amount_minor=to_minor_units(_refunded_goods_money(refund.total, order)))
    include_tax = bool(order.prices_include_tax)
    order_lines = {line.id for line in order.line_items}
    lines, unnamed_goods, itemized_gross = [], Decimal(0), Decimal(0)
    for item in refund.line_items or ():
        itemized_gross += abs(item.total) + abs(item.total_tax or Decimal(0))
        money = abs(_with_tax(item.total, item.total_tax, include_tax))
        refunded_id = next((str(m.value).strip() for m in item.meta_data or ()
                            if m.key == "_refunded_item_id" and m.value is not None), None)
        if refunded_id in order_lines:
            lines.append(RefundLine(line_id=refunded_id, amount_minor=to_minor_units(money)))
        else:
            unnamed_goods += money
    for charge in (*(refund.shipping_lines or ()), *(refund.fee_lines or ())):
        itemized_gross += abs(charge.total or Decimal(0)) + abs(charge.total_tax or Decimal(0))
    beyond_lines = max(abs(refund.total) - itemized_gross, Decimal(0))
    amount = unnamed_goods + (_refunded_goods_money(beyond_lines, order) if beyond_lines else Decimal(0))
    return Refund(refund_id=refund.id, order_id=order.id, lines=tuple(lines), amount_minor=to_minor_units(amount))


def _fee_discount(order: WooOrder) -> Decimal:
    """The money negative fee lines took off the order, counted as the lines count (with its tax
    where prices include tax). Positive fees (surcharges, gift wrap) are not goods: they earn nothing."""
    include_tax = bool(order.prices_include_tax)
    return sum((-_with_tax(fee.total, fee.total_tax, include_tax) for fee in order.fee_lines or () if fee.total < 0),
               Decimal(0))


def _less_discount(paid: list[int], discount_minor: int) -> list[int]:
    """The lines' paid money less a discount that no line carries, spread by what each paid."""
    if discount_minor <= 0:
        return paid
    if discount_minor >= sum(paid):
        return [0] * len(paid)
    return [amount - part for amount, part in zip(paid, allocate(discount_minor, paid))]


# Multi-currency plugins' order meta: WooPayments names the store's currency and the price of one
# of its units in the order's currency; Aelia Currency Switcher keeps the rate from the order's
# currency to the store's (base) currency, and the order's total in it.
WCPAY_RATE_META = "_wcpay_multi_currency_order_exchange_rate"
WCPAY_DEFAULT_CURRENCY_META = "_wcpay_multi_currency_order_default_currency"
AELIA_RATE_META = "_base_currency_exchange_rate"
AELIA_TOTAL_META = "_order_total_base_currency"
# Beyond these a rate is a plugin's mistake, not a currency (no two currencies are 10^6 apart).
_RATE_RANGE = (Decimal("0.000001"), Decimal(1_000_000))


def _meta_decimal(order: WooOrder, key: str) -> Optional[Decimal]:
    raw = next((m.value for m in order.meta_data or () if m.key == key), None)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        return None
    try:
        value = Decimal(str(raw).strip())
    except ArithmeticError:
        return None
    return value if value.is_finite() and _RATE_RANGE[0] <= value <= _RATE_RANGE[1] else None


def shop_currency_rate(order: WooOrder, shop_currency: Optional[str]) -> Optional[Decimal]:
    """What one unit of the order's currency is in the shop's, as the order's own meta says: 1 for
    an order in the shop's currency; None where no multi-currency plugin recorded it."""
    if shop_currency is None or order.currency.strip().upper() == shop_currency.upper():
        return Decimal(1)
    default = next((m.value for m in order.meta_data or () if m.key == WCPAY_DEFAULT_CURRENCY_META), None)
    wcpay = _meta_decimal(order, WCPAY_RATE_META)
    if wcpay is not None and isinstance(default, str) and default.strip().upper() == shop_currency.upper():
        return 1 / wcpay
    # Aelia converts to the store's base currency, which is the shop's currency here.
    aelia = _meta_decimal(order, AELIA_RATE_META)
    if aelia is not None:
        return aelia
    base_total = _meta_decimal(order, AELIA_TOTAL_META)
    if base_total is not None and order.total and order.total > 0:
        rate = base_total / order.total
        return rate if _RATE_RANGE[0] <= rate <= _RATE_RANGE[1] else None
    return None


def with_refund_lines(payload: dict, refunds: list[dict]) -> dict:
    """The order payload with each listed refund's own lines, from the refund resources the
    refunds endpoint answered (matched by id; a refund it did not describe stays a bare total)."""
    described = {str(refund.get("id")): refund for refund in refunds}
    listed = payload.get("refunds")
    if not isinstance(listed, list):
        return payload
    merged = []
    for entry in listed:
        resource = described.get(str(entry.get("id"))) if isinstance(entry, dict) else None
        if resource is None:
            merged.append(entry)
            continue
        merged.append({**entry, **{key: resource[key] for key in ("line_items", "shipping_lines", "fee_lines")
                                   if isinstance(resource.get(key), list)}})
    return {**payload, "refunds": merged}


def _is_paid(order: WooOrder) -> bool:
    status = order.status.lower()
    return status in PAID_STATUSES or (order.date_paid_gmt is not None and status not in UNPAID_STATUSES)


def order_from_payload(order: WooOrder, exponent: int, shop_currency: Optional[str] = None) -> Order:
    """The order in platform-neutral terms. An order in another currency than the shop's comes in
    the shop's currency where a multi-currency plugin recorded the rate (every amount times it),
    else in its own currency, which the ledger does not count (docs/data-model.md, "WooCommerce money")."""
    include_tax = bool(order.prices_include_tax)
    rate = shop_currency_rate(order, shop_currency)
    converted = rate is not None and rate != 1

    def minor(amount: Decimal) -> int:
        return to_minor(amount * rate if converted else amount, exponent)

    paid = _less_discount([max(minor(_with_tax(line.total, line.total_tax, include_tax)), 0)
                           for line in order.line_items], minor(_fee_discount(order)))
    lines = tuple(
        OrderLine(
            line_id=line.id,
            quantity=line.quantity,
            paid_minor=paid_minor,
            sku=first_present(line.sku),
            product_id=str(line.product_id) if line.product_id else None,
            title=line.name or "",
            list_minor=max(to_minor(_with_tax(line.subtotal, line.subtotal_tax, include_tax), exponent), 0)
            if line.subtotal is not None else None,
        )
        for line, paid_minor in zip(order.line_items, paid)
    )
    shipping = minor(_with_tax(order.shipping_total or Decimal(0), order.shipping_tax, include_tax))
    is_paid = _is_paid(order)
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
        currency=shop_currency.upper() if converted else order.currency.upper(),
        lines=lines,
        paid=is_paid,
        cancelled=order.status.lower() == "cancelled",
        name=f"#{order.number or order.id}",
        created_at=order.date_created_gmt,
        paid_at=order.date_paid_gmt if is_paid else None,
        shipping_minor=shipping,
        total_minor=minor(order.total) if order.total is not None else sum(line.paid_minor for line in lines) + shipping,
        discount_codes=tuple(coupon.code for coupon in order.coupon_lines or ()),
        # The coupon's discount, with its tax where the shop's prices include tax (as the lines count).
        code_discounts=tuple(
            CodeDiscount(coupon.code, max(minor(_with_tax(coupon.discount, coupon.discount_tax, include_tax)), 0))
            for coupon in order.coupon_lines or () if coupon.discount is not None),
        refunds=tuple(_refund_from_payload(refund, order, minor) for refund in order.refunds or ()),
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
        return OrderEvent(order_from_payload(validate(WooOrder, payload), ctx.minor_exponent, ctx.currency))
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
