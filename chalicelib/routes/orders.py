"""Orders arriving: platform webhooks, their health, reconciliation from the platforms' APIs."""
from __future__ import annotations

import time

from chalice import Blueprint, Rate

from chalicelib.api.function_url import UrlRoute, serve
from chalicelib.api.http import json_route
from chalicelib.composition import dependencies
from chalicelib.first_use import imported_on_first_use
from chalicelib.routes.guards import WEBHOOK_TYPES, admin_only

with imported_on_first_use():  # run on a handler's first call, not at cold start (chalicelib/first_use.py)
    from chalicelib.services.orders import reconciliation, webhook_health, webhooks

bp = Blueprint(__name__)


WEBHOOK_PATH = "/webhooks/{platform}/{shop_id}"


@bp.route(WEBHOOK_PATH, methods=["POST"], content_types=WEBHOOK_TYPES)
def webhook(platform, shop_id):
    return _receive_webhook(bp.current_request, platform=platform, shop_id=shop_id)


@bp.lambda_function(name="webhook_url")
def webhook_url(event, context):
    # The same deliveries on the function's own URL (infra/stack.py WebhookFunctionUrl): no API
    # Gateway request to pay for; the REST route stays for the shops configured with it.
    return serve(event, _WEBHOOK_URL_ROUTE, _receive_webhook)


_WEBHOOK_URL_ROUTE = UrlRoute(WEBHOOK_PATH, methods=("POST",), content_types=tuple(WEBHOOK_TYPES))


@json_route
def _receive_webhook(request, *, platform, shop_id):
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
