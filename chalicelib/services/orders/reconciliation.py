"""Reconciliation: ask the platform for orders changed since the last checkpoint and apply
what no webhook brought, through the webhooks' own idempotent ledger path.

Shopify drops an event after 8 failed retries over 4 hours; WooCommerce never retries and
disables a webhook after repeated failures. So every hour, per shop with platform API
credentials, this reads the orders changed since its checkpoint (minus an overlap, since
the platform's list and clock are not exact), parses each with the webhook parser of its
platform and applies it with ``ledger.apply_order_update``. What a webhook already brought
answers ``duplicate`` and changes nothing; what it did not is applied and counted as
missed (webhook health). Found orders paid within ``MAIL_WINDOW`` get their post-purchase
e-mail as if the webhook had come; older ones are applied silently.

Checkpoint: ``SHOP#{shop}`` / ``RECONCILE``, the latest ``updated_at`` (Shopify) or
``date_modified_gmt`` (WooCommerce) applied, saved after every page, so a run that dies
goes on from its last page.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator, Optional

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.loyalty.order_record import PAID
from chalicelib.errors import BadRequest, ServiceError
from chalicelib.platforms import order_api, shopify, woocommerce
from chalicelib.platforms.fields import validate
from chalicelib.services.loyalty import ledger
from chalicelib.services.orders import refund_details
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store import keys
from chalicelib.store.models import ReconcileCheckpointItem

CHECKPOINT_SK = "RECONCILE"
FIRST_RUN_LOOKBACK = timedelta(days=3)
OVERLAP = timedelta(minutes=15)
MAIL_WINDOW = timedelta(days=2)
# Changes younger than this are left to their webhook (it is usually seconds behind):
# counting them as missed would blame webhooks for being a moment late.
GRACE = timedelta(minutes=15)
_log = logging.getLogger("loyalty.reconciliation")


@dataclass
class Report:
    shop_id: str
    updated_since: str = ""
    pages: int = 0
    orders_seen: int = 0
    missed_orders: list[str] = field(default_factory=list)
    missed_refunds: list[str] = field(default_factory=list)
    missed_cancellations: list[str] = field(default_factory=list)
    ignored: int = 0
    problems: list[dict] = field(default_factory=list)
    checkpoint: Optional[str] = None
    error: Optional[str] = None

    def as_json(self) -> dict:
        return {"shop_id": self.shop_id, "updated_since": self.updated_since, "pages": self.pages,
                "orders_seen": self.orders_seen, "missed_orders": self.missed_orders,
                "missed_refunds": self.missed_refunds, "missed_cancellations": self.missed_cancellations,
                "ignored": self.ignored, "problems": self.problems, "checkpoint": self.checkpoint,
                "error": self.error}


def checkpoint_of(shop_id: str) -> Optional[ReconcileCheckpointItem]:
    try:
        return ReconcileCheckpointItem.get(keys.shop_pk(shop_id), CHECKPOINT_SK, consistent_read=True)
    except DoesNotExist:
        return None


def run_reconciliation(deps, now: Optional[datetime] = None) -> list[dict]:
    """The hourly schedule: every Shopify and WooCommerce shop with API credentials."""
    now = now or deps.clock()
    reports = []
    for shop_id, platform in deps.repos.shops().list_ids():
        if platform not in ("shopify", "woocommerce"):
            continue
        try:
            if load_shop(deps, shop_id).platform_api_url is None:
                continue
            reports.append(reconcile_shop(deps, shop_id, now))
        except Exception as error:  # noqa: BLE001 - one shop's failure must not stop the others
            _log.exception("reconciliation of shop %s failed", shop_id)
            reports.append({"shop_id": shop_id, "error": str(error)[:300]})
    return reports


def reconcile_shop(deps, shop_id: str, now: Optional[datetime] = None, *, since: Optional[datetime] = None,
                   fetch: Optional[order_api.Fetch] = None) -> dict:
    now = now or deps.clock()
    shop = load_shop(deps, shop_id)
    if shop.platform_api_url is None:
        raise BadRequest(f"platform_api: shop {shop_id!r} has no platform API credentials to reconcile with",
                         field="platform_api")
    checkpoint = checkpoint_of(shop_id)
    if since is None:
        since = (keys.parse_iso(checkpoint.updated_since) - OVERLAP) if checkpoint else _first_run_start(shop, now)
    report = Report(shop_id, updated_since=keys.iso(since))
    high_water = keys.parse_iso(checkpoint.updated_since) if checkpoint else since
    settled_before = now - GRACE
    try:
        for page in _pages(shop, since, fetch):
            report.pages += 1
            fresh = False
            for payload in page:
                parsed = _parse_found(shop, payload, report)
                if parsed is None:
                    continue
                order, updated = parsed
                if updated is not None and updated > settled_before:
                    fresh = True  # sorted by change time: the rest are fresh too
                    break
                if shop.platform == "woocommerce":
                    order = refund_details.itemized_if_new(deps, shop, order, payload, fetch)
                _apply_found(deps, shop, order, now, report)
                if updated is not None and updated > high_water:
                    high_water = updated
            _save_checkpoint(shop_id, high_water, now, None)
            if fresh:
                break
    except order_api.PlatformApiError as error:
        report.error = str(error)
    report.checkpoint = keys.iso(high_water)
    _save_checkpoint(shop_id, high_water, now, report.as_json())
    missed_orders, missed_refunds = len(report.missed_orders), len(report.missed_refunds)
    deps.repos.webhook_health(shop_id).reconciled(missed_orders, missed_refunds, now)
    if missed_orders or missed_refunds or report.missed_cancellations:
        _log.warning("shop %s: reconciliation found %d orders, %d refunds, %d cancellations no webhook brought",
                     shop_id, missed_orders, missed_refunds, len(report.missed_cancellations))
    return report.as_json()


def _first_run_start(shop, now: datetime) -> datetime:
    """Orders from before the shop joined are history, the import's job (and no reason to mail anyone)."""
    start = now - FIRST_RUN_LOOKBACK
    try:
        joined = datetime.fromisoformat(shop.created_at)
    except (TypeError, ValueError):
        return start
    return max(start, joined if joined.tzinfo else joined.replace(tzinfo=timezone.utc))


