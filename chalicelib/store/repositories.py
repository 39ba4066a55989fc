"""The DynamoDB repositories, one factory per kind (the ``Repositories`` services are given).

Cheap to call: each repository is a thin object over the PynamoDB models of the one table,
which the composition root pointed at the configured table name once.
"""
from __future__ import annotations

from chalicelib.store.access.access_keys import AccessKeys
from chalicelib.store.access.admin_access import AdminAccess
from chalicelib.store.access.rate_counters import RateCounters
from chalicelib.store.campaigns.saved_segments import SavedSegments
from chalicelib.store.campaigns.campaigns import CampaignStore
from chalicelib.store.campaigns.clicks import ClickStore
from chalicelib.store.campaigns.groups import CampaignGroups
from chalicelib.store.campaigns.results import Results
from chalicelib.store.loyalty.repository import LoyaltyRepository
from chalicelib.store.loyalty.offers import OfferRecords, PersonalOffers
from chalicelib.store.loyalty.rewards import RewardCatalog
from chalicelib.store.mail.deferred_mail import DeferredMail
from chalicelib.store.mail.held_mail import HeldMail
from chalicelib.store.mail.mail_store import MailStore
from chalicelib.store.mail.outbox import OutboxStore
from chalicelib.store.shops.sender_domains import SenderDomainStore
from chalicelib.store.orders.imports import ImportJobs
from chalicelib.store.orders.shipments import ShipmentNoticeStore
from chalicelib.store.flows.flows import FlowStore
from chalicelib.store.products.products import ProductStore
from chalicelib.store.orders.webhook_health import WebhookHealthStore
from chalicelib.store.privacy.privacy import PrivacyStore
from chalicelib.store.shops.shops import JobCheckpoints, ShopRepository
from chalicelib.store.templates.templates import TemplateOverrides
from chalicelib.store.templates.test_recipients import TestRecipients


class DynamoRepositories:
    def loyalty(self, shop_id: str) -> LoyaltyRepository:
        return LoyaltyRepository(shop_id)

    def shops(self) -> ShopRepository:
        return ShopRepository()

    def checkpoints(self, shop_id: str) -> JobCheckpoints:
        return JobCheckpoints(shop_id)

    def mail(self, shop_id: str) -> MailStore:
        return MailStore(shop_id)

    def outbox(self) -> OutboxStore:
        return OutboxStore()

    def deferred_mail(self, shop_id: str) -> DeferredMail:
        return DeferredMail(shop_id)

    def held_mail(self, shop_id: str) -> HeldMail:
        return HeldMail(shop_id)

    def sender_domains(self) -> SenderDomainStore:
        return SenderDomainStore()

    def templates(self, shop_id: str) -> TemplateOverrides:
        return TemplateOverrides(shop_id)

    def test_recipients(self, shop_id: str) -> TestRecipients:
        return TestRecipients(shop_id)

    def storefront_keys(self) -> AccessKeys:
        return AccessKeys.storefront()

    def workspace_keys(self) -> AccessKeys:
        return AccessKeys.workspace()

    def admin_access(self) -> AdminAccess:
        return AdminAccess()

    def rate_counters(self) -> RateCounters:
        return RateCounters()

    def campaigns(self, shop_id: str) -> CampaignStore:
        return CampaignStore(shop_id)

    def saved_segments(self, shop_id: str) -> SavedSegments:
        return SavedSegments(shop_id)

    def results(self, shop_id: str, subject: str) -> Results:
        return Results(shop_id, subject)

    def clicks(self, shop_id: str) -> ClickStore:
        return ClickStore(shop_id)

    def campaign_groups(self, shop_id: str) -> CampaignGroups:
        return CampaignGroups(shop_id)

    def privacy(self, shop_id: str) -> PrivacyStore:
        return PrivacyStore(shop_id)

    def webhook_health(self, shop_id: str) -> WebhookHealthStore:
        return WebhookHealthStore(shop_id)

    def imports(self, shop_id: str) -> ImportJobs:
        return ImportJobs(shop_id)

    def shipments(self, shop_id: str) -> ShipmentNoticeStore:
        return ShipmentNoticeStore(shop_id)

    def flows(self, shop_id: str) -> FlowStore:
        return FlowStore(shop_id)

    def products(self, shop_id: str) -> ProductStore:
        return ProductStore(shop_id)

    def rewards(self, shop_id: str) -> RewardCatalog:
        return RewardCatalog(shop_id)

    def offers(self, shop_id: str) -> PersonalOffers:
        return PersonalOffers(shop_id)

    def offer_records(self, shop_id: str) -> OfferRecords:
        return OfferRecords(shop_id)
