"""A shop's exported history → the same domain events its webhooks produce.

Formats a shop can export today (docs/import.md):

* ``shopify-orders-csv``: Shopify admin → Orders → Export (one row per line item;
  order-level columns on the order's first row);
* ``shopify-customers-csv``: Shopify admin → Customers → Export;
* ``shopify-orders-json``: Admin REST API orders (``{"orders": [...]}``, an array, or JSON Lines);
* ``woocommerce-orders-json``: WooCommerce REST ``/wp-json/wc/v3/orders`` (an array or JSON Lines);
* ``generic-jsonl``: one generic webhook body (docs/generic-webhook.schema.json) per line.

JSON orders go through the webhook parsers themselves, so an imported order is the
order its webhook would have been. A row that cannot be read becomes a ``RowProblem``
(its line and the reason) and the rest of the file goes on.
"""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Iterable, Iterator, Optional, TextIO, Union

from chalicelib.domain.money import to_minor
from chalicelib.domain.loyalty.order_record import allocate
from chalicelib.domain.platform_events import (
    CodeDiscount,
    CustomerEvent,
    CustomerFacts,
    IgnoredEvent,
    Order,
    OrderEvent,
    OrderLine,
    Refund,
    RefundEvent,
)
from chalicelib.domain.orders.history import HistoryItem, OpeningBalance, Read, RowProblem, Skipped
from chalicelib.errors import ServiceError
from chalicelib.platforms import generic, shopify, woocommerce
from chalicelib.platforms.context import WebhookContext
from chalicelib.platforms.fields import validate

FORMATS = ("shopify-orders-csv", "shopify-customers-csv", "shopify-orders-json", "woocommerce-orders-json",
           "generic-jsonl")
SHOPIFY_PAID = frozenset({"paid", "partially_refunded", "refunded"})
# Customers are applied before any order, so their facts (consent, names) are there first.
_BEFORE_EVERYTHING = datetime(1970, 1, 1, tzinfo=timezone.utc)



def read_history(fmt: str, stream: TextIO, ctx: WebhookContext) -> Iterator[Read]:
    readers = {
        "shopify-orders-csv": _shopify_orders_csv,
        "shopify-customers-csv": _shopify_customers_csv,
        "shopify-orders-json": lambda s, c: _json_orders(s, c, _shopify_order),
        "woocommerce-orders-json": lambda s, c: _json_orders(s, c, _woocommerce_order),
        "generic-jsonl": _generic_jsonl,
    }
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    return readers[fmt](stream, ctx)


# -- Shopify CSV exports ----------------------------------------------------------------
class _BadRow(Exception):
    pass


def _csv_rows(stream: TextIO) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(stream)
    if reader.fieldnames:
        reader.fieldnames = [name.strip().lstrip("\ufeff") for name in reader.fieldnames]
    for row in reader:
        # line_num is the physical line the row ended on; quoted newlines make it differ.
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}


def _decimal(row: dict, column: str, default: Optional[str] = None) -> Decimal:
    text = row.get(column, "") or (default or "")
    try:
        value = Decimal(text.replace(",", "")) if text else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise _BadRow(f"{column}: {'empty' if not text else repr(text) + ' is not a number'}")
    return value


