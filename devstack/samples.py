"""Realistic, correctly signed webhook deliveries for the CLI, the demo and tests.

Order lines are written once, in a simple form, and translated to each
platform's shape::

    {"id": "1", "sku": "CASE-IP15-BLK", "title": "…", "quantity": 2,
     "unit_price": "450.00", "discount": "0.00",   # discount: whole line
     "gift_card": False, "categories": ["…"], "product_id": "…"}  # optional

Refunds listed inside an order use ``{"id", "lines": [{"line_id", "quantity",
"amount"?}], "amount"?, "created_at"?}``; when ``amount`` is missing it is what
the customer paid for the returned units.

Ids that are all digits become JSON integers for Shopify and WooCommerce, as
those platforms send them. Money is built with ``Decimal`` and written as
strings; nothing here goes through float.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable, Optional, Sequence

from chalicelib.platforms.signing import sign_generic, sign_shopify, sign_woocommerce

SHOPIFY_SHOP_DOMAIN = "demo-shop.myshopify.com"
SHOPIFY_API_VERSION = "2024-10"
WOOCOMMERCE_SITE = "https://demo-shop.com.ua/"
DEFAULT_EMAIL = "olena.koval@example.com"
DEFAULT_SHIPPING = "80.00"  # Nova Poshta branch delivery

DEFAULT_LINES: tuple[dict, ...] = (
    {
        "id": "1",
        "sku": "CASE-IP15-BLK",
        "title": "Чохол для iPhone 15, чорний",
        "quantity": 2,
        "unit_price": "450.00",
        "discount": "0.00",
        "gift_card": False,
        "categories": ["Аксесуари", "Чохли"],
    },
    {
        "id": "2",
        "sku": "JBL-T520BT-BLU",
        "title": "Навушники JBL Tune 520BT, сині",
        "quantity": 1,
        "unit_price": "2899.00",
        "discount": "0.00",
        "gift_card": False,
        "categories": ["Аудіо", "Навушники"],
    },
)

DEFAULT_REFUND_LINES: tuple[dict, ...] = ({"line_id": "1", "quantity": 1},)

_ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG"})
# The demo shop's clock (Kyiv, summer time); platforms send shop-local offsets.
_SHOP_TIMEZONE = timezone(timedelta(hours=3))


# --- the simple forms -------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    id: str
    sku: Optional[str]
    title: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    gift_card: bool
    categories: tuple[str, ...]
    product_id: str

    @property
    def gross(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def paid(self) -> Decimal:
        return self.gross - self.discount

    def paid_for(self, quantity: int) -> Decimal:
        return self.paid * quantity / self.quantity


@dataclass(frozen=True)
class _RefundLine:
    line_id: str
    quantity: int
    amount: Optional[Decimal]


@dataclass(frozen=True)
class _Refund:
    id: str
    lines: tuple[_RefundLine, ...]
    amount: Optional[Decimal]
    created_at: Optional[datetime]


def _lines(lines: Optional[Iterable[dict]]) -> list[_Line]:
    parsed = []
    for index, line in enumerate(lines if lines is not None else DEFAULT_LINES, start=1):
        if "unit_price" not in line:
            raise ValueError(f"sample line {index} needs a unit_price")
        line_id = str(line.get("id", index))
        parsed.append(
            _Line(
                id=line_id,
                sku=line.get("sku"),
                title=line.get("title", f"Product {line_id}"),
                quantity=int(line.get("quantity", 1)),
                unit_price=Decimal(str(line["unit_price"])),
                discount=Decimal(str(line.get("discount", "0"))),
                gift_card=bool(line.get("gift_card", False)),
                categories=tuple(line.get("categories", ())),
                product_id=str(line.get("product_id") or _stable_number(f"product:{line.get('sku') or line_id}", 10)),
            )
        )
    return parsed


def _refund_lines(lines: Iterable[dict]) -> tuple[_RefundLine, ...]:
    return tuple(
        _RefundLine(
            line_id=str(line["line_id"]),
            quantity=int(line.get("quantity", 0)),
            amount=Decimal(str(line["amount"])) if line.get("amount") is not None else None,
        )
        for line in lines
    )


def _refunds(refunds: Iterable[dict]) -> list[_Refund]:
    return [
        _Refund(
            id=str(refund["id"]),
            lines=_refund_lines(refund.get("lines", ())),
            amount=Decimal(str(refund["amount"])) if refund.get("amount") is not None else None,
            created_at=refund.get("created_at"),
        )
        for refund in refunds
    ]


def _refund_line_money(line: _RefundLine, order_lines: dict[str, _Line]) -> Decimal:
    if line.amount is not None:
        return line.amount
    order_line = order_lines.get(line.line_id)
    return order_line.paid_for(line.quantity) if order_line else Decimal(0)


def _refund_money(refund: _Refund, order_lines: dict[str, _Line]) -> Decimal:
    if refund.amount is not None:
        return refund.amount
    return sum((_refund_line_money(line, order_lines) for line in refund.lines), Decimal(0))


# --- small helpers ----------------------------------------------------------


def _exponent(currency: str) -> int:
    return 0 if currency.upper() in _ZERO_DECIMAL_CURRENCIES else 2


def _money(amount: Decimal, currency: str) -> str:
    return str(amount.quantize(Decimal(1).scaleb(-_exponent(currency))))


def _money_set(amount: str, currency: str) -> dict:
    money = {"amount": amount, "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}


def _stable_number(seed: str, digits: int) -> int:
    """A realistic-looking id that stays the same for the same seed."""
    return 10 ** (digits - 1) + int(hashlib.sha256(seed.encode()).hexdigest(), 16) % (9 * 10 ** (digits - 1))


def _platform_id(value: str) -> Any:
    return int(value) if value.isdigit() else value


def _token(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _utc_naive(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat()


def _local_naive(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat()


def _now() -> datetime:
    return datetime.now(_SHOP_TIMEZONE).replace(microsecond=0)


# --- Shopify ----------------------------------------------------------------


def _shopify_line(line: _Line, currency: str) -> dict:
    discount = _money(line.discount, currency)
    price = _money(line.unit_price, currency)
    return {
        "id": _platform_id(line.id),
        "admin_graphql_api_id": f"gid://shopify/LineItem/{line.id}",
        "product_id": _platform_id(line.product_id),
        "variant_id": _stable_number(f"variant:{line.id}", 14),
        "sku": line.sku,
        "title": line.title,
        "name": line.title,
        "variant_title": None,
        "vendor": "Demo Shop",
        "quantity": line.quantity,
        "current_quantity": line.quantity,
        "fulfillable_quantity": line.quantity,
        "price": price,
        "price_set": _money_set(price, currency),
        # Deprecated by Shopify and left at zero; discount_allocations carry the money.
        "total_discount": _money(Decimal(0), currency),
        "discount_allocations": (
            [{"amount": discount, "amount_set": _money_set(discount, currency), "discount_application_index": 0}]
            if line.discount
            else []
        ),
        "gift_card": line.gift_card,
        "requires_shipping": not line.gift_card,
        "taxable": True,
        "tax_lines": [],
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "product_exists": True,
        "properties": [],
    }


def _shopify_refund(refund: _Refund, order_id: str, lines: dict[str, _Line], currency: str, created_at: datetime) -> dict:
    moment = (refund.created_at or created_at).isoformat()
    total = _money(_refund_money(refund, lines), currency)
    return {
        "id": _platform_id(refund.id),
        "admin_graphql_api_id": f"gid://shopify/Refund/{refund.id}",
        "order_id": _platform_id(order_id),
        "created_at": moment,
        "processed_at": moment,
        "note": None,
        "restock": any(line.quantity for line in refund.lines),
        "user_id": None,
        "refund_line_items": [
            {
                "id": _stable_number(f"refund-line:{refund.id}:{line.line_id}", 11),
                "line_item_id": _platform_id(line.line_id),
                "quantity": line.quantity,
                "restock_type": "return" if line.quantity else "no_restock",
                "location_id": None,
                "subtotal": _money(_refund_line_money(line, lines), currency),
                "subtotal_set": _money_set(_money(_refund_line_money(line, lines), currency), currency),
                "total_tax": _money(Decimal(0), currency),
            }
            for line in refund.lines
        ],
        "transactions": [
            {
                "id": _stable_number(f"refund-transaction:{refund.id}", 13),
                "kind": "refund",
                "status": "success",
                "gateway": "manual",
                "amount": total,
                "currency": currency,
                "created_at": moment,
            }
        ],
        "order_adjustments": [],
    }


def _shopify_customer(email: str, first_name: str, last_name: str, marketing_consent: bool, currency: str, moment: str) -> dict:
    return {
        "id": _stable_number(f"customer:{email}", 13),
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "state": "enabled",
        "verified_email": True,
        "currency": currency,
        "tags": "",
        "created_at": moment,
        "updated_at": moment,
        "email_marketing_consent": {
            "state": "subscribed" if marketing_consent else "not_subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": moment if marketing_consent else None,
        },
    }


def _shopify_address(first_name: str, last_name: str) -> dict:
    return {
        "first_name": first_name,
        "last_name": last_name,
        "address1": "вул. Хрещатик, 22",
        "city": "Київ",
        "zip": "01001",
        "country": "Ukraine",
        "country_code": "UA",
        "phone": "+380501234567",
    }


def _shopify_order(order_id: str, email: str, lines: list[_Line], paid: bool, cancelled: bool, currency: str, created_at: datetime, discount_codes: Sequence[str], refunds: list[_Refund], first_name: str, last_name: str, locale: str, marketing_consent: bool, shipping: Decimal) -> dict:
    by_id = {line.id: line for line in lines}
    subtotal = sum((line.paid for line in lines), Decimal(0))
    discounts = sum((line.discount for line in lines), Decimal(0))
    total = subtotal + shipping
    refunded = sum((_refund_money(refund, by_id) for refund in refunds), Decimal(0))
    if not paid:
        financial_status = "pending"
    elif refunds:
        financial_status = "refunded" if refunded >= total else "partially_refunded"
    else:
        financial_status = "paid"
    moment = created_at.isoformat()
    token = _token(f"order:{order_id}")
    return {
        "id": _platform_id(order_id),
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id}",
        "order_number": int(order_id) if order_id.isdigit() else 1001,
        "token": token,
        "email": email,
        "contact_email": email,
        "phone": None,
        "created_at": moment,
        "updated_at": moment,
        "processed_at": moment,
        "closed_at": None,
        "cancelled_at": moment if cancelled else None,
        "cancel_reason": "customer" if cancelled else None,
        "confirmed": True,
        "test": False,
        "currency": currency,
        "presentment_currency": currency,
        "financial_status": financial_status,
        "fulfillment_status": None,
        "customer_locale": locale,
        "taxes_included": False,
        "total_line_items_price": _money(sum((line.gross for line in lines), Decimal(0)), currency),
        "total_discounts": _money(discounts, currency),
        "subtotal_price": _money(subtotal, currency),
        "total_tax": _money(Decimal(0), currency),
        "total_price": _money(total, currency),
        "total_price_set": _money_set(_money(total, currency), currency),
        "discount_codes": [
            {"code": code, "amount": _money(discounts if index == 0 else Decimal(0), currency), "type": "fixed_amount"}
            for index, code in enumerate(discount_codes)
        ],
        "order_status_url": f"https://{SHOPIFY_SHOP_DOMAIN}/{_stable_number('shop', 11)}/orders/{token}/authenticate?key={_token(token)}",
        "line_items": [_shopify_line(line, currency) for line in lines],
        "shipping_lines": [
            {
                "id": _stable_number(f"shipping:{order_id}", 11),
                "title": "Нова Пошта — відділення",
                "code": "nova-poshta-branch",
                "source": "shopify",
                "price": _money(shipping, currency),
                "discounted_price": _money(shipping, currency),
                "discount_allocations": [],
                "tax_lines": [],
            }
        ],
        "refunds": [_shopify_refund(refund, order_id, by_id, currency, created_at) for refund in refunds],
        "customer": _shopify_customer(email, first_name, last_name, marketing_consent, currency, moment),
        "billing_address": _shopify_address(first_name, last_name),
        "shipping_address": _shopify_address(first_name, last_name),
    }


# --- WooCommerce ------------------------------------------------------------


def _woocommerce_order(order_id: str, email: str, lines: list[_Line], paid: bool, cancelled: bool, currency: str, created_at: datetime, discount_codes: Sequence[str], refunds: list[_Refund], first_name: str, last_name: str, shipping: Decimal) -> dict:
    by_id = {line.id: line for line in lines}
    total = sum((line.paid for line in lines), Decimal(0)) + shipping
    discounts = sum((line.discount for line in lines), Decimal(0))
    refunded = sum((_refund_money(refund, by_id) for refund in refunds), Decimal(0))
    if cancelled:
        status = "cancelled"
    elif not paid:
        status = "pending"
    elif refunds and refunded >= total:
        status = "refunded"
    else:
        status = "processing"
    order_key = f"wc_order_{_token(order_id)[:13]}"
    address = {
        "first_name": first_name,
        "last_name": last_name,
        "company": "",
        "address_1": "вул. Хрещатик, 22",
        "address_2": "",
        "city": "Київ",
        "state": "",
        "postcode": "01001",
        "country": "UA",
        "phone": "+380501234567",
    }
    numeric_id = _platform_id(order_id)
    return {
        "id": numeric_id,
        "parent_id": 0,
        "number": order_id,
        "order_key": order_key,
        "created_via": "checkout",
        "version": "8.9.1",
        "status": status,
        "currency": currency,
        "date_created": _local_naive(created_at),
        "date_created_gmt": _utc_naive(created_at),
        "date_modified": _local_naive(created_at),
        "date_modified_gmt": _utc_naive(created_at),
        "discount_total": _money(discounts, currency),
        "discount_tax": _money(Decimal(0), currency),
        "shipping_total": _money(shipping, currency),
        "shipping_tax": _money(Decimal(0), currency),
        "cart_tax": _money(Decimal(0), currency),
        "total": _money(total, currency),
        "total_tax": _money(Decimal(0), currency),
        "prices_include_tax": False,
        "customer_id": _stable_number(f"customer:{email}", 4),
        "customer_ip_address": "",
        "customer_user_agent": "",
        "customer_note": "",
        "billing": {**address, "email": email},
        "shipping": {key: value for key, value in address.items() if key != "phone"},
        "payment_method": "cod",
        "payment_method_title": "Оплата при отриманні",
        "transaction_id": "",
        "date_paid": _local_naive(created_at) if paid else None,
        "date_paid_gmt": _utc_naive(created_at) if paid else None,
        "date_completed": None,
        "date_completed_gmt": None,
        "cart_hash": _token(f"cart:{order_id}"),
        "meta_data": [],
        # WooCommerce also sends each line's "price" as a JSON float; it is left
        # out so that no money here ever passes through float.
        "line_items": [
            {
                "id": _platform_id(line.id),
                "name": line.title,
                "product_id": _platform_id(line.product_id),
                "variation_id": 0,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": _money(line.gross, currency),
                "subtotal_tax": _money(Decimal(0), currency),
                "total": _money(line.paid, currency),
                "total_tax": _money(Decimal(0), currency),
                "taxes": [],
                "meta_data": [],
                "sku": line.sku or "",
                "parent_name": None,
            }
            for line in lines
        ],
        "tax_lines": [],
        "shipping_lines": [
            {
                "id": _stable_number(f"shipping:{order_id}", 4),
                "method_title": "Нова Пошта",
                "method_id": "flat_rate",
                "instance_id": "1",
                "total": _money(shipping, currency),
                "total_tax": _money(Decimal(0), currency),
                "taxes": [],
                "meta_data": [],
            }
        ],
        "fee_lines": [],
        "coupon_lines": [
            {
                "id": _stable_number(f"coupon:{order_id}:{code}", 4),
                "code": code,
                "discount": _money(discounts if index == 0 else Decimal(0), currency),
                "discount_tax": _money(Decimal(0), currency),
                "meta_data": [],
            }
            for index, code in enumerate(discount_codes)
        ],
        "refunds": [
            {"id": _platform_id(refund.id), "reason": "", "total": _money(-_refund_money(refund, by_id), currency)}
            for refund in refunds
        ],
        "payment_url": f"{WOOCOMMERCE_SITE}checkout/order-pay/{order_id}/?pay_for_order=true&key={order_key}",
        "_links": {
            "self": [{"href": f"{WOOCOMMERCE_SITE}wp-json/wc/v3/orders/{order_id}"}],
            "collection": [{"href": f"{WOOCOMMERCE_SITE}wp-json/wc/v3/orders"}],
        },
    }


# --- generic ----------------------------------------------------------------


def _with_event_id(body: dict) -> dict:
    """Deterministic id: the same sample is the same event (a retry)."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return {"event_id": f"evt_{digest[:24]}", **body}


