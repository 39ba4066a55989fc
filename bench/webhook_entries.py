"""A paid order's CPU time through each of the webhooks' two entries, as Lambda calls them.

    python -m bench.webhook_entries [--orders 200] [--rounds 3] [--json]

The REST route's Lambda gets API Gateway's proxy event and runs Chalice's whole HTTP handler
(``app.app``: routing, content type, middleware); the function URL's Lambda gets the URL's event
(payload format 2.0) and runs ``chalicelib.routes.orders.webhook_url``. Both make the same service
call, so the difference is the entry's own work. Fresh paid orders for each entry, on two shops
alike, on the in-memory store (tests/support/fakes) so the store's requests cost no round trips;
CPU time (``time.process_time``), rounds alternating (and which entry goes first), medians. No timing is asserted anywhere:
this prints the figures and the ratio ``function_url_vs_rest``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid


def rest_event(path: str, parameters: dict, headers: dict, body: bytes) -> dict:
    """API Gateway's proxy event for a REST method of a Lambda proxy integration (what Chalice reads)."""
    return {
        "resource": "/webhooks/{platform}/{shop_id}", "path": path, "httpMethod": "POST",
        "headers": dict(headers), "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": parameters,
        "stageVariables": None, "body": body.decode("utf-8"), "isBase64Encoded": False,
        "requestContext": {"resourcePath": "/webhooks/{platform}/{shop_id}", "httpMethod": "POST", "path": f"/api{path}",
                           "stage": "api", "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "198.51.100.7"}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="paid orders per entry and round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--json", action="store_true", help="one JSON line")
    args = parser.parse_args()

    import logging

    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "eu-central-1", "LOYALTY_LOCAL_STACK": "1"})
    logging.getLogger("loyalty").setLevel(logging.WARNING)
    from app import app
    from chalicelib import composition
    from chalicelib.routes.orders import webhook_url
    from chalicelib.services.shops import shops
    from devstack.function_url import url_event
    from devstack.samples import sample_order_payload, signed_request
    from tests.support.fakes.deps import deps_on_fakes
    from tests.support.fakes.store import in_memory_store

    secret = "whsec-bench-0123456789abcdef"
    with in_memory_store("webhook-entries") as store:
        deps = deps_on_fakes(store)
        composition.install(deps)
        try:
            for shop_id in ("rest-shop", "url-shop"):
                shops.put_shop(deps, shop_id, {"platform": "shopify", "webhook_secret": secret, "currency": "UAH",
                                               "sender_email": f"bench@{shop_id}.example",
                                               "storefront_url": "https://shop.example",
                                               "program": {"cashback_percent": "2"}})
            order_ids = iter(range(10**6))

            def deliveries(count: int) -> list[tuple[dict, bytes]]:
                return [signed_request("shopify", secret, sample_order_payload(
                    "shopify", order_id=str(next(order_ids)), email=f"buyer{n}@example.com"), topic="orders/paid")
                    for n in range(count)]

            def through_rest(batch) -> float:
                events = [rest_event("/webhooks/shopify/rest-shop", {"platform": "shopify", "shop_id": "rest-shop"},
                                     headers, body) for headers, body in batch]
                started = time.process_time()
                answers = [app(event, None) for event in events]
                spent = time.process_time() - started
                assert all(answer["statusCode"] == 200 and '"applied"' in answer["body"] for answer in answers), answers[0]
                return spent * 1000 / len(events)

            def through_url(batch) -> float:
                events = [url_event("POST", "/webhooks/shopify/url-shop", headers, body) for headers, body in batch]
                started = time.process_time()
                answers = [webhook_url(event, None) for event in events]
                spent = time.process_time() - started
                assert all(answer["statusCode"] == 200 and '"applied"' in answer["body"] for answer in answers), answers[0]
                return spent * 1000 / len(events)

            through_rest(deliveries(20)), through_url(deliveries(20))  # warm: first-use imports, caches
            rest_ms, url_ms = [], []
            for round_number in range(args.rounds):  # which entry goes first alternates: the store grows
                if round_number % 2:
                    url_ms.append(through_url(deliveries(args.orders)))
                    rest_ms.append(through_rest(deliveries(args.orders)))
                else:
                    rest_ms.append(through_rest(deliveries(args.orders)))
                    url_ms.append(through_url(deliveries(args.orders)))
        finally:
            composition.reset()
    result = {"rest_cpu_ms": round(statistics.median(rest_ms), 3), "function_url_cpu_ms": round(statistics.median(url_ms), 3),
              "function_url_vs_rest": round(statistics.median(url_ms) / statistics.median(rest_ms), 3),
              "orders": args.orders, "rounds": args.rounds}
    if args.json:
        print(json.dumps(result))
        return
    print("| entry | CPU ms per paid order (median of rounds) | rounds |")
    print("|---|---|---|")
    print(f"| REST route (`app.app`, API Gateway's proxy event) | {result['rest_cpu_ms']} | "
          f"{', '.join(f'{ms:.2f}' for ms in rest_ms)} |")
    print(f"| function URL (`webhook_url`, payload format 2.0) | {result['function_url_cpu_ms']} | "
          f"{', '.join(f'{ms:.2f}' for ms in url_ms)} |")
    print(f"\nfunction_url_vs_rest {result['function_url_vs_rest']} (CPU time; in-memory store; load average "
          f"{os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    sys.exit(main())