def _time(text: str, column: str) -> datetime:
    for pattern in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, pattern).astimezone(timezone.utc)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _BadRow(f"{column}: {text!r} is not a date and time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _shopify_orders_csv(stream: TextIO, ctx: WebhookContext) -> Iterator[Read]:
    group: list[tuple[int, dict]] = []
    for line, row in _csv_rows(stream):
        if group and row.get("Name") != group[0][1].get("Name"):
            yield _shopify_csv_order(group, ctx)
            group = []
        group.append((line, row))
    if group:
        yield _shopify_csv_order(group, ctx)


def _first(rows: list[dict], column: str) -> str:
    """Order-level columns are filled on the order's first row only."""
    return next((row[column] for row in rows if row.get(column)), "")


def _shopify_csv_order(group: list[tuple[int, dict]], ctx: WebhookContext) -> Read:
    line = group[0][0]
    rows = [row for _, row in group]
    try:
        return _shopify_csv_order_or_raise(line, rows, ctx)
    except _BadRow as problem:
        return RowProblem(line, f"order {rows[0].get('Name') or '?'}: {problem}")


def _shopify_csv_order_or_raise(line: int, rows: list[dict], ctx: WebhookContext) -> Read:
    order_id = _first(rows, "Id")
    if not order_id:
        raise _BadRow("Id: empty (the order id is what makes an imported order and its webhook one)")
    status = _first(rows, "Financial Status").lower()
    if status not in SHOPIFY_PAID:
        return Skipped(line, f"order {order_id}: financial status {status or 'empty'!r} is not paid")
    if _first(rows, "Cancelled at"):
        return Skipped(line, f"order {order_id}: cancelled")
    email = _first(rows, "Email")
    if "@" not in email:
        raise _BadRow(f"Email: {email!r} is not an e-mail address" if email else "Email: empty")
    currency = (_first(rows, "Currency") or ctx.currency).upper()
    if currency != ctx.currency.upper():
        raise _BadRow(f"Currency: {currency} is not the shop's {ctx.currency.upper()}")
    exponent = ctx.minor_exponent
    gross, sku, titles, quantities = [], [], [], []
    for row in rows:
        quantity = _decimal(row, "Lineitem quantity")
        if quantity != quantity.to_integral_value() or quantity < 1:
            raise _BadRow(f"Lineitem quantity: {row['Lineitem quantity']!r} is not a whole number of units")
        price = _decimal(row, "Lineitem price")
        discount = _decimal(row, "Lineitem discount", "0")
        gross.append(max(to_minor(price * quantity - discount, exponent), 0))
        quantities.append(int(quantity))
        sku.append(row.get("Lineitem sku") or None)
        titles.append(row.get("Lineitem name", ""))
    subtotal = to_minor(_decimal({"Subtotal": _first(rows, "Subtotal")}, "Subtotal"), exponent)
    # Subtotal is after every discount; what the lines' own discounts do not explain is
    # the order's discount (a code), spread over the lines by their value, as Shopify does.
    order_discount = min(max(sum(gross) - subtotal, 0), sum(gross))
    paid = [g - d for g, d in zip(gross, allocate(order_discount, gross))]
    paid_at = _time(_first(rows, "Paid at") or _first(rows, "Created at"), "Paid at")
    created_at = _time(_first(rows, "Created at"), "Created at") if _first(rows, "Created at") else paid_at
    refunds: tuple[Refund, ...] = ()
    refunded = to_minor(_decimal({"Refunded Amount": _first(rows, "Refunded Amount") or "0"}, "Refunded Amount"),
                        exponent)
    if status == "partially_refunded" and refunded > 0:
        # The export has the refunded money only (shipping included): at most the goods.
        refunds = (Refund(refund_id=f"import-{order_id}", order_id=order_id,
                          amount_minor=min(refunded, sum(paid))),)
    marketing = _first(rows, "Accepts Marketing").lower()
    code = _first(rows, "Discount Code")
    taken_off = (CodeDiscount(code, max(to_minor(_decimal({"Discount Amount": _first(rows, "Discount Amount")},
                                                          "Discount Amount"), exponent), 0)),) \
        if code and _first(rows, "Discount Amount") else ()
    order = Order(
        order_id=order_id,
        customer=CustomerFacts(email=email, marketing_consent={"yes": True, "no": False}.get(marketing)),
        currency=currency,
        lines=tuple(OrderLine(line_id=f"csv{n + 1}", quantity=q, paid_minor=p, sku=s, title=t)
                    for n, (q, p, s, t) in enumerate(zip(quantities, paid, sku, titles))),
        paid=True, name=rows[0].get("Name", ""), created_at=created_at, paid_at=paid_at,
        shipping_minor=to_minor(_decimal({"Shipping": _first(rows, "Shipping") or "0"}, "Shipping"), exponent),
        total_minor=to_minor(_decimal({"Total": _first(rows, "Total") or "0"}, "Total"), exponent),
        discount_codes=(code,) if code else (), code_discounts=taken_off,
        refunds=refunds, fully_refunded=status == "refunded")
    return HistoryItem(line, paid_at, OrderEvent(order))


def _shopify_customers_csv(stream: TextIO, ctx: WebhookContext) -> Iterator[Read]:
    for line, row in _csv_rows(stream):
        email = row.get("Email", "")
        if not email:
            yield Skipped(line, "customer without an e-mail")
            continue
        if "@" not in email:
            yield RowProblem(line, f"Email: {email!r} is not an e-mail address")
            continue
        consent = (row.get("Accepts Email Marketing") or row.get("Accepts Marketing") or "").lower()
        facts = CustomerFacts(
            email=email, platform_customer_id=row.get("Customer ID") or row.get("ID") or None,
            first_name=row.get("First Name") or None, last_name=row.get("Last Name") or None,
            marketing_consent={"yes": True, "no": False, "true": True, "false": False}.get(consent))
        yield HistoryItem(line, _BEFORE_EVERYTHING, CustomerEvent(facts))


# -- JSON exports (the webhook parsers themselves) -----------------------------------------
def _json_values(stream: TextIO) -> Iterator[tuple[int, object]]:
    """(line or item number, value) from a JSON array, a REST answer {"orders": [...]}, or JSON Lines."""
    text = stream.read()
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and "\n{" not in stripped.rstrip()):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            yield error.lineno, error
            return
        values = document.get("orders", [document]) if isinstance(document, dict) else document
        for number, value in enumerate(values if isinstance(values, list) else [values], start=1):
            yield number, value
        return
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            try:
                yield number, json.loads(raw)
            except json.JSONDecodeError as error:
                yield number, error