def _generic_customer(email: str, first_name: str, last_name: str, locale: str, marketing_consent: bool) -> dict:
    return {
        "email": email,
        "id": f"cust_{_stable_number(f'customer:{email}', 8)}",
        "first_name": first_name,
        "last_name": last_name,
        "locale": locale,
        "marketing_consent": marketing_consent,
    }


def _generic_order(order_id: str, email: str, lines: list[_Line], paid: bool, cancelled: bool, currency: str, created_at: datetime, discount_codes: Sequence[str], first_name: str, last_name: str, locale: str, marketing_consent: bool, shipping: Decimal) -> dict:
    status = "cancelled" if cancelled else "paid" if paid else "pending"
    order: dict = {
        "id": order_id,
        "name": f"#{order_id}",
        "currency": currency,
        "status": status,
        "created_at": created_at.isoformat(),
        "customer": _generic_customer(email, first_name, last_name, locale, marketing_consent),
        "lines": [
            {
                "id": line.id,
                "sku": line.sku,
                "product_id": line.product_id,
                "title": line.title,
                "categories": list(line.categories),
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price, currency),
                "discount": _money(line.discount, currency),
                "gift_card": line.gift_card,
            }
            for line in lines
        ],
        "shipping": _money(shipping, currency),
        "total": _money(sum((line.paid for line in lines), Decimal(0)) + shipping, currency),
        "discount_codes": list(discount_codes),
    }
    if discount_codes:  # the lines' discounts, given by the first code (as the Shopify and WooCommerce samples say)
        order["discounts"] = [{"code": discount_codes[0],
                               "amount": _money(sum((line.discount for line in lines), Decimal(0)), currency)}]
    if paid:
        order["paid_at"] = created_at.isoformat()
    return _with_event_id({"type": "order", "test": False, "occurred_at": created_at.isoformat(), "order": order})


