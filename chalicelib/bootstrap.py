"""Composition root: settings from the environment, read when first needed.

Chalice's test client applies ``.chalice/config.json`` only while its context
is open, so nothing here runs at import time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone

from chalicelib import secrets
from chalicelib.domain.access import limits as abuse_limits
from chalicelib.store.models import DEFAULT_TABLE_NAME, use_table

# The local stack's admin token: accepted only where LOYALTY_LOCAL_STACK=1 says so (chalicelib.secrets).
LOCAL_ADMIN_TOKEN = "local-admin-token"


@dataclass(frozen=True)
class Settings:
    table_name: str
    shop_cache_seconds: float
    send_queue_name: str = "loyalty-mail-send"
    events_queue_name: str = "loyalty-mail-events"
    max_body_bytes: int = 1024 * 1024
    # A key's "last used" is written at most this often (one conditional write per key and interval).
    key_last_used_seconds: float = 60.0
    # Test sends (and test-recipient confirmations) per shop and hour, across all instances.
    test_sends_per_hour: int = 20


def settings() -> Settings:
    return Settings(
        table_name=os.environ.get("LOYALTY_TABLE", DEFAULT_TABLE_NAME),
        shop_cache_seconds=float(os.environ.get("LOYALTY_SHOP_CACHE_SECONDS", "30")),
        send_queue_name=os.environ.get("LOYALTY_SEND_QUEUE", "loyalty-mail-send"),
        events_queue_name=os.environ.get("LOYALTY_EVENTS_QUEUE", "loyalty-mail-events"),
        key_last_used_seconds=float(os.environ.get("LOYALTY_KEY_LAST_USED_SECONDS", "60")),
        test_sends_per_hour=int(os.environ.get("LOYALTY_TEST_SENDS_PER_HOUR", "20")),
    )


def limits() -> dict:
    """The abuse limits (``LOYALTY_LIMIT_<ACTION>_PER_<SCOPE>=COUNT/SECONDS`` or ``off``; defaults in
    chalicelib.domain.access.limits)."""
    return abuse_limits.configured(dict(os.environ))


def admin_tokens() -> tuple[str, ...]:
    """The accepted admin tokens, current first: ``LOYALTY_ADMIN_TOKEN`` locally, the stage's
    secret when deployed (``LOYALTY_ADMIN_TOKEN_SECRET_ARN``; the previous token stays valid
    during a rotation). Empty when none is configured (the development token counts only on
    the local stack)."""
    return secrets.values("LOYALTY_ADMIN_TOKEN", local_default=LOCAL_ADMIN_TOKEN)


_configured_table: list[str] = []


def ensure_store() -> None:
    """Point the models at the configured table (again, if it changed)."""
    name = settings().table_name
    if _configured_table != [name]:
        use_table(name)
        _configured_table[:] = [name]


_clients: dict[str, object] = {}


def _client(service: str):
    """boto3 clients are made on first use (import stays cheap) and kept per endpoint."""
    key = f"{service}|{os.environ.get('AWS_ENDPOINT_URL', '')}"
    if key not in _clients:
        import boto3

        _clients[key] = boto3.client(service)
    return _clients[key]


def sqs_client():
    return _client("sqs")


def sesv2_client():
    return _client("sesv2")


def reset() -> None:
    """Forget cached connections and shops (tests switch endpoints and tables)."""
    from chalicelib.services.mail import sender_domains
    from chalicelib.services.shops import shops
    from chalicelib.services.orders import webhook_health

    _configured_table.clear()
    secrets.forget()
    shops.forget_cached_shops()
    sender_domains.forget_cached()
    webhook_health.forget_noted_deliveries()


def now() -> datetime:
    return datetime.now(timezone.utc)