def _pages(shop, since: datetime, fetch) -> Iterator[list[dict]]:
    extra = {"fetch": fetch} if fetch else {}
    credentials = shop.platform_api_credentials
    if shop.platform == "shopify":
        return order_api.shopify_orders(shop.platform_api_url, credentials["access_token"], since, **extra)
    return order_api.woocommerce_orders(shop.platform_api_url, credentials["consumer_key"],
                                        credentials["consumer_secret"], since, **extra)


def _parse(shop, payload: dict):
    if shop.platform == "shopify":
        parsed = validate(shopify.ShopifyOrder, payload)
        return shopify.order_from_payload(parsed, shop.currency_exponent), parsed.updated_at
    parsed = validate(woocommerce.WooOrder, payload)
    return woocommerce.order_from_payload(parsed, shop.currency_exponent, shop.currency), parsed.date_modified_gmt


def _parse_found(shop, payload, report: Report):
    report.orders_seen += 1
    if not isinstance(payload, dict) or payload.get("test") is True:
        report.ignored += 1
        return None
    try:
        order, updated_at = _parse(shop, payload)
    except ServiceError as error:
        report.problems.append({"order_id": str(payload.get("id")), "reason": error.message})
        return None
    return order, updated_at.astimezone(timezone.utc) if updated_at else None


def _apply_found(deps, shop, order, now: datetime, report: Report) -> None:
    before = deps.repos.loyalty(shop.shop_id).load_order(order.order_id)
    paid_at = order.paid_at or order.created_at or now
    answer, outcome = _apply(deps, shop, order, now, notify=now - paid_at <= MAIL_WINDOW)
    if answer.get("result") == "ignored":
        report.ignored += 1
    if outcome is None:
        return
    if outcome.newly_paid:
        report.missed_orders.append(order.order_id)
    if before is None or before.status != "cancelled":
        report.missed_refunds.extend(refund.refund_id for refund in order.refunds
                                     if before is None or not before.knows_refund(refund.refund_id))
    if order.cancelled and before is not None and before.status == PAID:
        report.missed_cancellations.append(order.order_id)


def _apply(deps, shop, order, now: datetime, notify: bool):
    outcomes: list = []

    def attempt() -> dict:
        answer, outcome = ledger.apply_order_update(deps, shop, order, now, topic="reconciliation", notify=notify)
        outcomes[:] = [outcome]
        return answer

    return ledger.with_retries(attempt), outcomes[0] if outcomes else None


def _save_checkpoint(shop_id: str, high_water: datetime, now: datetime, report: Optional[dict]) -> None:
    item = ReconcileCheckpointItem(keys.shop_pk(shop_id), CHECKPOINT_SK, updated_since=keys.iso(high_water),
                                   last_run_at=keys.iso(now), last_report=report)
    item.save()