# --- public builders ----------------------------------------------------------


def sample_order_payload(
    platform: str,
    *,
    order_id: str,
    email: str,
    lines: Optional[list[dict]] = None,
    paid: bool = True,
    cancelled: bool = False,
    currency: str = "UAH",
    created_at: Optional[datetime] = None,
    discount_codes: Sequence[str] = (),
    refunds: Sequence[dict] = (),
    first_name: str = "Olena",
    last_name: str = "Koval",
    locale: str = "uk",
    marketing_consent: bool = True,
    shipping: str = DEFAULT_SHIPPING,
) -> dict:
    """An order payload as ``platform`` would send it (``lines`` default: DEFAULT_LINES).

    The generic format carries no refunds inside orders: send
    ``sample_refund_payload("generic", ...)`` events instead.
    """
    order_id = str(order_id)
    created_at = created_at or _now()
    parsed_lines = _lines(lines)
    shipping_amount = Decimal(shipping)
    parsed_refunds = _refunds(refunds)
    if platform == "shopify":
        return _shopify_order(order_id, email, parsed_lines, paid, cancelled, currency, created_at, discount_codes, parsed_refunds, first_name, last_name, locale, marketing_consent, shipping_amount)
    if platform == "woocommerce":
        return _woocommerce_order(order_id, email, parsed_lines, paid, cancelled, currency, created_at, discount_codes, parsed_refunds, first_name, last_name, shipping_amount)
    if platform == "generic":
        if parsed_refunds:
            raise ValueError("generic orders carry no refunds; build refund events with sample_refund_payload")
        return _generic_order(order_id, email, parsed_lines, paid, cancelled, currency, created_at, discount_codes, first_name, last_name, locale, marketing_consent, shipping_amount)
    raise ValueError(f"unknown platform {platform!r}")


