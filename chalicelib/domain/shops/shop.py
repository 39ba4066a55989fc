"""A shop (tenant): its platform, money, place, sender and program."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from chalicelib.domain.email_address import normalize_email  # noqa: F401 (re-exported)
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.mail.deferral import DEFAULT_PRIORITY_ORDER
from chalicelib.domain.mail.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours
from chalicelib.domain.shops.brand import Brand
from chalicelib.domain.shops.webhook_secrets import PreviousSecret, SecretRing


# The automated e-mails a shop may switch off (a shop may not want win-back). Not among them:
# campaigns (each is sent on purpose), the reward code the customer asked for, and the
# multi-step flows, which have their own switch (domain/flows).
SWITCHABLE_FLOWS: tuple[str, ...] = (
    "post_purchase", "points_expiring", "tier_upgrade", "referral_reward", "welcome", "birthday", "winback",
    "tier_at_risk", "achievement", "membership_reminder", "shipment_update",
)


@dataclass(frozen=True)
class MarketingCap:
    max_messages: int = 3
    per_days: int = 7


@dataclass
class Shop:
    shop_id: str
    platform: str  # shopify | woocommerce | generic
    currency: str
    currency_exponent: int
    default_locale: str
    timezone: str
    sender_email: str
    storefront_url: str
    program: ProgramRules = field(default_factory=ProgramRules)
    name: str = ""
    # Shown in every e-mail: the logo in the header, the postal address in the footer
    # (commercial e-mail law in the shops' markets asks for it).
    logo_url: Optional[str] = None
    address: Optional[str] = None
    # Logo, colours, font, footer lines and social links of every e-mail (domain/shops/brand.py).
    brand: Brand = field(default_factory=Brand)
    # Replies go here (the shop's support inbox) instead of the sender address.
    reply_to: Optional[str] = None
    webhook_secret: str = ""
    # Replaced secrets still accepted until they retire (chalicelib.domain.shops.webhook_secrets).
    previous_webhook_secrets: tuple[PreviousSecret, ...] = ()
    # Keys the customer id: the e-mail never appears in a key, and a redacted
    # customer cannot be found again from a guessed address without it.
    customer_key_salt: str = ""
    marketing_cap: MarketingCap = field(default_factory=MarketingCap)
    expiry_warning_days: tuple[int, ...] = (30, 7)
    # Tracked links: extra hosts links may lead to (besides the storefront's), how long
    # a link in a sent e-mail works, and how long after a click an order counts for it.
    link_domains: tuple[str, ...] = ()
    link_validity_days: int = 180
    attribution_days: int = 5
    # Whether customers already lapsed when the shop starts get a win-back (paced, see lifecycle.occasions).
    winback_already_lapsed: bool = False
    # The automated e-mails (SWITCHABLE_FLOWS) this shop switched off: none of them is sent.
    flows_off: frozenset[str] = frozenset()
    # Marketing kinds, highest priority first, for the cap's free slots (domain/mail/deferral.py).
    mail_priority_order: tuple[str, ...] = DEFAULT_PRIORITY_ORDER
    # No marketing e-mail between these local times on the customer's clock (None: at any hour).
    quiet_hours: Optional[QuietHours] = DEFAULT_QUIET_HOURS
    # The share (0–50 %) of the shop's customers who never get marketing e-mail: the program's
    # holdout, against which the dashboard measures the whole program's incremental revenue.
    program_holdout_percent: int = 0
    # Campaign tags on links to the shop's hosts (None: no tags).
    utm_source: Optional[str] = "loyalty"
    utm_medium: str = "email"
    # Reconciliation reads the platform's orders here (None: not configured). The
    # credentials are secrets like the webhook secret: never logged or returned.
    platform_api_url: Optional[str] = None
    platform_api_credentials: dict = field(default_factory=dict, repr=False)
    created_at: str = ""
    updated_at: str = ""
    version: int = 0

    def sends_flow(self, template: str, campaign_id: Optional[str] = None) -> bool:
        """Whether an e-mail of ``template`` goes out (a campaign's always does)."""
        return campaign_id is not None or template not in self.flows_off

    def webhook_secrets_at(self, now: datetime) -> tuple[str, ...]:
        """The secrets a delivery arriving at ``now`` may be signed with, the current one first."""
        return SecretRing(self.webhook_secret, self.previous_webhook_secrets).accepted(now)

    @property
    def link_hosts(self) -> frozenset[str]:
        from chalicelib.domain.campaigns.links import shop_hosts

        return shop_hosts(self.storefront_url, self.link_domains)

    def redacted_order_hash(self, order_id: str) -> str:
        """What is kept of an erased order's id: keyed with the shop's salt, so the sequential
        ids of a platform cannot be tried against it."""
        digest = hmac.new(self.customer_key_salt.encode(), f"order:{order_id}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def customer_id_for(self, email: str) -> str:
        normalized = normalize_email(email)
        digest = hmac.new(self.customer_key_salt.encode(), normalized.encode(), hashlib.sha256).hexdigest()
        return "c_" + digest[:32]

