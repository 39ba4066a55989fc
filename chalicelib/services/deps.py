"""What every use case is given: configuration, clock, repositories and the outside world's ports.

Services take a ``Deps`` as their first argument and read nothing else from the process: no
environment, no wall clock, no module-level client. The composition root
(chalicelib/composition.py) builds one per cold start from the real adapters; tests build one
from in-memory fakes and a clock they move (tests/support). Nothing here does I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.caching import TTLCache
from chalicelib.clock import Clock
from chalicelib.config import Config

# How often a container notes a shop's webhook delivery, and asks SES about a pending domain.
DELIVERY_NOTE_SECONDS = 60.0
SES_RECHECK_SECONDS = 60.0
CAMPAIGN_GATE_SECONDS = 5.0
FLOWS_CACHE_SECONDS = 5.0


class Repositories(Protocol):
    """Every repository, per shop where its items live under one (store/repositories.py is the
    DynamoDB one)."""

    def loyalty(self, shop_id: str) -> Any: ...
    def shops(self) -> Any: ...
    def checkpoints(self, shop_id: str) -> Any: ...
    def mail(self, shop_id: str) -> Any: ...
    def outbox(self) -> Any: ...
    def held_mail(self, shop_id: str) -> Any: ...
    def deferred_mail(self, shop_id: str) -> Any: ...
    def sender_domains(self) -> Any: ...
    def templates(self, shop_id: str) -> Any: ...
    def test_recipients(self, shop_id: str) -> Any: ...
    def storefront_keys(self) -> Any: ...
    def workspace_keys(self) -> Any: ...
    def admin_access(self) -> Any: ...
    def rate_counters(self) -> Any: ...
    def campaigns(self, shop_id: str) -> Any: ...
    def results(self, shop_id: str, subject: str) -> Any: ...
    def clicks(self, shop_id: str) -> Any: ...
    def campaign_groups(self, shop_id: str) -> Any: ...
    def privacy(self, shop_id: str) -> Any: ...
    def webhook_health(self, shop_id: str) -> Any: ...
    def imports(self, shop_id: str) -> Any: ...
    def shipments(self, shop_id: str) -> Any: ...
    def flows(self, shop_id: str) -> Any: ...
    def products(self, shop_id: str) -> Any: ...
    def rewards(self, shop_id: str) -> Any: ...
    def offers(self, shop_id: str) -> Any: ...


@dataclass
class Caches:
    """What one Lambda container keeps between requests (a new ``Deps`` starts empty)."""

    shops: TTLCache
    templates: TTLCache
    sender_claims: TTLCache
    campaign_gates: TTLCache = field(default_factory=lambda: TTLCache(CAMPAIGN_GATE_SECONDS))
    noted_deliveries: TTLCache = field(default_factory=lambda: TTLCache(DELIVERY_NOTE_SECONDS))
    ses_checks: TTLCache = field(default_factory=lambda: TTLCache(SES_RECHECK_SECONDS))
    # A shop's enabled flows: read at most once a few seconds per container, not per webhook.
    flows: TTLCache = field(default_factory=lambda: TTLCache(FLOWS_CACHE_SECONDS))

    @classmethod
    def for_config(cls, config: Config) -> "Caches":
        seconds = config.shop_cache_seconds
        return cls(shops=TTLCache(seconds), templates=TTLCache(seconds), sender_claims=TTLCache(seconds))


@dataclass
class Deps:
    config: Config
    clock: Clock
    repos: Repositories
    messenger: Any  # chalicelib.mail.messenger.Messenger: sends one raw message (paced to the SES rate)
    identities: Any  # chalicelib.mail.identities.Identities: SES domain identities
    send_queue: Any  # chalicelib.mail.send_queue.SendQueue
    tokens: Any  # chalicelib.mail.tokens.LinkSigner
    secrets: Any  # chalicelib.secrets.Secrets
    caches: Caches
    sender_scaling: Any = None  # chalicelib.mail.sender_scaling.LambdaSenderScaling: SES rate → send concurrency
    metrics: Any = None  # chalicelib.metrics.Metrics: CloudWatch embedded-format metrics (None: not recorded)