def sample_refund_payload(
    platform: str,
    *,
    refund_id: str,
    order_id: str,
    lines: Sequence[dict] = DEFAULT_REFUND_LINES,
    amount: Optional[str] = None,
    order_lines: Optional[list[dict]] = None,
    email: str = DEFAULT_EMAIL,
    currency: str = "UAH",
    created_at: Optional[datetime] = None,
) -> dict:
    """A refund of ``lines`` ([{"line_id", "quantity", "amount"?}]) on an order.

    - shopify: a ``refunds/create`` payload;
    - generic: a ``refund`` event;
    - woocommerce: WooCommerce has no refund webhook, a refund arrives as an
      ``order.updated`` carrying the order's ``refunds`` array. So this returns
      the whole order (``order_lines``, default DEFAULT_LINES, and ``email``)
      with the refund in it; send it with topic ``order.updated``.

    ``order_lines`` also prices Shopify's refund line subtotals; ``amount``
    overrides the refunded total.
    """
    refund_id, order_id = str(refund_id), str(order_id)
    created_at = created_at or _now()
    refund_spec = {"id": refund_id, "lines": list(lines), "amount": amount, "created_at": created_at}
    if platform == "woocommerce":
        return sample_order_payload(platform, order_id=order_id, email=email, lines=order_lines, currency=currency, created_at=created_at, refunds=[refund_spec])
    if platform == "shopify":
        by_id = {line.id: line for line in _lines(order_lines)}
        return _shopify_refund(_refunds([refund_spec])[0], order_id, by_id, currency, created_at)
    if platform == "generic":
        refund: dict = {
            "id": refund_id,
            "order_id": order_id,
            "lines": [
                {key: value for key, value in {"line_id": str(line["line_id"]), "quantity": line.get("quantity"), "amount": line.get("amount")}.items() if value is not None}
                for line in lines
            ],
            "created_at": created_at.isoformat(),
        }
        if amount is not None:
            refund["amount"] = amount
        return _with_event_id({"type": "refund", "test": False, "occurred_at": created_at.isoformat(), "refund": refund})
    raise ValueError(f"unknown platform {platform!r}")


