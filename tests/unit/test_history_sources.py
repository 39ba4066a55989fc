"""Reading exported history files into domain events (no storage)."""
from __future__ import annotations

import io
import json
from datetime import date, datetime, timezone

from chalicelib.domain.platform_events import CustomerEvent, OrderEvent
from chalicelib.domain.orders.history import HistoryItem, OpeningBalance, RowProblem, Skipped
from chalicelib.platforms.exports import read_history, read_opening_balances, sorted_items
from chalicelib.platforms.context import WebhookContext
from devstack.samples import sample_order_payload

UAH = WebhookContext("shop", (), "UAH", 2)
HEADER = ("Name,Email,Financial Status,Paid at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,"
          "Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,"
          "Cancelled at,Refunded Amount,Id,Lineitem discount\n")


def _read(fmt: str, text: str, ctx=UAH):
    return list(read_history(fmt, io.StringIO(text), ctx))


def test_shopify_csv_rows_of_one_order_become_one_order_with_the_code_spread_over_its_lines():
    text = HEADER + (
        '#1001,Ann@Example.com,partially_refunded,2025-03-01 10:00:00 +0200,yes,UAH,1800.00,70.00,0.00,1870.00,'
        'SAVE10,200.00,2025-03-01 09:59:00 +0200,1,Kettle,1500.00,KET,,100.00,5551,0.00\n'
        '#1001,,,,,,,,,,,,,1,"Teapot, ""glass""",500.00,TEA,,,,0.00\n')
    (item,) = _read("shopify-orders-csv", text)
    order = item.event.order
    assert (item.line, order.order_id, order.name, order.customer.email) == (2, "5551", "#1001", "Ann@Example.com")
    assert order.paid_at == datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)
    # 2,000 UAH of goods, 200 UAH code: 1,500 → 1,350 and 500 → 450 (by value, to the kopeck).
    assert [line.paid_minor for line in order.lines] == [135000, 45000]
    assert [line.title for line in order.lines] == ["Kettle", 'Teapot, "glass"']
    assert order.shipping_minor == 7000 and order.customer.marketing_consent is True
    assert order.discount_codes == ("SAVE10",) and [(d.code, d.amount_minor) for d in order.code_discounts] == [
        ("SAVE10", 20000)]  # the export's Discount Amount: what the code took off
    (refund,) = order.refunds
    assert (refund.refund_id, refund.amount_minor) == ("import-5551", 10000)


def test_shopify_csv_skips_unpaid_and_cancelled_orders_and_reports_bad_ones():
    text = HEADER + (
        "#1,a@example.com,pending,,no,UAH,10.00,0,0,10.00,,0,2025-01-01 10:00:00 +0000,1,X,10.00,X,,0,1,0\n"
        "#2,a@example.com,paid,2025-01-01 10:00:00 +0000,no,UAH,10.00,0,0,10.00,,0,2025-01-01 10:00:00 +0000,1,X,"
        "10.00,X,2025-01-02 10:00:00 +0000,0,2,0\n"
        "#3,a@example.com,paid,2025-01-01 10:00:00 +0000,no,EUR,10.00,0,0,10.00,,0,2025-01-01 10:00:00 +0000,1,X,"
        "10.00,X,,0,3,0\n"
        "#4,a@example.com,paid,2025-01-01 10:00:00 +0000,no,UAH,10.00,0,0,10.00,,0,2025-01-01 10:00:00 +0000,1,X,"
        "ten,X,,0,4,0\n")
    reads = _read("shopify-orders-csv", text)
    assert [type(r) for r in reads] == [Skipped, Skipped, RowProblem, RowProblem]
    assert reads[2] == RowProblem(4, "order #3: Currency: EUR is not the shop's UAH")
    assert reads[3] == RowProblem(5, "order #4: Lineitem price: 'ten' is not a number")


def test_shopify_customers_csv_gives_facts_with_consent():
    text = ("First Name,Last Name,Email,Accepts Email Marketing,Total Spent,Total Orders\n"
            "Ann,Lee,ann@example.com,yes,10.00,1\nBob,,bob@example.com,no,0,0\n,,,no,0,0\nEve,,eve,no,0,0\n")
    reads = _read("shopify-customers-csv", text)
    assert [type(r) for r in reads] == [HistoryItem, HistoryItem, Skipped, RowProblem]
    assert isinstance(reads[0].event, CustomerEvent)
    assert reads[0].event.customer.marketing_consent is True and reads[0].event.customer.first_name == "Ann"
    assert reads[1].event.customer.marketing_consent is False


def test_json_exports_use_the_webhook_parsers_in_any_of_the_three_shapes():
    order = sample_order_payload("shopify", order_id="77", email="ann@example.com")
    test_order = {**sample_order_payload("shopify", order_id="78", email="ann@example.com"), "test": True}
    as_rest = json.dumps({"orders": [order, test_order]})
    as_lines = json.dumps(order) + "\n" + json.dumps(test_order) + "\n{broken\n"
    for text in (as_rest, json.dumps([order, test_order]), as_lines):
        reads = _read("shopify-orders-json", text)
        assert isinstance(reads[0].event, OrderEvent) and reads[0].event.order.order_id == "77"
        assert isinstance(reads[1], Skipped)
    assert _read("shopify-orders-json", as_lines)[2] == RowProblem(3, "not JSON: Expecting property name enclosed in double quotes")
    woo = sample_order_payload("woocommerce", order_id="12", email="bob@example.com")
    (item,) = _read("woocommerce-orders-json", json.dumps([woo]))
    assert item.event.order.order_id == "12" and item.event.order.paid


def test_items_are_sorted_by_when_they_happened_customers_first():
    early = sample_order_payload("shopify", order_id="1", email="a@example.com",
                                 created_at=datetime(2024, 1, 1, tzinfo=timezone.utc))
    late = sample_order_payload("shopify", order_id="2", email="a@example.com",
                                created_at=datetime(2025, 1, 1, tzinfo=timezone.utc))
    items, problems, skipped = sorted_items(_read("shopify-orders-json", json.dumps([late, early])))
    assert [item.event.order.order_id for item in items] == ["1", "2"] and not problems and not skipped
    customers = _read("shopify-customers-csv", "Email,Accepts Email Marketing\nz@example.com,yes\n")
    items, _, _ = sorted_items(_read("shopify-orders-json", json.dumps([late])) + customers)
    assert isinstance(items[0].event, CustomerEvent)


def test_opening_balances_csv():
    text = "E-mail,Points,Expiry\nann@example.com,120,2027-06-30\nbob@example.com,15,\nx,1,\nc@example.com,2,30.06.2027\n"
    reads = list(read_opening_balances(io.StringIO(text)))
    assert reads[0] == OpeningBalance(2, "ann@example.com", 120, date(2027, 6, 30))
    assert reads[1] == OpeningBalance(3, "bob@example.com", 15, None)
    assert reads[2] == RowProblem(4, "email: 'x' is not an e-mail address")
    assert reads[3] == RowProblem(5, "expiry: '30.06.2027' is not a date (YYYY-MM-DD)")
    assert list(read_opening_balances(io.StringIO("who,how much\n"))) == [
        RowProblem(1, "header: no email column (expected email, points, expiry)")]
