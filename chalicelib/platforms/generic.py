"""Our own webhook format for shops on any other platform.

The models below are the specification; ``generic_schema`` publishes them as
``docs/generic-webhook.schema.json``.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Mapping, Optional, Union

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from chalicelib.domain.money import to_minor
from chalicelib.domain.platform_events import (
    Checkout,
    CheckoutEvent,
    CheckoutLine,
    CodeDiscount,
    CustomerEvent,
    CustomerFacts,
    Delivery,
    IgnoredEvent,
    Order,
    OrderEvent,
    OrderLine,
    RedactEvent,
    Refund,
    RefundEvent,
    RefundLine,
    SHIPMENT_STATUSES,
    ShippingAddress,
    Shipment,
    ShipmentEvent,
    WebhookEvent,
    receipt,
)
from chalicelib.errors import BadRequest

from .body import load_json_object
from .context import WebhookContext
from .fields import MAX_QUANTITY, EmailAddress, NonNegativeAmount, OptionalTimestamp, Payload, PlatformId, Timestamp, place_from, validate
from .signing import verify_generic_signature
from .tracking import MAX_PARCELS, TrackingUrlText, numbers, safe_links

SIGNATURE_HEADER = "X-Loyalty-Signature"

ShortText = Annotated[str, Field(max_length=255)]


class GenericCustomer(Payload):
    email: EmailAddress
    id: Optional[PlatformId] = None
    first_name: Optional[ShortText] = None
    last_name: Optional[ShortText] = None
    locale: Optional[Annotated[str, Field(max_length=35)]] = Field(None, description="BCP 47 tag, e.g. uk or en-US")
    marketing_consent: Optional[bool] = Field(None, description="Omit when unknown; false withdraws consent")
    birthday: Optional[date] = Field(None, description="YYYY-MM-DD")


class GenericLine(Payload):
    id: PlatformId
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
    unit_price: NonNegativeAmount = Field(description="Price of one unit in major units, tax included where the shop's prices include it")
    discount: NonNegativeAmount = Field(Decimal(0), description="Discount on the whole line, not per unit")
    sku: Optional[ShortText] = None
    product_id: Optional[PlatformId] = None
    title: ShortText = ""
    categories: Annotated[list[ShortText], Field(max_length=50)] = []
    gift_card: bool = False

    @model_validator(mode="after")
    def _discount_within_line(self) -> "GenericLine":
        if self.discount > self.unit_price * self.quantity:
            raise PydanticCustomError("discount_too_large", "discount exceeds unit_price × quantity")
        return self


class GenericCodeDiscount(Payload):
    code: ShortText
    amount: NonNegativeAmount = Field(description="The money the code took off the order, in major units")


class GenericShippingAddress(Payload):
    address1: Annotated[str, Field(min_length=1, max_length=255)]
    city: ShortText = ""
    zip: Annotated[str, Field(max_length=32)] = ""
    country: Annotated[str, Field(max_length=64)] = Field("", description="ISO 3166 code or name")
    province: Annotated[str, Field(max_length=40)] = Field(
        "", description="State or province: ISO 3166-2 subdivision code (CA, ON, NSW, or US-CA); the customer's time zone")


class GenericOrder(Payload):
    id: PlatformId
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    status: Literal["pending", "paid", "cancelled", "refunded"]
    customer: GenericCustomer
    lines: Annotated[list[GenericLine], Field(min_length=1)]
    name: ShortText = ""
    created_at: OptionalTimestamp = None
    paid_at: OptionalTimestamp = None
    shipping: NonNegativeAmount = Decimal(0)
    total: Optional[NonNegativeAmount] = Field(None, description="Defaults to the sum of the lines plus shipping")
    discount_codes: Annotated[list[ShortText], Field(max_length=50)] = []
    discounts: Annotated[list[GenericCodeDiscount], Field(max_length=50)] = Field(
        [], description="What each discount code took off the order (a code named here need not be repeated in discount_codes)")
    status_url: Optional[Annotated[str, Field(max_length=2048)]] = None
    shipping_address: Optional[GenericShippingAddress] = Field(None, description="Compared for referral fraud checks, never stored")
    referral_code: Optional[Annotated[str, Field(max_length=64)]] = Field(None, description="The referral code the customer arrived with (REF-…), if not among discount_codes")
    checkout_token: Optional[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        None, description="The checkout this order completed: its reminders stop")


class GenericRefundLine(Payload):
    line_id: PlatformId
    quantity: Annotated[int, Field(ge=0, le=MAX_QUANTITY)] = Field(0, description="Units returned")
    amount: NonNegativeAmount = Field(Decimal(0), description="Money refunded on this line without returning units")

    @model_validator(mode="after")
    def _refunds_something(self) -> "GenericRefundLine":
        if self.quantity == 0 and self.amount == 0:
            raise PydanticCustomError("empty_refund_line", "give a quantity or an amount")
        return self


class GenericRefund(Payload):
    id: PlatformId
    order_id: PlatformId
    lines: list[GenericRefundLine] = []
    amount: NonNegativeAmount = Field(Decimal(0), description="Goods money refunded without naming lines")
    created_at: OptionalTimestamp = None
    customer: Optional[GenericCustomer] = None

    @model_validator(mode="after")
    def _refunds_something(self) -> "GenericRefund":
        if not self.lines and self.amount == 0:
            raise PydanticCustomError("empty_refund", "give lines or an amount")
        return self


class GenericShipment(Payload):
    id: PlatformId = Field(description="The shipment's id: one 'on its way' and one 'delivered' e-mail per id")
    order_id: PlatformId
    status: Literal[SHIPMENT_STATUSES] = Field("in_transit", description="The carrier's state of the parcel")  # type: ignore[valid-type]
    carrier: ShortText = ""
    tracking_numbers: Annotated[list[ShortText], Field(max_length=MAX_PARCELS)] = []
    tracking_urls: Annotated[list[TrackingUrlText], Field(max_length=MAX_PARCELS)] = Field(
        [], description="http(s) links to the carrier's tracking page; other links are dropped")
    cancelled: bool = False
    email: Optional[EmailAddress] = Field(None, description="Used only when the order never reached us")
    shipped_at: OptionalTimestamp = None


class _Envelope(Payload):
    event_id: Annotated[str, Field(min_length=1, max_length=200)] = Field(description="Same for every retry of one event")
    occurred_at: Timestamp
    test: bool = Field(False, description="Test deliveries are verified and then ignored")


class OrderWebhook(_Envelope):
    type: Literal["order"]
    order: GenericOrder


class RefundWebhook(_Envelope):
    type: Literal["refund"]
    refund: GenericRefund


class CustomerWebhook(_Envelope):
    type: Literal["customer"]
    customer: GenericCustomer


class GenericCheckoutLine(Payload):
    title: ShortText
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
    unit_price: NonNegativeAmount
    product_id: Optional[PlatformId] = None
    sku: Optional[ShortText] = None


class GenericCheckout(Payload):
    token: PlatformId = Field(description="The checkout's id; an order with this checkout_token completes it")
    customer: GenericCustomer
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    lines: Annotated[list[GenericCheckoutLine], Field(min_length=1, max_length=500)]
    recovery_url: Optional[TrackingUrlText] = Field(None, description="http(s) link that reopens the checkout")
    completed: bool = False


class CheckoutWebhook(_Envelope):
    type: Literal["checkout"]
    checkout: GenericCheckout


class ShipmentWebhook(_Envelope):
    type: Literal["shipment"]
    shipment: GenericShipment


class CustomerRedactWebhook(_Envelope):
    type: Literal["customer_redact"]
    customer: GenericCustomer


_WEBHOOK_BY_TYPE = {
    "order": OrderWebhook,
    "refund": RefundWebhook,
    "customer": CustomerWebhook,
    "customer_redact": CustomerRedactWebhook,
    "shipment": ShipmentWebhook,
    "checkout": CheckoutWebhook,
}

GenericWebhook = Annotated[
    Union[OrderWebhook, RefundWebhook, CustomerWebhook, CustomerRedactWebhook, ShipmentWebhook,
          CheckoutWebhook],
    Field(discriminator="type"),
]


def _customer_facts(customer: GenericCustomer) -> CustomerFacts:
    return CustomerFacts(
        email=customer.email,
        platform_customer_id=customer.id,
        first_name=customer.first_name,
        last_name=customer.last_name,
        locale=customer.locale,
        marketing_consent=customer.marketing_consent,
        birthday=customer.birthday,
    )


def _order(order: GenericOrder, ctx: WebhookContext) -> Order:
    if order.currency != ctx.currency.upper():
        # Amounts would be converted with the wrong exponent; our own format
        # can afford to say so.
        raise BadRequest(f"order.currency: the shop's currency is {ctx.currency.upper()}", field="order.currency")
    exponent = ctx.minor_exponent
    lines = tuple(
        OrderLine(
            line_id=line.id,
            quantity=line.quantity,
            paid_minor=to_minor(line.unit_price * line.quantity - line.discount, exponent),
            sku=line.sku,
            product_id=line.product_id,
            title=line.title,
            categories=tuple(line.categories),
            gift_card=line.gift_card,
            list_minor=to_minor(line.unit_price * line.quantity, exponent),
        )
        for line in order.lines
    )
    shipping = to_minor(order.shipping, exponent)
    total = to_minor(order.total, exponent) if order.total is not None else sum(line.paid_minor for line in lines) + shipping
    paid = order.status in ("paid", "refunded")
    return Order(
        order_id=order.id,
        customer=_customer_facts(order.customer),
        currency=order.currency,
        lines=lines,
        paid=paid,
        cancelled=order.status == "cancelled",
        name=order.name,
        created_at=order.created_at,
        paid_at=order.paid_at if paid else None,
        shipping_minor=shipping,
        total_minor=total,
        discount_codes=tuple(dict.fromkeys([*order.discount_codes, *(d.code for d in order.discounts)])),
        code_discounts=tuple(CodeDiscount(d.code, to_minor(d.amount, exponent)) for d in order.discounts),
        fully_refunded=order.status == "refunded",
        status_url=order.status_url,
        shipping_address=ShippingAddress(order.shipping_address.address1, order.shipping_address.city,
                                         order.shipping_address.zip, order.shipping_address.country)
        if order.shipping_address else None,
        referral_code=order.referral_code,
        place=place_from((order.shipping_address.country, order.shipping_address.province))
        if order.shipping_address else None,
        checkout_token=order.checkout_token,
        # The format states no tax: a total that holds tax on top of the prices keeps only the
        # rows it states (shipping, total).
        receipt=receipt(total_minor=total, subtotal_minor=sum(line.list_minor for line in lines),
                        discount_minor=sum(to_minor(line.discount, exponent) for line in order.lines),
                        shipping_minor=shipping, tax_minor=None, taxes_included=None),
    )


def _refund(refund: GenericRefund, exponent: int) -> RefundEvent:
    return RefundEvent(
        Refund(
            refund_id=refund.id,
            order_id=refund.order_id,
            lines=tuple(
                RefundLine(line_id=line.line_id, quantity=line.quantity, amount_minor=to_minor(line.amount, exponent))
                for line in refund.lines
            ),
            amount_minor=to_minor(refund.amount, exponent),
            created_at=refund.created_at,
        ),
        customer=_customer_facts(refund.customer) if refund.customer else None,
    )


def _event(webhook: _Envelope, ctx: WebhookContext) -> WebhookEvent:
    if webhook.test:
        return IgnoredEvent("test event")
    if isinstance(webhook, OrderWebhook):
        return OrderEvent(_order(webhook.order, ctx))
    if isinstance(webhook, RefundWebhook):
        return _refund(webhook.refund, ctx.minor_exponent)
    if isinstance(webhook, CustomerWebhook):
        return CustomerEvent(_customer_facts(webhook.customer))
    if isinstance(webhook, CheckoutWebhook):
        checkout = webhook.checkout
        if checkout.currency != ctx.currency.upper():
            raise BadRequest(f"checkout.currency: the shop's currency is {ctx.currency.upper()}",
                             field="checkout.currency")
        lines = tuple(CheckoutLine(title=line.title, quantity=line.quantity,
                                   total_minor=to_minor(line.unit_price * line.quantity, ctx.minor_exponent),
                                   product_id=line.product_id, sku=line.sku) for line in checkout.lines)
        recovery = safe_links([checkout.recovery_url])
        return CheckoutEvent(Checkout(token=checkout.token, customer=_customer_facts(checkout.customer), lines=lines,
                                      recovery_url=recovery[0] if recovery else None,
                                      total_minor=sum(line.total_minor for line in lines), currency=checkout.currency,
                                      completed=checkout.completed, updated_at=webhook.occurred_at))
    if isinstance(webhook, ShipmentWebhook):
        shipment = webhook.shipment
        return ShipmentEvent(Shipment(
            shipment_id=shipment.id, order_id=shipment.order_id, status=shipment.status, carrier=shipment.carrier,
            tracking_numbers=numbers(shipment.tracking_numbers), tracking_urls=safe_links(shipment.tracking_urls),
            cancelled=shipment.cancelled, email=shipment.email, shipped_at=shipment.shipped_at))
    return RedactEvent(_customer_facts(webhook.customer))


def parse(ctx: WebhookContext, headers: Mapping[str, str], raw_body: bytes, now: datetime, content_type: str) -> Delivery:
    verify_generic_signature(ctx.secrets, raw_body, headers.get(SIGNATURE_HEADER.lower()), now, header=SIGNATURE_HEADER)
    return delivery_from_payload(load_json_object(raw_body), ctx)


def delivery_from_payload(payload: dict, ctx: WebhookContext) -> Delivery:
    """A generic webhook body already trusted (verified, or a shop's own import file)."""
    kind = payload.get("type")
    model = _WEBHOOK_BY_TYPE.get(kind) if isinstance(kind, str) else None
    if model is None:
        allowed = ", ".join(_WEBHOOK_BY_TYPE)
        raise BadRequest(f"type: must be one of {allowed}", field="type")
    webhook = validate(model, payload)
    return Delivery(
        event=_event(webhook, ctx),
        event_id=webhook.event_id,
        topic=webhook.type,
        extra={"occurred_at": webhook.occurred_at},
    )