# --- signing ----------------------------------------------------------------


def compact_json_body(payload: dict) -> bytes:
    """Compact JSON, UTF-8 as is: how Shopify serialises (and what generic samples use)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def php_json_body(payload: dict) -> bytes:
    """PHP ``json_encode`` defaults, as WooCommerce sends: "/" → "\\/", non-ASCII → \\uXXXX."""
    # "/" only ever occurs inside JSON strings and json.dumps never escapes it,
    # so a plain replacement is exact.
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def _default_shopify_topic(payload: dict) -> str:
    if "refund_line_items" in payload and "line_items" not in payload:
        return "refunds/create"
    if "line_items" in payload:
        return "orders/updated" if payload.get("refunds") else "orders/create"
    return "customers/update"


def _default_woocommerce_topic(payload: dict) -> str:
    if "line_items" in payload:
        return "order.updated" if payload.get("refunds") else "order.created"
    return "customer.updated"


def signed_request(
    platform: str,
    secret: str,
    payload: dict,
    *,
    topic: Optional[str] = None,
    event_id: Optional[str] = None,
    now: Optional[datetime] = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and exact body bytes of a delivery signed with ``secret``.

    ``topic`` defaults from the payload's shape. ``event_id``: Shopify's
    X-Shopify-Event-Id (default: derived from topic and body, so resending the
    same payload looks like a retry); generic: overrides the body's
    ``event_id``; WooCommerce has none. The generic format takes its topic
    from the body's ``type``, so ``topic`` is unused there.
    """
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if platform == "shopify":
        topic = topic or _default_shopify_topic(payload)
        body = compact_json_body(payload)
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign_shopify(secret, body),
            "X-Shopify-Shop-Domain": SHOPIFY_SHOP_DOMAIN,
            "X-Shopify-API-Version": SHOPIFY_API_VERSION,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{topic}:{hashlib.sha256(body).hexdigest()}")),
            "X-Shopify-Triggered-At": now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        }, body
    if platform == "woocommerce":
        topic = topic or _default_woocommerce_topic(payload)
        resource, _, event = topic.partition(".")
        body = php_json_body(payload)
        return {
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)",
            "X-WC-Webhook-Source": WOOCOMMERCE_SITE,
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sign_woocommerce(secret, body),
            "X-WC-Webhook-ID": "7",
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
        }, body
    if platform == "generic":
        if event_id is not None:
            payload = {**payload, "event_id": event_id}
        body = compact_json_body(payload)
        return {
            "Content-Type": "application/json",
            "X-Loyalty-Signature": sign_generic(secret, body, int(now.timestamp())),
        }, body
    raise ValueError(f"unknown platform {platform!r}")
