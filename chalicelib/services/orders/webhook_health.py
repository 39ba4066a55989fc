"""Webhook health per shop: when the last delivery came, deliveries refused and why, and the
orders and refunds reconciliation found that no webhook had brought.

Cheap on purpose. A refused delivery (bad signature: 401; unreadable payload: 400) adds 1 to
its reason's counter: the only write a refused webhook makes (docs/data-model.md). A good
delivery writes ``last_delivery_at`` at most once a minute per Lambda container, so a busy
shop pays one small UpdateItem a minute, not one per order. Health writes are best effort:
if one fails, the webhook's answer does not change.
"""
from __future__ import annotations

import logging
from datetime import datetime

from chalicelib.errors import ServiceError, Unauthorized
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.models import ReconcileCheckpointItem

from chalicelib.services.deps import DELIVERY_NOTE_SECONDS
_log = logging.getLogger("loyalty.webhook_health")


def note_refused(deps, shop_id: str, error: ServiceError, now: datetime) -> None:
    reason = "signature" if isinstance(error, Unauthorized) else "parse"
    try:
        deps.repos.webhook_health(shop_id).failure(reason, error.message, now)
    except Exception:  # noqa: BLE001 - a health counter must never change a webhook's answer
        _log.warning("could not count a refused webhook for shop %s", shop_id, exc_info=True)


def note_ignored(deps, shop_id: str, answer: dict, now: datetime) -> None:
    """An order the ledger left uncounted for its currency: the shop sees how many and the last
    one, since nothing else would tell it that a customer earned nothing (one write per such order)."""
    if answer.get("skipped") != "currency":
        return
    try:
        deps.repos.webhook_health(shop_id).ignored_currency(str(answer.get("order_id")), answer.get("reason", ""), now)
    except Exception:  # noqa: BLE001 - a health counter must never change a webhook's answer
        _log.warning("could not count an ignored order for shop %s", shop_id, exc_info=True)


def note_delivery(deps, shop_id: str, now: datetime) -> None:
    if not deps.caches.noted_deliveries.mark_if_due(shop_id):
        return
    try:
        deps.repos.webhook_health(shop_id).delivery(now)
    except Exception:  # noqa: BLE001
        _log.warning("could not note a webhook delivery for shop %s", shop_id, exc_info=True)


def health_view(deps, shop_id: str) -> dict:
    load_shop(deps, shop_id)  # 404 for an unknown shop
    item = deps.repos.webhook_health(shop_id).get()
    from chalicelib.services.orders.reconciliation import checkpoint_of

    checkpoint = checkpoint_of(shop_id)
    value = (lambda name: getattr(item, name, None)) if item else (lambda name: None)
    return {
        "shop_id": shop_id,
        "last_delivery_at": value("last_delivery_at"),
        "last_delivery_note": f"updated at most once every {int(DELIVERY_NOTE_SECONDS)} s per server instance",
        "failures": {"signature": int(value("failures_signature") or 0), "parse": int(value("failures_parse") or 0)},
        "last_failure_at": value("last_failure_at"),
        "last_failure": value("last_failure_reason"),
        "missed_by_webhooks": {"orders": int(value("missed_orders") or 0),
                               "refunds": int(value("missed_refunds") or 0)},
        "ignored_orders": {"currency": int(value("ignored_currency") or 0)},
        "last_ignored_at": value("last_ignored_at"),
        "last_ignored": value("last_ignored_reason"),
        "last_reconciled_at": value("last_reconciled_at"),
        "reconciliation": _checkpoint_view(checkpoint),
    }


def _checkpoint_view(checkpoint: "ReconcileCheckpointItem | None") -> dict | None:
    if checkpoint is None:
        return None
    return {"updated_since": checkpoint.updated_since, "last_run_at": checkpoint.last_run_at,
            "last_report": checkpoint.last_report}