def _json_objects(stream: TextIO) -> Iterator[tuple[int, Union[dict, RowProblem]]]:
    """Each JSON object with its line, or the problem that line has."""
    for line, value in _json_values(stream):
        if isinstance(value, json.JSONDecodeError):
            yield line, RowProblem(line, f"not JSON: {value.msg}")
        elif not isinstance(value, dict):
            yield line, RowProblem(line, "not a JSON object")
        else:
            yield line, value


def _json_orders(stream: TextIO, ctx: WebhookContext, to_order) -> Iterator[Read]:
    for line, value in _json_objects(stream):
        if isinstance(value, RowProblem):
            yield value
            continue
        try:
            order = to_order(value, ctx)
        except ServiceError as error:
            yield RowProblem(line, error.message)
            continue
        if isinstance(order, Skipped):
            yield Skipped(line, order.reason)
            continue
        yield _order_item(line, order, ctx)


def _order_item(line: int, order: Order, ctx: WebhookContext) -> Read:
    if order.currency.upper() != ctx.currency.upper():
        return RowProblem(line, f"currency: {order.currency} is not the shop's {ctx.currency.upper()}")
    if not order.paid or order.cancelled:
        return Skipped(line, f"order {order.order_id}: {'cancelled' if order.cancelled else 'not paid'}")
    if not (order.customer.email or "").strip():
        return RowProblem(line, f"order {order.order_id}: no customer e-mail")
    at = order.paid_at or order.created_at
    if at is None:
        return RowProblem(line, f"order {order.order_id}: no payment or creation date")
    return HistoryItem(line, at, OrderEvent(order))


def _shopify_order(payload: dict, ctx: WebhookContext) -> Union[Order, Skipped]:
    if payload.get("test") is True:
        return Skipped(0, "test order")
    return shopify.order_from_payload(validate(shopify.ShopifyOrder, payload), ctx.minor_exponent)


def _woocommerce_order(payload: dict, ctx: WebhookContext) -> Order:
    return woocommerce.order_from_payload(validate(woocommerce.WooOrder, payload), ctx.minor_exponent, ctx.currency)


def _generic_jsonl(stream: TextIO, ctx: WebhookContext) -> Iterator[Read]:
    for line, value in _json_objects(stream):
        if isinstance(value, RowProblem):
            yield value
            continue
        try:
            delivery = generic.delivery_from_payload(value, ctx)
        except ServiceError as error:
            yield RowProblem(line, error.message)
            continue
        event = delivery.event
        if isinstance(event, OrderEvent):
            yield _order_item(line, event.order, ctx)
        elif isinstance(event, RefundEvent):
            occurred = event.refund.created_at or delivery.extra.get("occurred_at")
            yield HistoryItem(line, occurred, event)
        elif isinstance(event, CustomerEvent):
            yield HistoryItem(line, _BEFORE_EVERYTHING, event)
        else:
            reason = event.reason if isinstance(event, IgnoredEvent) else f"{delivery.topic} is not imported"
            yield Skipped(line, reason)


# -- opening balances from another program ---------------------------------------------------
def read_opening_balances(stream: TextIO) -> Iterator[Union[OpeningBalance, RowProblem]]:
    """CSV with a header: e-mail, points, expiry (YYYY-MM-DD, valid through that day UTC; empty:
    the program's validity from the import day)."""
    reader = csv.reader(stream)
    header = [name.strip().lstrip("\ufeff").lower().replace("-", "").replace("_", " ") for name in next(reader, [])]
    columns = {"email": ("email",), "points": ("points", "balance"), "expiry": ("expiry", "expires at", "expires")}
    where = {}
    for field, names in columns.items():
        found = [header.index(name) for name in names if name in header]
        if field != "expiry" and not found:
            yield RowProblem(1, f"header: no {field} column (expected email, points, expiry)")
            return
        where[field] = found[0] if found else None
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        cells = [cell.strip() for cell in row] + [""] * len(header)
        email, points_text = cells[where["email"]], cells[where["points"]]
        expiry_text = cells[where["expiry"]] if where["expiry"] is not None else ""
        if "@" not in email:
            yield RowProblem(line, f"email: {email!r} is not an e-mail address" if email else "email: empty")
            continue
        if not points_text.isdigit() or int(points_text) == 0:
            yield RowProblem(line, f"points: {points_text!r} is not a positive whole number")
            continue
        valid_through = None
        if expiry_text:
            try:
                valid_through = datetime.strptime(expiry_text, "%Y-%m-%d").date()
            except ValueError:
                yield RowProblem(line, f"expiry: {expiry_text!r} is not a date (YYYY-MM-DD)")
                continue
        yield OpeningBalance(line, email, int(points_text), valid_through)


def sorted_items(reads: Iterable[Read]) -> tuple[list[HistoryItem], list[RowProblem], list[Skipped]]:
    """The readable items in the order they happened (file order among equals)."""
    items, problems, skipped = [], [], []
    for read in reads:
        {HistoryItem: items, RowProblem: problems, Skipped: skipped}[type(read)].append(read)
    items.sort(key=lambda item: (item.at, item.line))
    return items, problems, skipped
