"""What a shop tells us, in platform-neutral form.

Platform adapters (``chalicelib.platforms``) turn webhook payloads into these
objects; the loyalty rules only ever see these. Money is integer minor units of
the shop's currency.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional, Union


@dataclass(frozen=True)
class CustomerFacts:
    """What a payload says about the customer; ``None`` means "not stated"."""

    email: Optional[str] = None
    platform_customer_id: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    locale: Optional[str] = None
    marketing_consent: Optional[bool] = None
    birthday: Optional[date] = None
    updated_at: Optional[datetime] = None


@dataclass(frozen=True)
class ShippingAddress:
    address1: str = ""
    city: str = ""
    zip: str = ""
    country: str = ""


@dataclass(frozen=True)
class Place:
    """Where the customer is, as the order's address names it: the country (ISO 3166-1 code or a
    name) and the state or province (an ISO 3166-2 subdivision code or a platform's own code)."""

    country: str = ""
    province: str = ""


@dataclass(frozen=True)
class CodeDiscount:
    """The money a discount code took off an order, as the platform reports it (Shopify's
    ``discount_codes[].amount`` or its discount allocations, WooCommerce's coupon line discount and
    its tax, the generic ``discounts``), in minor units."""

    code: str
    amount_minor: int


@dataclass(frozen=True)
class Receipt:
    """The money rows of an order as the platform states them, in minor units of the shop's
    currency (or of ``currency``): what the customer compares an e-mail with. ``subtotal_minor`` is the items at their
    prices before discounts (``OrderLine.list_minor`` added up), ``discount_minor`` everything the
    discounts took off (shipping discounts too), ``shipping_minor`` shipping before its discounts,
    ``tax_minor`` the order's tax, ``total_minor`` what the customer paid. ``taxes_included``: the
    prices include the tax (True), exclude it (False), or the payload does not say (None). None
    means "the platform does not say": such a row is never shown."""

    total_minor: int
    subtotal_minor: Optional[int] = None
    discount_minor: int = 0
    shipping_minor: Optional[int] = None
    tax_minor: Optional[int] = None
    taxes_included: Optional[bool] = None
    # Charges the shop added by name (WooCommerce's fee lines: "Gift wrapping"), each with its amount.
    fees: tuple[tuple[str, int], ...] = ()
    # The currency the customer paid in when it is not the shop's (a Shopify Markets order), with
    # the order's lines at their prices before discounts in it (in the order's line order): the
    # rows are then in that currency, in its own minor units. None: the shop's currency.
    currency: Optional[str] = None
    items_minor: tuple[int, ...] = ()


def receipt(*, total_minor: int, subtotal_minor: Optional[int], discount_minor: int, shipping_minor: Optional[int],
            tax_minor: Optional[int], taxes_included: Optional[bool],
            fees: tuple[tuple[str, int], ...] = (), currency: Optional[str] = None,
            items_minor: tuple[int, ...] = ()) -> Receipt:
    """The receipt of the platform's figures, keeping the items' subtotal and the discount only
    when the rows add up to the total (subtotal − discount + shipping + fees + tax the prices
    leave out). A total they do not reach holds something else (duties, tips, a refund the
    figures already took off): the rows that would explain it are left out rather than shown
    wrong."""
    excluded_tax = tax_minor or 0 if taxes_included is False else 0
    fees_minor = sum(amount for _, amount in fees)
    if subtotal_minor is None or (subtotal_minor - discount_minor + (shipping_minor or 0) + fees_minor + excluded_tax
                                  != total_minor):
        subtotal_minor, discount_minor = None, 0
    if taxes_included is None:
        tax_minor = None  # inside the prices or on top of them: the payload does not say, so not shown
    return Receipt(total_minor=total_minor, subtotal_minor=subtotal_minor, discount_minor=max(discount_minor, 0),
                   shipping_minor=shipping_minor, tax_minor=tax_minor, taxes_included=taxes_included,
                   fees=tuple((name, amount) for name, amount in fees if amount), currency=currency,
                   items_minor=items_minor)


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    quantity: int
    # What the customer paid for the whole line after every discount: tax
    # included where the shop's prices include tax, never shipping.
    paid_minor: int
    sku: Optional[str] = None
    product_id: Optional[str] = None
    title: str = ""
    categories: tuple[str, ...] = ()
    gift_card: bool = False
    # The line at its price before any discount (price × units bought), as the receipt lists it;
    # None where the platform's figures are not kept (see ``Order.receipt``).
    list_minor: Optional[int] = None


@dataclass(frozen=True)
class RefundLine:
    line_id: str
    quantity: int = 0
    # A money amount refunded against this line without returning units.
    amount_minor: int = 0


@dataclass(frozen=True)
class Refund:
    refund_id: str
    order_id: str
    lines: tuple[RefundLine, ...] = ()
    # Goods money refunded without naming lines (WooCommerce refunds carry only a
    # total); spread over the order's lines in proportion to what they earned.
    amount_minor: int = 0
    created_at: Optional[datetime] = None
    # ``amount_minor`` is money paid back with its tax, and the refund alone cannot say whether
    # the lines earned on net (Shopify's refunds/create): the order record, which knows the
    # order's goods tax, brings it to the lines' terms.
    amount_with_tax: bool = False


@dataclass(frozen=True)
class Shipment:
    """One parcel of an order on its way: a Shopify fulfillment, a WooCommerce Shipment Tracking
    item, a generic ``shipment`` event. ``status`` is the carrier's state in our words
    (``SHIPMENT_STATUSES``); ``cancelled`` is a fulfillment the shop took back."""

    shipment_id: str
    order_id: str
    status: str = "in_transit"
    carrier: str = ""
    tracking_numbers: tuple[str, ...] = ()
    tracking_urls: tuple[str, ...] = ()
    cancelled: bool = False
    # The address the platform names on the shipment (Shopify fulfillments carry ``email``): used
    # only when the order itself never reached us.
    email: Optional[str] = None
    shipped_at: Optional[datetime] = None


# The carrier states a shipment can be in, in our words (Shopify's shipment_status values map
# onto them one to one; a fulfillment without one is "in_transit" once it succeeded).
SHIPMENT_STATUSES = ("label_printed", "confirmed", "in_transit", "out_for_delivery", "attempted_delivery",
                     "ready_for_pickup", "delivered", "failure")


@dataclass(frozen=True)
class Order:
    order_id: str
    customer: CustomerFacts
    currency: str
    lines: tuple[OrderLine, ...]
    paid: bool
    cancelled: bool = False
    name: str = ""
    created_at: Optional[datetime] = None
    paid_at: Optional[datetime] = None
    shipping_minor: int = 0
    total_minor: int = 0
    discount_codes: tuple[str, ...] = ()
    # What each discount code took off the order, where the platform says (codes as written).
    code_discounts: tuple[CodeDiscount, ...] = ()
    # Refunds already listed inside the order payload (Shopify orders/updated,
    # WooCommerce order.updated); applied idempotently by refund id.
    refunds: tuple[Refund, ...] = ()
    # Fully refunded without refund details (WooCommerce status "refunded").
    fully_refunded: bool = False
    status_url: Optional[str] = None
    test: bool = False
    shipping_address: Optional[ShippingAddress] = None
    # A referral code the order arrived with outside its discount codes (note
    # attributes, landing page ?ref=, order meta, the generic ``referral_code``).
    referral_code: Optional[str] = None
    # Parcels the order payload itself lists (WooCommerce Shipment Tracking's order meta).
    shipments: tuple[Shipment, ...] = ()
    # The customer's country and province (the shipping address's, else the billing address's): their clock.
    place: Optional[Place] = None
    # The storefront checkout the order completed (Shopify checkout_token): stops its reminders.
    checkout_token: Optional[str] = None
    # The tax on the bought lines that their ``paid_minor`` leaves out: the goods tax where prices
    # exclude tax, 0 where they include it, None where the payload does not say.
    goods_tax_minor: Optional[int] = None
    # The money rows the customer's receipt shows (None: the platform's figures are not known).
    receipt: Optional[Receipt] = None


def discount_by_code(order: "Order") -> dict[str, int]:
    """The money each code took off the order, by the code in capitals (a code listed twice adds up)."""
    found: dict[str, int] = {}
    for discount in order.code_discounts:
        code = discount.code.strip().upper()
        found[code] = found.get(code, 0) + max(discount.amount_minor, 0)
    return found


@dataclass(frozen=True)
class OrderEvent:
    order: Order


@dataclass(frozen=True)
class RefundEvent:
    refund: Refund
    # Present when the payload names the customer (generic schema); Shopify's
    # refunds/create does not, so the order record is the way to the customer.
    customer: Optional[CustomerFacts] = None


@dataclass(frozen=True)
class OrderDeletedEvent:
    """The shop deleted the order: treated like a cancellation."""

    order_id: str


@dataclass(frozen=True)
class CustomerEvent:
    customer: CustomerFacts


@dataclass(frozen=True)
class RedactEvent:
    """Erase everything stored about a customer (GDPR customers/redact), and these orders."""

    customer: CustomerFacts
    orders_to_redact: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataRequestEvent:
    """A customer asked the shop for the data held about them (Shopify customers/data_request)."""

    customer: CustomerFacts
    request_id: str
    orders_requested: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShopRedactEvent:
    """Erase everything stored for the shop (Shopify shop/redact, 48 hours after it uninstalled)."""

    shop_domain: Optional[str] = None


@dataclass(frozen=True)
class ShipmentEvent:
    """A shipment created or updated (Shopify fulfillments/create|update, generic ``shipment``)."""

    shipment: Shipment


@dataclass(frozen=True)
class CheckoutLine:
    title: str
    quantity: int
    total_minor: int
    product_id: Optional[str] = None
    sku: Optional[str] = None


@dataclass(frozen=True)
class Checkout:
    """A storefront checkout (Shopify checkouts/create|update, generic ``checkout``): what the
    customer left, where they can pick it up again, and whether it became an order."""

    token: str
    customer: CustomerFacts
    lines: tuple[CheckoutLine, ...]
    recovery_url: Optional[str] = None
    total_minor: int = 0
    currency: str = ""
    completed: bool = False
    updated_at: Optional[datetime] = None


@dataclass(frozen=True)
class CheckoutEvent:
    checkout: Checkout


@dataclass(frozen=True)
class ProductFacts:
    """A product as its platform describes it (Shopify products/create|update|delete, WooCommerce
    product.created|updated|deleted). ``price_minor`` is the lowest price of its variants;
    ``available`` is False when no variant can be bought (sold out, draft, archived)."""

    product_id: str
    title: str = ""
    url: Optional[str] = None
    image_url: Optional[str] = None
    price_minor: Optional[int] = None
    available: bool = True
    deleted: bool = False
    updated_at: Optional[datetime] = None


@dataclass(frozen=True)
class ProductEvent:
    product: ProductFacts


@dataclass(frozen=True)
class IgnoredEvent:
    reason: str


WebhookEvent = Union[OrderEvent, RefundEvent, OrderDeletedEvent, CustomerEvent, RedactEvent, DataRequestEvent,
                     ShopRedactEvent, ShipmentEvent, CheckoutEvent, ProductEvent, IgnoredEvent]


@dataclass(frozen=True)
class Delivery:
    """One verified webhook delivery, parsed."""

    event: WebhookEvent
    # Same across the platform's retries of one event (Shopify X-Shopify-Event-Id,
    # generic ``event_id``); None where the platform has no such id.
    event_id: Optional[str] = None
    topic: str = ""
    extra: dict = field(default_factory=dict)
