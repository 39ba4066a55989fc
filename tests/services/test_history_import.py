"""Importing a shop's history: exact totals, interruption and resume, bad rows, opening
balances, no e-mail for imported orders, and the same order arriving by import, webhook
and reconciliation counting once."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from bench.import_history import expected_totals, generate_history, write_customers_csv, write_orders_csv
from devstack import cli
from devstack.samples import sample_order_payload, signed_request
from tests.support.shops import ADMIN, register_shop

SHOP = "history-shop"


def _no_rollback_copy(monkeypatch):
    """moto deep-copies the whole table inside every transaction so it can roll back; with
    thousands of items that copy makes the test quadratic. The import never needs a
    rollback (each customer's items are applied by one worker, so no condition fails);
    a failed condition would still fail, only without undoing the earlier items."""
    import moto.dynamodb.models as dynamodb_models

    class _NoCopy:
        @staticmethod
        def deepcopy(value, memo=None):
            return value

    monkeypatch.setattr(dynamodb_models, "copy", _NoCopy)


def _run_import(deps, shop_id: str, path, fmt: str, now: datetime, *, progress=None, balances=None, workers=2, **options):
    from chalicelib.services.orders import history_import

    opts = history_import.ImportOptions(fmt, workers=workers, **options)
    prepared = history_import.prepare(deps, shop_id, str(path), opts, now, balances_path=str(balances) if balances else None)
    return history_import.run(deps, prepared, opts, now, progress=progress), prepared


def _profiles(deps, shop_id: str, emails) -> dict:
    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.store.loyalty.repository import LoyaltyRepository

    shop, repo = load_shop(deps, shop_id), LoyaltyRepository(shop_id)
    found = {}
    for email in emails:
        account = repo.load_profile(shop.customer_id_for(email))
        if account is not None:
            found[email] = {"points": account.points_balance, "cashback_minor": account.cashback_minor,
                            "spend_minor": account.lifetime_spend_minor, "orders": account.orders_count,
                            "tier": account.tier_name}
    return found


def _outbox_items(shop_id: str) -> int:
    from chalicelib.store import keys
    from chalicelib.store.models import OutboxItem

    return sum(OutboxItem.count(keys.outbox_pk(shop_id, shard)) for shard in range(keys.OUTBOX_SHARDS))


def test_importing_thousands_of_orders_gives_exact_totals_and_sends_no_mail(deps, client, tmp_path, monkeypatch):
    _no_rollback_copy(monkeypatch)
    from chalicelib.services.orders import history_import

    register_shop(client, SHOP, "shopify")  # program: 0.05 points per UAH, 2 % cashback, Silver/Gold
    now = datetime.now(timezone.utc)
    history, emails = generate_history(2000, 400, now, seed=11)
    orders_csv, customers_csv = tmp_path / "orders_export.csv", tmp_path / "customers_export.csv"
    write_orders_csv(history, str(orders_csv))
    write_customers_csv(emails[:60], str(customers_csv))

    customers_report, _ = _run_import(deps, SHOP, customers_csv, "shopify-customers-csv", now)
    assert customers_report["this_run"]["applied"] == 60

    options = history_import.ImportOptions("shopify-orders-csv", workers=2)
    prepared = history_import.prepare(deps, SHOP, str(orders_csv), options, now)
    plan = history_import.dry_run(prepared, now)["would_create"]
    report = history_import.run(deps, prepared, options, now)

    paid = [order for order in history if order.status != "pending"]
    assert report["problems"] == [] and report["failures"] == []
    assert report["skipped"] == len(history) - len(paid)  # unpaid orders
    assert report["this_run"]["applied"] == len(paid)
    expected = expected_totals(history, now)
    assert _profiles(deps, SHOP, expected) == expected
    assert plan["points"] == sum(m["points"] for m in expected.values())
    assert plan["customers"] == len(expected)
    assert _outbox_items(SHOP) == 0
    # Consent came from the customers export (every third customer said no).
    from chalicelib.services.shops.lookup import load_shop
    from chalicelib.store.loyalty.repository import LoyaltyRepository

    account = LoyaltyRepository(SHOP).load_profile(load_shop(deps, SHOP).customer_id_for(emails[0]))
    assert account.marketing_consent is False and account.first_name == "Name0"


def test_an_interrupted_import_resumes_where_it_stopped_and_counts_once(deps, client, tmp_path, monkeypatch):
    _no_rollback_copy(monkeypatch)
    register_shop(client, SHOP, "shopify")
    now = datetime.now(timezone.utc)
    history, _ = generate_history(300, 60, now, seed=5)
    path = tmp_path / "orders_export.csv"
    write_orders_csv(history, str(path))

    class Interrupted(Exception):
        pass

    def stop_halfway(done, total):
        if done >= 120:
            raise Interrupted

    with pytest.raises(Interrupted):
        _run_import(deps, SHOP, path, "shopify-orders-csv", now, progress=stop_halfway)

    from chalicelib.services.orders.history_import import import_status

    (state,) = import_status(deps, SHOP)["imports"]
    assert state["status"] == "interrupted" and 0 < state["position"] <= 120

    later = now + timedelta(minutes=5)
    report, _ = _run_import(deps, SHOP, path, "shopify-orders-csv", later)
    assert report["resumed_from"] == state["position"]
    expected = expected_totals(history, now)
    assert _profiles(deps, SHOP, expected) == expected
    (state,) = import_status(deps, SHOP)["imports"]
    paid = sum(1 for order in history if order.status != "pending")
    assert state["status"] == "complete" and state["position"] == paid
    # Points were counted once over both runs: orders a worker applied after the saved
    # position answer "duplicate" (or only refresh facts) when the resumed run meets them.
    counts = state["counts"]
    assert counts["failed"] == 0 and counts["applied"] + counts["duplicate"] >= paid
    assert counts["points_earned"] - counts["points_reversed"] == sum(m["points"] for m in expected.values())

    again, _ = _run_import(deps, SHOP, path, "shopify-orders-csv", later)
    assert again["already_complete"] is True
    assert _profiles(deps, SHOP, expected) == expected


SHOPIFY_CSV_HEADER = ("Name,Email,Financial Status,Paid at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,"
                      "Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,"
                      "Lineitem sku,Cancelled at,Refunded Amount,Id,Lineitem discount\n")


def test_bad_rows_are_reported_with_their_line_and_the_rest_is_imported(deps, client, tmp_path, capsys):
    register_shop(client, SHOP, "shopify")
    paid_at = (datetime.now(timezone.utc) - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S +0000")
    rows = [
        f"#1001,ann@example.com,paid,{paid_at},yes,UAH,1000.00,0.00,0.00,1000.00,,0.00,{paid_at},2,Mug,500.00,MUG,,0.00,9001,0.00",
        f"#1002,bob@example.com,paid,{paid_at},no,UAH,300.00,0.00,0.00,300.00,,0.00,{paid_at},two,Cup,150.00,CUP,,0.00,9002,0.00",
        f"#1003,not-an-email,paid,{paid_at},no,UAH,100.00,0.00,0.00,100.00,,0.00,{paid_at},1,Cup,100.00,CUP,,0.00,9003,0.00",
        f"#1004,ann@example.com,paid,{paid_at},no,UAH,100.00,0.00,0.00,100.00,,0.00,{paid_at},1,Cup,100.00,CUP,,0.00,,0.00",
        f"#1005,ann@example.com,paid,{paid_at},no,UAH,1800.00,0.00,0.00,1800.00,SAVE10,200.00,{paid_at},1,Kettle,1500.00,KET,,0.00,9005,0.00",
        f"#1005,,,,,,,,,,,,,1,Teapot,500.00,TEA,,,,0.00",
        f"#1006,ann@example.com,pending,,no,UAH,100.00,0.00,0.00,100.00,,0.00,{paid_at},1,Cup,100.00,CUP,,0.00,9006,0.00",
        f"#1007,ann@example.com,paid,yesterday,no,UAH,100.00,0.00,0.00,100.00,,0.00,{paid_at},1,Cup,100.00,CUP,,0.00,9007,0.00",
    ]
    path = tmp_path / "orders_export.csv"
    path.write_text(SHOPIFY_CSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")

    code = cli.run(cli.parse_args(["import", SHOP, str(path), "--format", "shopify-orders-csv", "--workers", "2"]))
    out = capsys.readouterr().out
    assert code == 0
    assert "line 3: order #1002: Lineitem quantity: 'two' is not a number" in out
    assert "line 4: order #1003: Email: 'not-an-email' is not an e-mail address" in out
    assert "line 5: order #1004: Id: empty" in out
    assert "line 9: order #1007: Paid at: 'yesterday' is not a date and time" in out
    assert "applied 2," in out and "skipped in the file 1" in out

    # #1001: 1000 UAH → 50 points; #1005: 1800 UAH after the 200 UAH code → 90 points.
    assert _profiles(deps, SHOP, ["ann@example.com"]) == {"ann@example.com": {
        "points": 140, "cashback_minor": 2000 + 3600, "spend_minor": 280000, "orders": 2, "tier": "Silver"}}


def test_dry_run_writes_nothing_and_reports_customers_points_tiers_and_liability(deps, client, tmp_path, capsys):
    register_shop(client, SHOP, "shopify")
    now = datetime.now(timezone.utc)
    history, _ = generate_history(40, 10, now, seed=3)
    path = tmp_path / "orders_export.csv"
    write_orders_csv(history, str(path))
    code = cli.run(cli.parse_args(["--json", "import", SHOP, str(path), "--format", "shopify-orders-csv",
                                   "--dry-run"]))
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["dry_run"] is True
    expected = expected_totals(history, now)
    plan = report["would_create"]
    assert plan["customers"] == len(expected)
    assert plan["points"] == sum(m["points"] for m in expected.values())
    cashback = sum(m["cashback_minor"] for m in expected.values())
    assert plan["cashback"] == f"{cashback // 100}.{cashback % 100:02d}"
    # 1 point = 1 UAH: the liability is the points' value plus the cashback wallets.
    liability = plan["points"] * 100 + cashback
    assert plan["liability"] == f"{liability // 100}.{liability % 100:02d}"
    assert sum(plan["tiers"].values()) == len(expected)
    assert _profiles(deps, SHOP, expected) == {}


def test_spend_and_tiers_only_and_points_since(deps, client, tmp_path):
    register_shop(client, SHOP, "shopify")
    now = datetime.now(timezone.utc)
    old, recent = now - timedelta(days=400), now - timedelta(days=20)
    orders = [sample_order_payload("shopify", order_id=str(7000 + n), email="cat@example.com", created_at=when)
              for n, when in enumerate((old, recent))]
    path = tmp_path / "orders.json"
    path.write_text(json.dumps({"orders": orders}))

    report, _ = _run_import(deps, SHOP, path, "shopify-orders-json", now, earn_points=False)
    assert report["this_run"]["points_earned"] == 0
    # 2 × 3,799 UAH: Silver, no points, no cashback.
    assert _profiles(deps, SHOP, ["cat@example.com"])["cat@example.com"] == {
        "points": 0, "cashback_minor": 0, "spend_minor": 759800, "orders": 2, "tier": "Gold"}

    register_shop(client, "history-shop-2", "shopify", sender_email="loyalty@history-shop-2.example")
    report, _ = _run_import(deps, "history-shop-2", path, "shopify-orders-json", now)
    # The order from 400 days ago would have expired (6-month validity): spend only.
    assert report["this_run"]["points_earned"] == 189
    assert _profiles(deps, "history-shop-2", ["cat@example.com"])["cat@example.com"]["points"] == 189

    register_shop(client, "history-shop-3", "shopify", sender_email="loyalty@history-shop-3.example")
    report, _ = _run_import(deps, "history-shop-3", path, "shopify-orders-json", now,
                            points_since=now - timedelta(days=10))
    assert report["this_run"]["points_earned"] == 0


def test_opening_balances_are_credited_once(deps, client, tmp_path):
    handle = register_shop(client, SHOP, "shopify")
    orders = tmp_path / "orders.json"
    orders.write_text("")
    balances = tmp_path / "balances.csv"
    balances.write_text("email,points,expiry\nann@example.com,250,2099-12-31\nbob@example.com,-5,\n"
                        "carl@example.com,40,\n,10,\nold@example.com,10,2001-01-01\n")
    now = datetime.now(timezone.utc)
    report, _ = _run_import(deps, SHOP, orders, "shopify-orders-json", now, balances=balances)
    assert report["this_run"]["applied"] == 2
    reasons = {p["line"]: p["reason"] for p in report["problems"]}
    assert reasons[3].endswith("points: '-5' is not a positive whole number")
    assert reasons[5].endswith("email: empty")
    assert reasons[6].endswith("expiry: 2001-01-01 has passed")
    status, view = handle.customer("ann@example.com")
    assert status == 200 and view["points_balance"] == 250
    # Valid through the file's day on the shop's (Kyiv's) clock, the day the mails will name: not
    # a day longer, as the midnight after it in UTC (02:00 in Kyiv) would make it.
    assert [lot["valid_until"] for lot in view["expiring"]] == ["2099-12-31"]

    balances.write_text("email,points,expiry\nann@example.com,250,2099-12-31\n")  # another file: a new import
    report, _ = _run_import(deps, SHOP, orders, "shopify-orders-json", now, balances=balances)
    assert report["this_run"]["duplicate"] == 1
    assert handle.customer("ann@example.com")[1]["points_balance"] == 250


def test_woocommerce_and_generic_exports(deps, client, tmp_path):
    register_shop(client, "woo-history", "woocommerce")
    register_shop(client, "generic-history", "generic", sender_email="loyalty@generic-history.example")
    now = datetime.now(timezone.utc)
    woo = [sample_order_payload("woocommerce", order_id=str(n), email="dana@example.com",
                                created_at=now - timedelta(days=n)) for n in (1, 2)]
    woo_file = tmp_path / "woo.json"
    woo_file.write_text(json.dumps(woo))
    report, _ = _run_import(deps, "woo-history", woo_file, "woocommerce-orders-json", now)
    assert report["this_run"]["applied"] == 2
    assert _profiles(deps, "woo-history", ["dana@example.com"])["dana@example.com"]["points"] == 2 * 189

    generic_file = tmp_path / "history.jsonl"
    lines = [json.dumps(sample_order_payload("generic", order_id="g1", email="eve@example.com",
                                             created_at=now - timedelta(days=2))),
             "{not json",
             json.dumps({"type": "order", "event_id": "x", "occurred_at": now.isoformat(), "order": {"id": "g2"}})]
    generic_file.write_text("\n".join(lines) + "\n")
    report, _ = _run_import(deps, "generic-history", generic_file, "generic-jsonl", now)
    assert report["this_run"]["applied"] == 1
    assert [p["line"] for p in report["problems"]] == [2, 3]
    assert report["problems"][0]["reason"].startswith("not JSON")
    assert report["problems"][1]["reason"].startswith("order.")


def test_the_same_order_by_import_webhook_and_reconciliation_counts_once(deps, client, tmp_path):
    from tests.support.fake_platforms import FakePlatform

    from chalicelib.services.orders import reconciliation

    with FakePlatform() as platform:
        handle = register_shop(client, SHOP, "shopify",
                               platform_api={"base_url": platform.url, "access_token": platform.access_token})
        now = datetime.now(timezone.utc)
        paid_at = now - timedelta(hours=3)
        order = sample_order_payload("shopify", order_id="8001", email="fay@example.com", created_at=paid_at)
        path = tmp_path / "orders.json"
        path.write_text(json.dumps([order]))
        report, _ = _run_import(deps, SHOP, path, "shopify-orders-json", now)
        assert report["this_run"]["applied"] == 1

        response = handle.deliver(order, topic="orders/paid")
        assert json.loads(response.body)["result"] == "duplicate"

        platform.shopify_orders.append(order)
        found = reconciliation.reconcile_shop(deps, SHOP, now, since=now - timedelta(days=1))
        assert found["orders_seen"] == 1 and found["missed_orders"] == [] and found["missed_refunds"] == []

        status, view = handle.customer("fay@example.com")
        assert (view["points_balance"], view["orders_count"]) == (189, 1)
        history = handle.history("fay@example.com")[1]
        assert [entry["kind"] for entry in history["entries"]].count("earn") == 1
        assert _outbox_items(SHOP) == 0  # the import sent no post-purchase mail


def test_reconciliation_applies_what_the_webhooks_lost_and_reports_it(deps, client):
    from tests.support.fake_platforms import FakePlatform

    from chalicelib.services.orders import reconciliation

    with FakePlatform(page_size=2) as platform:
        handle = register_shop(client, SHOP, "shopify",
                               platform_api={"base_url": platform.url, "access_token": platform.access_token})
        # The shop joined just now; its webhooks then failed for a few hours.
        now = datetime.now(timezone.utc) + timedelta(hours=6)
        orders = [sample_order_payload("shopify", order_id=str(8100 + n), email="gus@example.com",
                                       created_at=now - timedelta(hours=5 - n)) for n in range(5)]
        for order in orders[:2]:  # delivered by webhook
            assert json.loads(handle.deliver(order, topic="orders/paid").body)["result"] == "applied"
        # The third order is later refunded in part; that refunds/create webhook was lost too.
        refunded = sample_order_payload("shopify", order_id="8102", email="gus@example.com",
                                        created_at=now - timedelta(hours=3),
                                        refunds=[{"id": "55", "lines": [{"line_id": "1", "quantity": 1}]}])
        refunded["updated_at"] = (now - timedelta(hours=1)).isoformat()
        fresh = sample_order_payload("shopify", order_id="8199", email="gus@example.com",
                                     created_at=now - timedelta(minutes=2))  # its webhook is on its way
        # Paid before the shop joined: history, the import's job; the first run starts at joining.
        before_joining = sample_order_payload("shopify", order_id="8000", email="gus@example.com",
                                              created_at=datetime.now(timezone.utc) - timedelta(hours=1))
        platform.shopify_orders.extend([before_joining, orders[0], orders[1], refunded, orders[3], orders[4], fresh])
        platform.throttle_next = 1

        report = reconciliation.reconcile_shop(deps, SHOP, now)
        assert report["error"] is None
        assert sorted(report["missed_orders"]) == ["8102", "8103", "8104"]
        assert report["missed_refunds"] == ["55"]
        assert report["pages"] >= 3
        assert any("page_info=" in path for path in platform.requests)
        _, view = handle.customer("gus@example.com")
        # 5 orders × 189 points, less the refund of one 450 UAH phone case of 3,799 UAH: floor(22.5 × …)
        assert view["orders_count"] == 5
        assert view["points_balance"] == 5 * 189 - 22

        again = reconciliation.reconcile_shop(deps, SHOP, now + timedelta(hours=1))
        assert again["missed_orders"] == ["8199"] and again["missed_refunds"] == []
        third = reconciliation.reconcile_shop(deps, SHOP, now + timedelta(hours=2))
        assert third["missed_orders"] == [] and third["orders_seen"] >= 1

        response = client.http.get(f"/admin/shops/{SHOP}/webhook-health", headers=ADMIN)
        health = json.loads(response.body)
        assert response.status_code == 200
        assert health["missed_by_webhooks"] == {"orders": 4, "refunds": 1}
        assert health["last_delivery_at"] is not None
        assert health["reconciliation"]["updated_since"]
        shop_view = json.loads(client.http.get(f"/admin/shops/{SHOP}", headers=ADMIN).body)
        assert shop_view["platform_api"] == {"base_url": platform.url}
        assert platform.access_token not in json.dumps(shop_view)


def test_woocommerce_reconciliation_pages_and_credentials(deps, client):
    from tests.support.fake_platforms import FakePlatform

    from chalicelib.services.orders import reconciliation

    with FakePlatform(page_size=2) as platform:
        api = {"base_url": platform.url, "consumer_key": platform.consumer_key,
               "consumer_secret": platform.consumer_secret}
        handle = register_shop(client, "woo-shop", "woocommerce", platform_api=api)
        now = datetime.now(timezone.utc) + timedelta(hours=11)
        platform.woocommerce_orders.extend(
            sample_order_payload("woocommerce", order_id=str(600 + n), email="hal@example.com",
                                 created_at=now - timedelta(hours=10 - n)) for n in range(5))
        report = reconciliation.reconcile_shop(deps, "woo-shop", now)
        assert report["missed_orders"] == [str(600 + n) for n in range(5)]
        assert report["pages"] == 3
        assert handle.customer("hal@example.com")[1]["points_balance"] == 5 * 189
        assert reconciliation.reconcile_shop(deps, "woo-shop", now)["missed_orders"] == []
        # Changes from before the checkpoint (less the overlap) are not read again.
        platform.woocommerce_orders.append(sample_order_payload(
            "woocommerce", order_id="599", email="hal@example.com", created_at=now - timedelta(hours=20)))
        assert reconciliation.reconcile_shop(deps, "woo-shop", now)["missed_orders"] == []

        # Credentials not sent again are kept; wrong ones are reported, not raised.
        document = {"name": "Demo", "platform": "woocommerce", "currency": "UAH", "sender_email": "l@shop.example",
                    "storefront_url": "https://shop.example",
                    "platform_api": {"base_url": platform.url, "consumer_secret": "cs_wrong_secret"}}
        assert client.http.put("/admin/shops/woo-shop", headers=ADMIN,
                               body=json.dumps(document).encode()).status_code == 200
        failed = reconciliation.reconcile_shop(deps, "woo-shop", now)
        assert failed["error"] == "the platform refused the stored API credentials (401)"
        assert "cs_wrong_secret" not in json.dumps(failed)


def test_platform_api_settings_are_validated(client):
    document = {"platform": "shopify", "webhook_secret": "whsec-test-0123456789abcdef", "currency": "UAH",
                "sender_email": "l@shop.example", "storefront_url": "https://shop.example",
                "platform_api": {"base_url": "https://x.myshopify.com"}}
    response = client.http.put("/admin/shops/api-shop", headers=ADMIN, body=json.dumps(document).encode())
    assert response.status_code == 400
    assert json.loads(response.body)["field"] == "platform_api.access_token"
    document["platform_api"] = {"base_url": "ftp://x", "access_token": "shpat_12345678"}
    response = client.http.put("/admin/shops/api-shop", headers=ADMIN, body=json.dumps(document).encode())
    assert response.status_code == 400 and json.loads(response.body)["field"] == "platform_api.base_url"


def test_webhook_health_counts_refusals_and_stores_nothing_else(client):
    handle = register_shop(client, SHOP, "shopify")
    order = sample_order_payload("shopify", order_id="9100", email="ida@example.com")
    assert handle.deliver(order, secret="whsec-wrong-0123456789abcdef").status_code == 401
    assert handle.deliver(order, secret="whsec-wrong-0123456789abcdef").status_code == 401
    headers, _ = signed_request("shopify", handle.secret, order, topic="orders/paid")
    body = b'{"id": 1, "currency": "UAH"}'
    headers, body = signed_request("shopify", handle.secret, json.loads(body), topic="orders/paid")
    assert client.http.post(f"/webhooks/shopify/{SHOP}", headers=headers, body=body).status_code == 400

    health = json.loads(client.http.get(f"/admin/shops/{SHOP}/webhook-health", headers=ADMIN).body)
    assert health["failures"] == {"signature": 2, "parse": 1}
    assert health["last_failure"].startswith("parse: ")
    assert health["last_delivery_at"] is None
    assert handle.customer("ida@example.com")[0] == 404

    assert handle.deliver(order).status_code == 200
    health = json.loads(client.http.get(f"/admin/shops/{SHOP}/webhook-health", headers=ADMIN).body)
    assert health["last_delivery_at"] is not None
    assert client.http.get(f"/admin/shops/{SHOP}/webhook-health").status_code == 401
    assert client.http.get("/admin/shops/nope/webhook-health", headers=ADMIN).status_code == 404
