"""Shopify webhooks (REST JSON payloads) → platform-neutral events."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Mapping, Optional

from babel.numbers import get_currency_precision
from pydantic import Field

from chalicelib.domain.money import to_minor
from chalicelib.domain.platform_events import (
    Checkout,
    CheckoutEvent,
    CodeDiscount,
    CheckoutLine,
    CustomerEvent,
    CustomerFacts,
    DataRequestEvent,
    Delivery,
    IgnoredEvent,
    Order,
    OrderDeletedEvent,
    OrderEvent,
    OrderLine,
    ProductEvent,
    Receipt,
    ProductFacts,
    RedactEvent,
    Refund,
    RefundEvent,
    RefundLine,
    ShippingAddress,
    Shipment,
    ShipmentEvent,
    ShopRedactEvent,
    WebhookEvent,
    receipt,
)

from chalicelib.errors import UnsupportedMediaType

from .body import load_json_object
from .context import WebhookContext
from .fields import (
    Amount,
    OptionalTimestamp,
    Payload,
    PlatformId,
    Quantity,
    ShownOnly,
    checked_email,
    first_present,
    place_from,
    referral_from_pairs,
    referral_from_url,
    validate,
)
from .headers import required_header
from .signing import verify_base64_signature
from .tracking import TrackingList, TrackingText, TrackingUrlList, TrackingUrlText, carrier_status, numbers, safe_links

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"

CHECKOUT_TOPICS = frozenset({"checkouts/create", "checkouts/update"})
FULFILLMENT_TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid", "orders/cancelled"})
PRODUCT_TOPICS = frozenset({"products/create", "products/update"})
PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})

# Delivery metadata kept for logs and support, under these names.
_EXTRA_HEADERS = {
    "x-shopify-shop-domain": "shop_domain",
    "x-shopify-api-version": "api_version",
    "x-shopify-webhook-id": "webhook_id",
    "x-shopify-triggered-at": "triggered_at",
}


class Money(Payload):
    amount: Amount
    currency_code: Optional[str] = None


class MoneySet(Payload):
    """An amount in the shop's currency and in the customer's (Shopify Markets' presentment currency)."""

    shop_money: Optional[Money] = None
    presentment_money: Optional[Money] = None


class TaxLine(Payload):
    price: Amount  # shop money, on the line's money after its discounts


class DiscountAllocation(Payload):
    amount: Amount
    # Which of the order's discount_applications gave it.
    discount_application_index: Optional[Annotated[int, Field(ge=0)]] = None


class DiscountApplication(Payload):
    type: Optional[str] = None  # discount_code | manual | script | automatic
    code: Optional[str] = None


class LineItem(Payload):
    id: PlatformId
    quantity: Quantity
    price: Amount
    price_set: Annotated[Optional[MoneySet], ShownOnly] = None
    # What is left after order edits and refunds (REST API 2024-01 on); ``quantity`` stays as ordered.
    current_quantity: Optional[Quantity] = None
    title: Optional[str] = None
    sku: Optional[str] = None
    product_id: Optional[PlatformId] = None
    gift_card: Optional[bool] = False
    total_discount: Optional[Amount] = None
    discount_allocations: Optional[list[DiscountAllocation]] = None
    tax_lines: Optional[list[TaxLine]] = None


class ShippingLine(Payload):
    price: Amount
    discount_allocations: Optional[list[DiscountAllocation]] = None


class DiscountCode(Payload):
    code: str
    amount: Optional[Amount] = None  # the money the code took off the order
    type: Optional[str] = None  # fixed_amount | percentage | shipping


class RefundLineItem(Payload):
    line_item_id: PlatformId
    quantity: Quantity = 0
    subtotal: Optional[Amount] = None


class Transaction(Payload):
    kind: Optional[str] = None
    status: Optional[str] = None
    # In the currency the customer paid in (``currency``): the presentment currency of a
    # Shopify Markets order, not the shop's.
    amount: Optional[Amount] = None
    currency: Optional[str] = None


class OrderAdjustment(Payload):
    kind: Optional[str] = None  # shipping_refund | refund_discrepancy
    amount: Optional[Amount] = None  # shop money
    tax_amount: Optional[Amount] = None
    amount_set: Optional[MoneySet] = None


class ShopifyRefund(Payload):
    id: PlatformId
    order_id: Optional[PlatformId] = None
    created_at: OptionalTimestamp = None
    refund_line_items: Optional[list[RefundLineItem]] = None
    transactions: Optional[list[Transaction]] = None
    order_adjustments: Optional[list[OrderAdjustment]] = None


class RefundCreation(ShopifyRefund):
    """refunds/create: a refund on its own, so it must name its order."""

    order_id: PlatformId


class MarketingConsent(Payload):
    state: Optional[str] = None


class Customer(Payload):
    id: Optional[PlatformId] = None
    email: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    locale: Optional[str] = None
    email_marketing_consent: Optional[MarketingConsent] = None
    accepts_marketing: Optional[bool] = None  # before API 2022-04
    updated_at: OptionalTimestamp = None


class Address(Payload):
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    country_code: Optional[str] = None
    country: Optional[str] = None
    province_code: Optional[str] = None


class ShippingAddressPayload(Payload):
    address1: Optional[str] = None
    city: Optional[str] = None
    zip: Optional[str] = None
    country_code: Optional[str] = None
    country: Optional[str] = None
    province_code: Optional[str] = None


class NoteAttribute(Payload):
    name: Optional[str] = None
    value: Optional[Any] = None


class ShopifyOrder(Payload):
    id: PlatformId
    currency: str
    line_items: list[LineItem]
    name: Optional[str] = None
    email: Optional[str] = None
    contact_email: Optional[str] = None
    financial_status: Optional[str] = None
    cancelled_at: OptionalTimestamp = None
    test: Optional[bool] = False
    created_at: OptionalTimestamp = None
    updated_at: OptionalTimestamp = None
    processed_at: OptionalTimestamp = None
    customer_locale: Optional[str] = None
    shipping_lines: Optional[list[ShippingLine]] = None
    total_price: Optional[Amount] = None
    # The order's money as the customer's receipt has it, shop money: the current_* figures after
    # order edits (and refunds), the others as first placed.
    current_total_price: Annotated[Optional[Amount], ShownOnly] = None
    total_discounts: Annotated[Optional[Amount], ShownOnly] = None
    current_total_discounts: Annotated[Optional[Amount], ShownOnly] = None
    total_tax: Annotated[Optional[Amount], ShownOnly] = None
    current_total_tax: Annotated[Optional[Amount], ShownOnly] = None
    total_shipping_price_set: Annotated[Optional[MoneySet], ShownOnly] = None  # before shipping discounts
    # The same figures in shop money and in the customer's (``presentment_currency``).
    presentment_currency: Optional[str] = None
    total_price_set: Annotated[Optional[MoneySet], ShownOnly] = None
    current_total_price_set: Annotated[Optional[MoneySet], ShownOnly] = None
    total_discounts_set: Annotated[Optional[MoneySet], ShownOnly] = None
    current_total_discounts_set: Annotated[Optional[MoneySet], ShownOnly] = None
    total_tax_set: Annotated[Optional[MoneySet], ShownOnly] = None
    current_total_tax_set: Annotated[Optional[MoneySet], ShownOnly] = None
    # Whether line prices include tax; the goods tax is on the lines' tax_lines either way.
    taxes_included: Optional[bool] = None
    discount_codes: Optional[list[DiscountCode]] = None
    discount_applications: Optional[list[DiscountApplication]] = None
    order_status_url: Optional[str] = None
    refunds: Optional[list[ShopifyRefund]] = None
    customer: Optional[Customer] = None
    billing_address: Optional[Address] = None
    shipping_address: Optional[ShippingAddressPayload] = None
    note_attributes: Optional[list[NoteAttribute]] = None
    landing_site: Optional[str] = None
    checkout_token: Optional[TrackingText] = None


class OrderDeletion(Payload):
    id: PlatformId


class RedactedCustomer(Payload):
    id: Optional[PlatformId] = None
    email: Optional[str] = None
    phone: Optional[str] = None


class CustomerRedaction(Payload):
    customer: RedactedCustomer
    shop_domain: Optional[str] = None
    orders_to_redact: Optional[Annotated[list[PlatformId], Field(max_length=10_000)]] = None


class DataRequestId(Payload):
    id: PlatformId


class DataRequest(Payload):
    """customers/data_request: shop_id, shop_domain, orders_requested, customer {id, email, phone},
    data_request {id}."""

    customer: RedactedCustomer
    data_request: DataRequestId
    shop_domain: Optional[str] = None
    orders_requested: Optional[Annotated[list[PlatformId], Field(max_length=10_000)]] = None


class ShopRedaction(Payload):
    """shop/redact: shop_id, shop_domain."""

    shop_domain: Optional[str] = None


class Fulfillment(Payload):
    """fulfillments/create and fulfillments/update (REST Admin API): one parcel of an order."""

    id: PlatformId
    order_id: PlatformId
    status: Optional[TrackingText] = None  # pending, open, success, cancelled, error, failure
    shipment_status: Optional[TrackingText] = None  # the carrier's scan: in_transit, delivered, ...
    tracking_company: Optional[TrackingText] = None
    tracking_number: Optional[TrackingText] = None
    tracking_numbers: Optional[TrackingList] = None
    tracking_url: Optional[TrackingUrlText] = None
    tracking_urls: Optional[TrackingUrlList] = None
    email: Optional[str] = None
    created_at: OptionalTimestamp = None
    updated_at: OptionalTimestamp = None


class CheckoutLineItem(Payload):
    quantity: Quantity
    price: Amount
    title: Optional[str] = None
    line_price: Optional[Amount] = None
    product_id: Optional[PlatformId] = None
    sku: Optional[str] = None


class ShopifyCheckout(Payload):
    """checkouts/create and checkouts/update (REST Admin API's abandoned checkout resource)."""

    token: PlatformId
    line_items: Annotated[list[CheckoutLineItem], Field(max_length=500)] = []
    currency: Optional[str] = None
    presentment_currency: Optional[str] = None
    email: Optional[str] = None
    abandoned_checkout_url: Optional[TrackingUrlText] = None
    total_price: Optional[Amount] = None
    buyer_accepts_marketing: Optional[bool] = None
    customer_locale: Optional[str] = None
    customer: Optional[Customer] = None
    billing_address: Optional[Address] = None
    completed_at: OptionalTimestamp = None
    updated_at: OptionalTimestamp = None


class ProductVariant(Payload):
    price: Optional[Amount] = None
    inventory_quantity: Optional[Annotated[int, Field(ge=-10**9, le=10**9)]] = None
    inventory_policy: Optional[TrackingText] = None  # "deny": not sold out of stock; "continue": oversold
    inventory_management: Optional[TrackingText] = None  # "shopify": stock is counted; null: not tracked


class ProductImage(Payload):
    src: Optional[TrackingUrlText] = None


class ShopifyProduct(Payload):
    """products/create and products/update (REST Admin API product resource)."""

    id: PlatformId
    title: Optional[Annotated[str, Field(max_length=1000)]] = None
    handle: Optional[Annotated[str, Field(max_length=255)]] = None
    status: Optional[TrackingText] = None  # active, draft, archived
    published_at: OptionalTimestamp = None
    updated_at: OptionalTimestamp = None
    variants: Annotated[list[ProductVariant], Field(max_length=2048)] = []
    image: Optional[ProductImage] = None
    images: Annotated[list[ProductImage], Field(max_length=250)] = []


def _sellable(variant: ProductVariant) -> bool:
    if (variant.inventory_management or "").lower() != "shopify" or (variant.inventory_policy or "").lower() == "continue":
        return True  # stock not counted, or sold when out of stock
    return (variant.inventory_quantity or 0) > 0


def product_from_payload(product: ShopifyProduct, exponent: int, storefront_url: str) -> ProductFacts:
    """Available when active, published on the online store and one variant can be bought; the
    price is the lowest of the variants that can (of all when none can); the page is the handle's."""
    from urllib.parse import quote

    sellable = [variant for variant in product.variants if _sellable(variant)]
    prices = [variant.price for variant in (sellable or product.variants) if variant.price is not None and variant.price >= 0]
    handle = (product.handle or "").strip()
    url = f"{storefront_url.rstrip('/')}/products/{quote(handle, safe='')}" if handle and storefront_url else None
    images = safe_links([product.image.src if product.image else None, *(image.src for image in product.images)])
    status = (product.status or "active").strip().lower()
    return ProductFacts(product_id=product.id, title=" ".join((product.title or "").split())[:255],
                        url=url if url and safe_links([url]) else None, image_url=images[0] if images else None,
                        price_minor=to_minor(min(prices), exponent) if prices else None,
                        available=status == "active" and product.published_at is not None and bool(sellable),
                        updated_at=product.updated_at)


def checkout_from_payload(checkout: ShopifyCheckout, exponent: int) -> Checkout:
    facts = _customer_facts(checkout.customer, email=checked_email(checkout.email, "email") if first_present(checkout.email)
                            else None, locale=checkout.customer_locale, billing=checkout.billing_address)
    # Ticking "email me with news and offers" at checkout is consent; not ticking it says nothing.
    consent = True if checkout.buyer_accepts_marketing or facts.marketing_consent else None
    facts = CustomerFacts(**{**facts.__dict__, "marketing_consent": consent})
    lines = tuple(CheckoutLine(title=(line.title or line.sku or "")[:255], quantity=line.quantity,
                               total_minor=to_minor(line.line_price if line.line_price is not None
                                                    else line.price * line.quantity, exponent),
                               product_id=line.product_id, sku=first_present(line.sku))
                  for line in checkout.line_items)
    recovery = safe_links([checkout.abandoned_checkout_url])
    return Checkout(token=checkout.token, customer=facts, lines=lines, recovery_url=recovery[0] if recovery else None,
                    total_minor=to_minor(checkout.total_price, exponent) if checkout.total_price is not None
                    else sum(line.total_minor for line in lines),
                    currency=(checkout.currency or checkout.presentment_currency or "").upper(),
                    completed=checkout.completed_at is not None, updated_at=checkout.updated_at)


# A fulfillment's own status: "success" has left the warehouse; "pending" and "open" wait for a
# fulfillment service, unless a tracking number already says the carrier has the parcel
# (Shopify's documented sample payload is such a "pending" fulfillment with UPS tracking).
_FULFILLMENT_NOT_SENT = frozenset({"pending", "open"})
_FULFILLMENT_FAILED = frozenset({"error", "failure"})


def shipment_from_fulfillment(fulfillment: Fulfillment) -> Shipment:
    state = (fulfillment.status or "success").strip().lower()
    tracked = bool(fulfillment.tracking_number or fulfillment.tracking_numbers or fulfillment.tracking_url
                   or fulfillment.tracking_urls)
    if state in _FULFILLMENT_NOT_SENT and not tracked and not fulfillment.shipment_status:
        status = "label_printed"
    elif state in _FULFILLMENT_FAILED:
        status = "failure"
    else:
        status = carrier_status(fulfillment.shipment_status)
    email = first_present(fulfillment.email)
    return Shipment(
        shipment_id=fulfillment.id,
        order_id=fulfillment.order_id,
        status=status,
        carrier=(fulfillment.tracking_company or "").strip(),
        tracking_numbers=numbers([*(fulfillment.tracking_numbers or ()), fulfillment.tracking_number]),
        tracking_urls=tuple(dict.fromkeys(safe_links([*(fulfillment.tracking_urls or ()), fulfillment.tracking_url]))),
        cancelled=state == "cancelled",
        email=checked_email(email, "email") if email else None,
        shipped_at=fulfillment.created_at,
    )


def _marketing_consent(customer: Customer) -> Optional[bool]:
    consent = customer.email_marketing_consent
    if consent is not None and consent.state is not None:
        # "pending" is an unconfirmed double opt-in: not consent yet.
        return consent.state == "subscribed"
    return customer.accepts_marketing


def _customer_facts(customer: Optional[Customer], *, email: Optional[str] = None, locale: Optional[str] = None, billing: Optional[Address] = None) -> CustomerFacts:
    customer = customer or Customer()
    billing = billing or Address()
    return CustomerFacts(
        email=first_present(email, customer.email),
        platform_customer_id=customer.id,
        first_name=first_present(customer.first_name, billing.first_name),
        last_name=first_present(customer.last_name, billing.last_name),
        locale=first_present(locale, customer.locale),
        marketing_consent=_marketing_consent(customer),
        updated_at=customer.updated_at,
    )


def _bought_units(line: LineItem, refunded_units: int) -> int:
    """The units the customer bought: those ordered less those an order edit removed. Units a
    refund took back were bought (their refund takes their points back); units gone from
    ``current_quantity`` without a refund were never paid for, as when a cash-on-delivery
    order is edited before it is paid."""
    if line.current_quantity is None:
        return line.quantity
    removed = line.quantity - line.current_quantity - refunded_units
    return line.quantity - min(max(removed, 0), line.quantity)


def _order_line(line: LineItem, exponent: int, refunded_units: int = 0) -> OrderLine:
    if line.discount_allocations is not None:
        discount = sum((allocation.amount for allocation in line.discount_allocations), Decimal(0))
    else:
        discount = line.total_discount or Decimal(0)
    units = _bought_units(line, refunded_units)
    money = line.price * line.quantity - discount
    if units < line.quantity:
        money = money * units / line.quantity  # removed units take their share of the discount along
    paid = to_minor(money, exponent)
    return OrderLine(
        list_minor=to_minor(line.price * units, exponent),
        line_id=line.id,
        quantity=units,
        # Shopify's own arithmetic is not ours to reject: a 400 only makes it
        # retry for four hours and then drop the order.
        paid_minor=max(paid, 0),
        sku=first_present(line.sku),
        product_id=line.product_id,
        title=line.title or "",
        gift_card=bool(line.gift_card),
    )


# A refund transaction that did not go through. Shopify Payments answers a refund "pending"
# ("submitted and processing") and no later refunds/create says it succeeded: the money is the
# refund's from the start, as Shopify's own financial_status has it.
_FAILED_TRANSACTION = frozenset({"failure", "error"})


def _shop_money(adjustment: OrderAdjustment) -> Decimal:
    shop = adjustment.amount_set.shop_money if adjustment.amount_set else None
    return shop.amount if shop is not None else adjustment.amount or Decimal(0)


def _money_refunded_without_lines(refund: ShopifyRefund, shop_currency: str) -> Decimal:
    """An amount-only refund names no lines: the money paid back in refund transactions, less
    what went back as shipping, is goods money, in the shop's currency.

    The transactions are in the customer's currency (USD 1,012.70 refunded on a CAD shop's
    Shopify Markets order); Shopify states the same money in shop money on the refund's
    ``refund_discrepancy`` adjustment (its ``amount_set.shop_money``, negative for money paid
    back beyond what lines and shipping account for), which is therefore the measure. The share
    of it that failed transactions stand for is not counted."""
    if refund.refund_line_items:
        return Decimal(0)
    refunds = [transaction for transaction in refund.transactions or () if transaction.kind == "refund"]
    counted = [transaction for transaction in refunds
               if (transaction.status or "").lower() not in _FAILED_TRANSACTION]
    refunded = sum((transaction.amount or Decimal(0) for transaction in counted), Decimal(0))
    attempted = sum((transaction.amount or Decimal(0) for transaction in refunds), Decimal(0))
    discrepancies = [adjustment for adjustment in refund.order_adjustments or ()
                     if adjustment.kind == "refund_discrepancy"]
    if discrepancies:
        if refunded <= 0 or attempted <= 0:
            return Decimal(0)
        beyond = -sum((_shop_money(adjustment) for adjustment in discrepancies), Decimal(0))
        return max(beyond * refunded / attempted, Decimal(0))
    if any((transaction.currency or shop_currency).upper() != shop_currency.upper() for transaction in counted):
        # Money in the customer's currency and nothing saying what it is in the shop's: no rate
        # is guessed; the refund takes nothing back (docs/data-model.md).
        return Decimal(0)
    shipping = sum(
        (abs(adjustment.amount or 0) + abs(adjustment.tax_amount or 0) for adjustment in refund.order_adjustments or () if adjustment.kind == "shipping_refund"),
        Decimal(0),
    )
    return max(refunded - shipping, Decimal(0))


def _refund(refund: ShopifyRefund, order_id: str, exponent: int, shop_currency: str) -> Refund:
    lines = tuple(
        RefundLine(
            line_id=item.line_item_id,
            quantity=item.quantity,
            # Quantity 0 with money: an amount refunded without returning units.
            amount_minor=abs(to_minor(item.subtotal, exponent)) if item.quantity == 0 and item.subtotal else 0,
        )
        for item in refund.refund_line_items or ()
    )
    money = to_minor(_money_refunded_without_lines(refund, shop_currency), exponent)
    return Refund(
        refund_id=refund.id,
        order_id=refund.order_id or order_id,
        lines=lines,
        amount_minor=money,
        created_at=refund.created_at,
        # What went back to the customer, tax and all: the lines of a shop whose prices exclude
        # tax earned on net, which the order record knows and the refund does not.
        amount_with_tax=money > 0,
    )


def _order_email(order: ShopifyOrder) -> Optional[str]:
    """The order's address (``email``, else ``contact_email``, else the customer's), valid or a 400."""
    for field, value in (("email", order.email), ("contact_email", order.contact_email),
                         ("customer.email", order.customer.email if order.customer else None)):
        if first_present(value):
            return checked_email(value, field)
    return None


def _applied_codes(order: ShopifyOrder) -> list[tuple[int, str]]:
    """The discount codes among the order's discount applications, with their index."""
    return [(index, application.code) for index, application in enumerate(order.discount_applications or ())
            if (application.type or "") == "discount_code" and first_present(application.code)]


def _codes(order: ShopifyOrder) -> tuple[str, ...]:
    """The order's discount codes: ``discount_codes``, and any code only its discount applications name."""
    codes = [code.code for code in order.discount_codes or ()]
    known = {code.strip().upper() for code in codes}
    codes += [code for _, code in _applied_codes(order) if code.strip().upper() not in known]
    return tuple(codes)


def _code_discounts(order: ShopifyOrder, exponent: int) -> tuple[CodeDiscount, ...]:
    """The money each code took off: ``discount_codes[].amount``, else (a code only the discount
    applications name, or one listed without amount) the sum of the line and shipping allocations
    that point at its application."""
    found = [CodeDiscount(code.code, max(to_minor(code.amount, exponent), 0))
             for code in order.discount_codes or () if code.amount is not None]
    stated = {discount.code.strip().upper() for discount in found}
    allocations = [allocation for line in order.line_items for allocation in line.discount_allocations or ()]
    allocations += [allocation for shipping in order.shipping_lines or () for allocation in shipping.discount_allocations or ()]
    for index, code in _applied_codes(order):
        if code.strip().upper() in stated:
            continue
        amount = sum((a.amount for a in allocations if a.discount_application_index == index), Decimal(0))
        found.append(CodeDiscount(code, max(to_minor(amount, exponent), 0)))
        stated.add(code.strip().upper())
    return tuple(found)


def order_from_payload(order: ShopifyOrder, exponent: int) -> Order:
    paid = (order.financial_status or "").lower() in PAID_STATUSES
    refunded_units: dict[str, int] = {}
    for refund in order.refunds or ():
        for item in refund.refund_line_items or ():
            refunded_units[item.line_item_id] = refunded_units.get(item.line_item_id, 0) + item.quantity
    lines = tuple(_order_line(line, exponent, refunded_units.get(line.id, 0)) for line in order.line_items)
    shipping = sum(to_minor(shipping_line.price, exponent) for shipping_line in order.shipping_lines or ())
    total = to_minor(order.total_price, exponent) if order.total_price is not None else sum(line.paid_minor for line in lines) + shipping
    return Order(
        order_id=order.id,
        customer=_customer_facts(
            order.customer,
            email=_order_email(order),
            locale=order.customer_locale,
            billing=order.billing_address,
        ),
        currency=order.currency.upper(),
        lines=lines,
        paid=paid,
        cancelled=order.cancelled_at is not None,
        name=order.name or "",
        created_at=order.created_at,
        paid_at=order.processed_at if paid else None,
        shipping_minor=shipping,
        total_minor=total,
        discount_codes=_codes(order),
        code_discounts=_code_discounts(order, exponent),
        refunds=tuple(_refund(refund, order.id, exponent, order.currency) for refund in order.refunds or ()),
        # Shopify lists every refund in detail, so "refunded" needs no special flag.
        fully_refunded=False,
        status_url=order.order_status_url,
        test=bool(order.test),
        shipping_address=_shipping_address(order.shipping_address),
        place=_place(order),
        referral_code=referral_from_pairs((a.name, a.value) for a in order.note_attributes or ())
        or referral_from_url(order.landing_site),
        checkout_token=first_present(order.checkout_token),
        goods_tax_minor=_goods_tax_minor(order, refunded_units, exponent),
        receipt=_receipt(order, lines, refunded_units, exponent),
    )


def _receipt(order: ShopifyOrder, lines: tuple[OrderLine, ...], refunded_units: dict[str, int],
             exponent: int) -> Optional[Receipt]:
    """What the customer paid, row by row: in the currency they paid in (presentment money) when
    the payload states every figure in it and they add up, else in shop money. The current_*
    figures follow order edits, and refunds too: an order that reaches us already refunded is
    shown as it was paid (the first figures), unless an edit also removed units, when neither set
    is the one paid."""
    units = [_bought_units(line, refunded_units.get(line.id, 0)) for line in order.line_items]
    if order.refunds and any(bought < line.quantity for bought, line in zip(units, order.line_items)):
        return None
    paid_in = (order.presentment_currency or "").strip().upper()
    if paid_in and paid_in != order.currency.strip().upper():
        found = _presentment_receipt(order, units, paid_in)
        if found is not None:
            return found
    first = bool(order.refunds)
    total = order.total_price if first else _first_known(order.current_total_price, order.total_price)
    if total is None:
        return None
    discounts = order.total_discounts if first else _first_known(order.current_total_discounts, order.total_discounts)
    tax = order.total_tax if first else _first_known(order.current_total_tax, order.total_tax)
    shipping_set = order.total_shipping_price_set
    shipping_money = shipping_set.shop_money if shipping_set else None
    shipping = to_minor(shipping_money.amount, exponent) if shipping_money is not None \
        else sum(to_minor(line.price, exponent) for line in order.shipping_lines or ()) if order.shipping_lines is not None \
        else None
    return receipt(total_minor=to_minor(total, exponent),
                   subtotal_minor=sum(line.list_minor or 0 for line in lines),
                   discount_minor=to_minor(discounts, exponent) if discounts is not None else 0,
                   shipping_minor=shipping,
                   tax_minor=to_minor(tax, exponent) if tax is not None else None,
                   taxes_included=order.taxes_included)


def _presentment_receipt(order: ShopifyOrder, units: list[int], currency: str) -> Optional[Receipt]:
    """The receipt in the customer's currency (a Shopify Markets order), in its own minor units;
    None unless the payload states the total and every line's price in it and the rows add up."""
    exponent = get_currency_precision(currency)

    def amount(*sets: Optional[MoneySet]) -> Optional[int]:
        money_set = _first_known(*sets)
        money = money_set.presentment_money if money_set is not None else None
        if money is None or (money.currency_code or currency).strip().upper() != currency:
            return None
        return to_minor(money.amount, exponent)

    first = bool(order.refunds)
    total = amount(order.total_price_set) if first else amount(order.current_total_price_set, order.total_price_set)
    prices = [amount(line.price_set) for line in order.line_items]
    if total is None or None in prices:
        return None
    discounts = amount(order.total_discounts_set) if first \
        else amount(order.current_total_discounts_set, order.total_discounts_set)
    tax = amount(order.total_tax_set) if first else amount(order.current_total_tax_set, order.total_tax_set)
    items = tuple(price * bought for price, bought in zip(prices, units))
    found = receipt(total_minor=total, subtotal_minor=sum(items), discount_minor=discounts or 0,
                    shipping_minor=amount(order.total_shipping_price_set), tax_minor=tax,
                    taxes_included=order.taxes_included, currency=currency, items_minor=items)
    return found if found.subtotal_minor is not None else None


def _first_known(*values):
    return next((value for value in values if value is not None), None)


def _goods_tax_minor(order: ShopifyOrder, refunded_units: dict[str, int], exponent: int) -> Optional[int]:
    """The tax on the bought units that their line money leaves out: none where prices include
    tax; the lines' own tax_lines (shop money, on the discounted money) where they exclude it."""
    if order.taxes_included is None:
        return None
    if order.taxes_included:
        return 0
    tax = Decimal(0)
    for line in order.line_items:
        line_tax = sum((tax_line.price for tax_line in line.tax_lines or ()), Decimal(0))
        units = _bought_units(line, refunded_units.get(line.id, 0))
        tax += line_tax * units / line.quantity if line.quantity else Decimal(0)
    return max(to_minor(tax, exponent), 0)


def _place(order: ShopifyOrder):
    return place_from(*((address.country_code or address.country, address.province_code)
                        for address in (order.shipping_address, order.billing_address) if address is not None))


def _shipping_address(address: Optional[ShippingAddressPayload]) -> Optional[ShippingAddress]:
    if address is None or not address.address1:
        return None
    return ShippingAddress(address.address1 or "", address.city or "", address.zip or "",
                           address.country_code or address.country or "")


def _event(topic: str, payload: dict, ctx: WebhookContext) -> tuple[WebhookEvent, dict]:
    if topic in ORDER_TOPICS:
        # Checked before validation: a test order is ignored whatever its shape.
        if payload.get("test") is True:
            return IgnoredEvent("test order"), {}
        return OrderEvent(order_from_payload(validate(ShopifyOrder, payload), ctx.minor_exponent)), {}
    if topic in PRODUCT_TOPICS:
        return ProductEvent(product_from_payload(validate(ShopifyProduct, payload), ctx.minor_exponent,
                                                 ctx.storefront_url)), {}
    if topic == "products/delete":
        return ProductEvent(ProductFacts(validate(OrderDeletion, payload).id, available=False, deleted=True)), {}
    if topic in CHECKOUT_TOPICS:
        return CheckoutEvent(checkout_from_payload(validate(ShopifyCheckout, payload), ctx.minor_exponent)), {}
    if topic in FULFILLMENT_TOPICS:
        return ShipmentEvent(shipment_from_fulfillment(validate(Fulfillment, payload))), {}
    if topic == "orders/delete":
        return OrderDeletedEvent(validate(OrderDeletion, payload).id), {}
    if topic == "refunds/create":
        refund = validate(RefundCreation, payload)
        return RefundEvent(_refund(refund, refund.order_id, ctx.minor_exponent, ctx.currency)), {}
    if topic in ("customers/create", "customers/update"):
        customer = validate(Customer, payload)
        checked_email(customer.email, "email")
        return CustomerEvent(_customer_facts(customer)), {}
    if topic == "customers/redact":
        redaction = validate(CustomerRedaction, payload)
        facts = CustomerFacts(email=first_present(redaction.customer.email), platform_customer_id=redaction.customer.id)
        orders = tuple(redaction.orders_to_redact or ())
        return RedactEvent(facts, orders), {"orders_to_redact": list(orders)}
    if topic == "customers/data_request":
        request = validate(DataRequest, payload)
        facts = CustomerFacts(email=first_present(request.customer.email), platform_customer_id=request.customer.id)
        return DataRequestEvent(facts, request.data_request.id, tuple(request.orders_requested or ())), {}
    if topic == "shop/redact":
        return ShopRedactEvent(validate(ShopRedaction, payload).shop_domain), {}
    return IgnoredEvent(f"unsupported topic {topic}"), {}


def parse(ctx: WebhookContext, headers: Mapping[str, str], raw_body: bytes, now: datetime, content_type: str) -> Delivery:
    # Shopify delivers JSON only (webhook subscriptions in XML are deprecated): anything else is not Shopify's.
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(f"content-type: Shopify deliveries are application/json, not {media_type or 'none'}",
                                   field="content-type")
    verify_base64_signature(ctx.secrets, raw_body, headers.get(SIGNATURE_HEADER.lower()), header=SIGNATURE_HEADER)
    payload = load_json_object(raw_body)
    topic = required_header(headers, TOPIC_HEADER).lower()
    event, extra = _event(topic, payload, ctx)
    extra.update({name: headers[header] for header, name in _EXTRA_HEADERS.items() if headers.get(header)})
    event_id = headers.get("x-shopify-event-id") or headers.get("x-shopify-webhook-id") or None
    return Delivery(event=event, event_id=event_id, topic=topic, extra=extra)
