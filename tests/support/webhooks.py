"""Webhooks handed straight to the use case (no HTTP), and calls started at one moment."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from devstack.samples import signed_request


def deliver_shopify(deps, shop_id: str, secret: str, payload: dict, topic: str, event_id: str | None = None) -> dict:
    from chalicelib.services.orders import webhooks

    headers, raw = signed_request("shopify", secret, payload, topic=topic, event_id=event_id)
    return webhooks.receive_webhook(deps, "shopify", shop_id, headers, raw, "application/json")


def run_together(calls):
    """Start every call at the same moment, on its own thread."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
