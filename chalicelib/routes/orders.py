"""Orders arriving: platform webhooks, their health, reconciliation from the platforms' APIs."""
from __future__ import annotations

import time

from chalice import Blueprint, Rate

from chalicelib.api.http import json_route
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use
from chalicelib.routes.guards import WEBHOOK_TYPES, admin_only

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.orders import reconciliation, webhook_health, webhooks

bp = Blueprint(__name__)


@bp.route("/webhooks/{platform}/{shop_id}", methods=["POST"], content_types=WEBHOOK_TYPES)
@json_route
def webhook(platform, shop_id):
    request = bp.current_request
    deps = dependencies()
    started = time.perf_counter()
    try:
        return webhooks.receive_webhook(deps, platform, shop_id, request.headers, request.raw_body or b"",
                                        request.headers.get("content-type", "application/json"))
    finally:  # refused deliveries too: the latency a platform sees
        if deps.metrics is not None:
            deps.metrics.milliseconds("WebhookLatency", (time.perf_counter() - started) * 1000, deps.clock())


@bp.route("/admin/shops/{shop_id}/webhook-health", methods=["GET"])
@json_route
@admin_only(bp)
def get_webhook_health(shop_id):
    return webhook_health.health_view(dependencies(), shop_id)


@bp.schedule(Rate(1, unit=Rate.HOURS))
def reconcile_orders(event):
    # Orders and refunds the platforms' webhooks lost, from their APIs, applied once.
    return reconciliation.run_reconciliation(dependencies())
