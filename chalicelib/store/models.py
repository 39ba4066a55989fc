"""PynamoDB models of the single ``loyalty`` table (see docs/data-model.md).

These are storage shapes only; repositories map them to and from the domain
dataclasses. Key and index names must match ``infra/table.json`` (a test holds
the two together).
"""
from __future__ import annotations

from typing import TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.json_text import dumps, dumps_text

DEFAULT_TABLE_NAME = "loyalty"
M = TypeVar("M", bound=Model)


class TextJSONAttribute(JSONAttribute):
    """JSON stored as UTF-8 text: a non-ASCII character (a Cyrillic product title) takes its 2–4
    bytes instead of a 6–12-byte ``\\u`` escape, and DynamoDB charges by the item's bytes (a
    post-purchase outbox item with two Ukrainian titles: 1,068 → 960 bytes, 2 write units instead of
    4 in its transaction). Read as any JSON: items written with escapes read the same. A value
    with a lone surrogate, which UTF-8 cannot carry, is written escaped, as before."""

    def serialize(self, value):
        if value is None:
            return None
        encoded = dumps_text(value)
        try:
            encoded.encode("utf-8")
        except UnicodeEncodeError:
            return dumps(value)
        return encoded


class _Meta:
    table_name = DEFAULT_TABLE_NAME
    # host and region come from the environment (AWS_ENDPOINT_URL locally).


class ByDueDay(GlobalSecondaryIndex):
    """Lots by expiry day, codes by expiry day and profiles by tier review day, per shop."""

    class Meta:
        index_name = "by_due_day"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ByBirthday(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_birthday"
        projection = KeysOnlyProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class ByLastOrder(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_last_order"
        projection = KeysOnlyProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class ByShop(GlobalSecondaryIndex):
    """Every customer profile of a shop, spread over ``keys.CUSTOMER_SHARDS`` partitions (segments)."""

    class Meta:
        index_name = "by_shop"
        projection = AllProjection()

    gsi4pk = UnicodeAttribute(hash_key=True)
    gsi4sk = UnicodeAttribute(range_key=True)


class ByCustomer(GlobalSecondaryIndex):
    """A customer's send logs, newest last (``SENDS#{shop}#{customer}`` / ``{created}#{key}``). Keys
    only: the send log's later writes (sent, delivered, opened, clicked) change no key, so they write
    nothing here, where an ALL index rewrites its copy of the item on each (docs/benchmarks.md,
    "Fewer capacity units"). The few readers (a customer's timeline, export, erasure) get the items
    by their keys (store/customer_sends.py)."""

    class Meta:
        index_name = "by_customer"
        projection = KeysOnlyProjection()

    gsi5pk = UnicodeAttribute(hash_key=True)
    gsi5sk = UnicodeAttribute(range_key=True)


class Item(Model):
    Meta = _Meta
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute(attr_name="type")
    ttl = NumberAttribute(null=True)
    # Sparse index keys: only the items a schedule looks for carry them.
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)
    gsi5pk = UnicodeAttribute(null=True)
    gsi5sk = UnicodeAttribute(null=True)

    by_due_day = ByDueDay()
    by_birthday = ByBirthday()
    by_last_order = ByLastOrder()
    by_shop = ByShop()
    by_customer = ByCustomer()


class ShopItem(Item, discriminator="shop"):
    config = JSONAttribute()
    secrets = JSONAttribute()
    version = VersionAttribute()


class ShopIndexItem(Item, discriminator="shop_index"):
    """One row per shop under a single partition, so shops can be listed by Query."""

    platform = UnicodeAttribute()
    created_at = UnicodeAttribute()


class ApiKeyItem(Item, discriminator="api_key"):
    """A storefront key (``SHOP#{shop}`` / ``APIKEY#{sha256(key)}``); the key itself is never stored."""

    label = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)
    last_used_at = UnicodeAttribute(null=True)  # written at most once per interval (store.access_keys)
    revoked_at = UnicodeAttribute(null=True)  # set: the key no longer opens anything
    revoked_by = UnicodeAttribute(null=True)


class ProfileItem(Item, discriminator="profile"):
    customer_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    marketing_consent = BooleanAttribute(null=True)
    birthday = UnicodeAttribute(null=True)
    platform_customer_ids = UnicodeSetAttribute(null=True)
    facts_updated_at = UnicodeAttribute(null=True)
    redacted = BooleanAttribute(default=False)
    points_balance = NumberAttribute(default=0)
    points_debt = NumberAttribute(default=0)
    cashback_minor = NumberAttribute(default=0)
    lifetime_spend_minor = NumberAttribute(default=0)
    # Spend by paid day in the tier window, {"YYYY-MM-DD": minor} (domain/loyalty/tier_window.py).
    spend_by_day = JSONAttribute(null=True)
    # Older profiles' calendar-month buckets: read once (moved onto days), never written again.
    spend_by_month = JSONAttribute(null=True)
    orders_count = NumberAttribute(default=0)
    last_order_at = UnicodeAttribute(null=True)
    birthday_bonus_year = NumberAttribute(null=True)
    winback_for_order_at = UnicodeAttribute(null=True)
    tier_name = UnicodeAttribute(null=True)
    discount_percent = UnicodeAttribute(default="0")
    tier_review_on = UnicodeAttribute(null=True)
    tier_risk_warned_for = UnicodeAttribute(null=True)
    bought_skus = UnicodeSetAttribute(null=True)
    bought_categories = UnicodeSetAttribute(null=True)
    # Referrals, sign-up bonus, reviews, achievements, membership (docs/program.md).
    program_state = JSONAttribute(null=True)
    member_until = UnicodeAttribute(null=True)
    version = VersionAttribute()


class LotItem(Item, discriminator="lot"):
    lot_id = UnicodeAttribute()
    points = NumberAttribute()
    earned_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    source = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    warned = NumberSetAttribute(null=True)


class LedgerItem(Item, discriminator="ledger"):
    entry_id = UnicodeAttribute()
    entry_kind = UnicodeAttribute()
    points = NumberAttribute()
    cashback_minor = NumberAttribute(default=0)
    spend_minor = NumberAttribute(default=0)
    cause = UnicodeAttribute()
    created_at = UnicodeAttribute()
    detail = TextJSONAttribute(null=True)


class OrderItem(Item, discriminator="order"):
    customer_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    state = TextJSONAttribute()
    version = VersionAttribute()


class ShipmentNoticeItem(Item, discriminator="shipment_notice"):
    """What a shipment's customer was told ("shipped", "delivered"), in its order's partition."""

    told = UnicodeSetAttribute(null=True)
    version = VersionAttribute()


class FlowItem(Item, discriminator="flow"):
    """A shop's flow definition (``SHOP#{shop}`` / ``FLOW#{id}``)."""

    document = JSONAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()


class RewardItem(Item, discriminator="reward"):
    """One reward of a shop's catalog (``SHOP#{shop}`` / ``REWARD#{id}``)."""

    document = JSONAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()


class OfferItem(Item, discriminator="offer"):
    """A customer's personal offer, in their partition (``REWARDOFFER#{code}``: after the profile
    and its lots, so the account's reads never see it): the code it gave, listed for the storefront."""

    code = UnicodeAttribute()
    name = UnicodeAttribute()
    expires_at = UnicodeAttribute()


class OfferRecordItem(Item, discriminator="offer_record"):
    """An individual offer as it was made (``SHOP#{shop}`` / ``OFFERDEF#{offer_id}``): its terms, whom
    it gave a code (customer id → code) and how far its e-mail went; while its e-mail is scheduled it
    sits in ``by_due_day`` under ``OFFERDUE`` by the moment it is due."""

    terms = JSONAttribute()
    recipients = JSONAttribute()
    mailing = JSONAttribute(null=True)
    version = VersionAttribute()


class FlowRunItem(Item, discriminator="flow_run"):
    """One customer's run through a flow; while active it sits in ``by_due_day`` under
    ``FLOWDUE#{shop}`` sorted by when its next step is due."""

    state = JSONAttribute()
    status = UnicodeAttribute()
    version = VersionAttribute()


class FlowStepItem(Item, discriminator="flow_step"):
    """The claim of one step of one run: written once, with the step's effect."""

    step_kind = UnicodeAttribute()
    taken_at = UnicodeAttribute()
    outcome = UnicodeAttribute(null=True)


class CheckoutItem(Item, discriminator="checkout"):
    """A storefront checkout as the platform last described it (``CHECKOUT#{shop}#{token}``)."""

    state = JSONAttribute()
    status = UnicodeAttribute()
    version = VersionAttribute()


class ProductItem(Item, discriminator="product"):
    """One product in ``PRODUCTS#{shop}``: ``P#{id}#A`` what the platform says (product webhooks),
    ``P#{id}#B`` what the orders show (the recommendations job), ``P#{id}#C`` the shop's own setting."""

    state = JSONAttribute()
    version = NumberAttribute(default=0)


class PlatformProductItem(ProductItem, discriminator="platform_product"):
    """``P#{id}#A``, what the platform says: written only over the version read (product webhooks
    arriving together), by PynamoDB's ``VersionAttribute`` like every other versioned item. A
    ``ProductItem`` still (the catalog's queries read the three parts as one model); an ``#A`` written
    before it had a model of its own reads as a ``ProductItem`` with the same ``version``."""

    version = VersionAttribute()


class PurchaseItem(Item, discriminator="purchase"):
    """A paid order's products (``PURCHASES#{shop}`` / ``ORDER#{id}``), written with the order."""

    customer_id = UnicodeAttribute()
    state = TextJSONAttribute()


class RecommendationItem(Item, discriminator="recommendations"):
    """A customer's replenishment and co-purchase candidates (``CUST#…`` / ``RECS``)."""

    state = JSONAttribute()


class EventItem(Item, discriminator="event"):
    topic = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute()


class CodeItem(Item, discriminator="code"):
    code_kind = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    state = JSONAttribute()
    expires_at = UnicodeAttribute()
    version = VersionAttribute()


class LastClickItem(Item, discriminator="last_click"):
    """The customer's latest click on a tracked link (written by store.clicks)."""

    subject = UnicodeAttribute()
    send_key = UnicodeAttribute()
    clicked_at = UnicodeAttribute()


class CampaignGroupItem(Item, discriminator="campaign_group"):
    """The customer's group (sent or holdout) in the latest campaign with a holdout, and what
    they ordered in its attribution window so far (store.campaigns.groups)."""

    campaign_id = UnicodeAttribute()
    group = UnicodeAttribute()
    variant = NumberAttribute(null=True)  # the A/B test variant the customer was sent
    assigned_at = UnicodeAttribute()
    orders = NumberAttribute(default=0)
    revenue_minor = NumberAttribute(default=0)


class PlatformCustomerItem(Item, discriminator="platform_customer"):
    customer_id = UnicodeAttribute()


class OutboxItem(Item, discriminator="outbox"):
    """An e-mail owed because of a committed change; written in the same transaction,
    deleted once the sender has handled it, republished by the sweeper if it lingers."""

    message = TextJSONAttribute()
    created_at = UnicodeAttribute()


class MailSendItem(Item, discriminator="mail_send"):
    """Send log: one per shop and queue idempotency key; the send's idempotency record."""

    shop_id = UnicodeAttribute()
    idempotency_key = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    template = UnicodeAttribute()
    category = UnicodeAttribute()
    campaign_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # claimed | held | sent | skipped | failed | delivered | bounced | complained
    claim_id = UnicodeAttribute(null=True)
    claimed_until = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    ses_message_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    sent_at = UnicodeAttribute(null=True)
    delivered_at = UnicodeAttribute(null=True)
    bounced_at = UnicodeAttribute(null=True)
    complained_at = UnicodeAttribute(null=True)
    opens = NumberAttribute(null=True)
    clicks = NumberAttribute(null=True)
    last_opened_at = UnicodeAttribute(null=True)
    last_clicked_at = UnicodeAttribute(null=True)


class MailPrefItem(Item, discriminator="mail_pref"):
    """A customer's mail preferences: unsubscribe, recent marketing sends (the cap), soft bounces."""

    unsubscribed = BooleanAttribute(default=False)
    unsubscribed_at = UnicodeAttribute(null=True)
    resubscribed_at = UnicodeAttribute(null=True)
    unsubscribe_source = UnicodeAttribute(null=True)
    marketing_sends = JSONAttribute(null=True)  # {sha256(idempotency key)[:24]: sent-at}, pruned to the window
    soft_bounces = NumberAttribute(default=0)
    last_soft_bounce_at = UnicodeAttribute(null=True)
    unsubscribes_counted = JSONAttribute(null=True)  # subjects whose results counted this customer's unsubscribe
    version = VersionAttribute()


class SuppressionItem(Item, discriminator="mail_suppression"):
    """An address of a shop that gets no more mail (hard bounce, complaint). Keyed by a hash."""

    reason = UnicodeAttribute()  # hard_bounce | complaint
    detail = UnicodeAttribute(null=True)
    source_message_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class SesMessageItem(Item, discriminator="mail_ses_message"):
    """SES message id → the send it belongs to (for delivery events)."""

    shop_id = UnicodeAttribute()
    idempotency_key = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class TemplateOverrideItem(Item, discriminator="template_override"):
    """A shop's own MJML body and/or own words for one of the e-mails (templates/ holds the defaults).
    ``mjml`` is None when only texts are the shop's; ``texts`` is {locale: {catalog key: text}}."""

    template = UnicodeAttribute()
    version = VersionAttribute()
    mjml = UnicodeAttribute(null=True)
    texts = JSONAttribute(null=True)
    updated_at = UnicodeAttribute()
    # The override's own subject, preheader and plain text (None: the default's, the text made
    # from the HTML). More per-template fields may follow: added, never renamed.
    subject = UnicodeAttribute(null=True)
    preheader = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)


class CampaignItem(Item, discriminator="campaign"):
    """A campaign under its shop; while scheduled or sending it is in the due index."""

    status = UnicodeAttribute()
    state = JSONAttribute()
    version = VersionAttribute()


class MembershipItem(Item, discriminator="membership"):
    """A member's reminder row: in ``by_due_day`` under the reminder's day until it is sent."""

    customer_id = UnicodeAttribute()
    member_until = UnicodeAttribute()


class ReferralItem(Item, discriminator="referral"):
    """One referee's referral: pending (in ``by_due_day`` under its due day), rejected
    (with the reason), rewarded or void."""

    referrer_id = UnicodeAttribute()
    status = UnicodeAttribute()
    state = JSONAttribute()
    version = VersionAttribute()


class ReferralCountItem(Item, discriminator="referral_count"):
    """How many referrals a referrer had accepted in one month (the monthly cap)."""

    n = NumberAttribute(default=0)


class ReviewBonusItem(Item, discriminator="review_bonus"):
    """What one product's review gave one customer (in the customer's partition)."""

    review_id = UnicodeAttribute()
    points = NumberAttribute()
    status = UnicodeAttribute()
    version = VersionAttribute()


class WithdrawalItem(Item, discriminator="withdrawal"):
    """A cashback withdrawal request; in ``by_due_day`` under ``WITHDRAWALS#{shop}#{status}``."""

    customer_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    amount_minor = NumberAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    decided_at = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    version = VersionAttribute()


class JobCheckpointItem(Item, discriminator="job_checkpoint"):
    """How far a scheduled job has got for a shop (the last day it completed)."""

    day = UnicodeAttribute()


class ImportJobItem(Item, discriminator="import_job"):
    """A history import under its shop (``SHOP#{shop}`` / ``IMPORT#{import id}``): options, position, counts."""

    state = JSONAttribute()


class ReconcileCheckpointItem(Item, discriminator="reconcile_checkpoint"):
    """How far reconciliation has read the platform's orders (``SHOP#{shop}`` / ``RECONCILE``)."""

    updated_since = UnicodeAttribute()
    last_run_at = UnicodeAttribute()
    last_report = JSONAttribute(null=True)


class WebhookHealthItem(Item, discriminator="webhook_health"):
    """Per-shop webhook counters (``SHOP#{shop}`` / ``WEBHOOKHEALTH``), written with ADD, never read-modify-write."""

    last_delivery_at = UnicodeAttribute(null=True)
    last_failure_at = UnicodeAttribute(null=True)
    last_failure_reason = UnicodeAttribute(null=True)
    failures_signature = NumberAttribute(null=True)
    failures_parse = NumberAttribute(null=True)
    missed_orders = NumberAttribute(null=True)
    missed_refunds = NumberAttribute(null=True)
    last_reconciled_at = UnicodeAttribute(null=True)
    # Orders the ledger did not count because of their currency (no exchange rate in the payload).
    ignored_currency = NumberAttribute(null=True)
    last_ignored_at = UnicodeAttribute(null=True)
    last_ignored_reason = UnicodeAttribute(null=True)


class ClickItem(Item, discriminator="click"):
    """Clicks on one e-mail's tracked links (written by store.clicks with UpdateItem)."""

    subject = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    clicks = NumberAttribute(null=True)
    first_at = UnicodeAttribute(null=True)
    last_at = UnicodeAttribute(null=True)


class RedactedOrderItem(Item, discriminator="redacted_order"):
    """An erased order (``REDACTED#{shop}#{keyed hash of the order id}`` / ``ORDER``): no personal data,
    only the fact, so a redelivered or reconciled order is not credited again."""

    redacted_at = UnicodeAttribute()


class DataRequestItem(Item, discriminator="data_request"):
    """A customer's request for their data (Shopify customers/data_request), under its shop."""

    customer_id = UnicodeAttribute()
    received_at = UnicodeAttribute()
    state = JSONAttribute()


class ShopErasureItem(Item, discriminator="shop_erasure"):
    """A shop being erased (``SHOPERASURES`` / shop id): the erasure schedule's work list."""

    requested_at = UnicodeAttribute()
    reason = UnicodeAttribute()
    status = UnicodeAttribute()  # erasing | done
    # Where the erasure has got to: customers:{shard}, sharded, results, withdrawals, shop.
    position = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    deleted = NumberAttribute(default=0)


ALL_MODELS = (ClickItem, RedactedOrderItem, DataRequestItem, ShopErasureItem, Item, ImportJobItem, ReconcileCheckpointItem, WebhookHealthItem, CampaignItem, MembershipItem, ReferralItem, ReferralCountItem, ReviewBonusItem, WithdrawalItem, TemplateOverrideItem, JobCheckpointItem, ShopItem, ShopIndexItem, ApiKeyItem, ProfileItem, LotItem, LedgerItem, OrderItem, EventItem, CodeItem,
              PlatformCustomerItem,
              OutboxItem,
              MailSendItem, MailPrefItem, SuppressionItem, SesMessageItem)


def use_table(table_name: str) -> None:
    """Point every model at ``table_name`` and drop cached connections, so a changed endpoint or
    table (tests, local stack) takes effect. The composition root calls this once per cold start.
    (PynamoDB's botocore client already runs in the ``standard`` retry mode.)"""
    _Meta.table_name = table_name
    for model in ALL_MODELS:
        model._connection = None


class AdminKeyItem(Item, discriminator="admin_key"):
    """A per-shop key to the marketers' workspace; the key itself is never stored, only its hash."""

    label = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    role = UnicodeAttribute(null=True)  # owner | marketer; none: a key from before roles, a marketer's
    created_by = UnicodeAttribute(null=True)
    last_used_at = UnicodeAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)


class AdminSessionItem(Item, discriminator="admin_session"):
    """A signed-in workspace session: the cookie holds a random id, the item its hash."""

    shop_id = UnicodeAttribute(null=True)  # None: the admin token's session, every shop
    key_hash = UnicodeAttribute(null=True)  # the workspace key signed in with: checked on every request
    label = UnicodeAttribute()
    csrf_token = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()


class TemplateRevisionItem(Item, discriminator="template_revision"):
    """One saved version of a shop's template, kept for history, diff and rollback."""

    template = UnicodeAttribute()
    version = NumberAttribute()
    mjml = UnicodeAttribute(null=True)
    texts = JSONAttribute(null=True)
    saved_at = UnicodeAttribute()
    saved_by = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    preheader = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)


class SenderDomainItem(Item, discriminator="sender_domain"):
    """Who sends from a domain (``SENDERDOMAIN#{domain}`` / ``CLAIM``) and what SES said of it last.
    Unverified claims carry ``gsi1pk`` = ``SENDERDOMAINS#UNVERIFIED`` so the refresh job finds them."""

    shop_id = UnicodeAttribute()
    status = UnicodeAttribute()  # verified | pending | failed | not_started
    claimed_at = UnicodeAttribute()
    checked_at = UnicodeAttribute(null=True)
    verified_at = UnicodeAttribute(null=True)
    identity = JSONAttribute(null=True)  # dkim_status, dkim_tokens, mail_from_domain, mail_from_status, region


class ShopSenderDomainItem(Item, discriminator="shop_sender_domain"):
    """A domain in its shop's list (``SHOP#{shop}`` / ``SENDERDOMAIN#{domain}``), written with the claim."""

    domain = UnicodeAttribute()
    claimed_at = UnicodeAttribute()


class HeldMailItem(Item, discriminator="held_mail"):
    """A send-queue message held back (``HELD#{shop}`` / idempotency key) until the sender verifies."""

    message = JSONAttribute()
    reason = UnicodeAttribute()
    held_at = UnicodeAttribute()


class DeferredMailItem(Item, discriminator="deferred_mail"):
    """A marketing e-mail waiting for room under the customer's cap (``DEFER#{shop}#{customer}`` /
    idempotency key); in ``by_due_day`` under ``MAIL#DEFERRED`` by when it may go."""

    message = JSONAttribute()
    priority = NumberAttribute()
    queued_at = UnicodeAttribute()
    valid_until = UnicodeAttribute()
    release_at = UnicodeAttribute()


class TestRecipientItem(Item, discriminator="test_recipient"):
    """An address the shop's marketers may send tests to, once its owner confirmed it."""

    email = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | confirmed
    nonce = UnicodeAttribute()  # in the confirmation link: removing the address voids old links
    requested_at = UnicodeAttribute()
    requested_by = UnicodeAttribute(null=True)
    confirmation_sent_at = UnicodeAttribute(null=True)
    confirmed_at = UnicodeAttribute(null=True)


class SavedSegmentItem(Item, discriminator="saved_segment"):
    """A shop's named segment (``SHOP#{shop}`` / ``SEGMENT#{segment_id}``), reused across campaigns."""

    segment_id = UnicodeAttribute()
    name = UnicodeAttribute()
    rules = JSONAttribute()
    version = VersionAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute(null=True)


ALL_MODELS = ALL_MODELS + (AdminKeyItem, AdminSessionItem, TemplateRevisionItem, SenderDomainItem,
                           ShopSenderDomainItem, HeldMailItem, TestRecipientItem, SavedSegmentItem)


class CounterShardItem(Model):
    """The key of a counter shard (dashboard, campaign results): its ``n_<name>`` attributes are
    open-ended, so writes name them by path (store/counters.py) and reads go through the client."""

    Meta = _Meta
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


ALL_MODELS = ALL_MODELS + (CounterShardItem,)


def over_version(item: M, version: int) -> M:
    """``item``, to be written over the ``version`` a use case read (0: no item yet). PynamoDB's
    ``VersionAttribute`` then adds the condition (the stored version is still that one, or there is
    no versioned item yet) and stores the next version, in ``save``, ``update``, ``delete`` and
    inside transactions alike."""
    if version:
        item.version = version
    else:
        item.attribute_values.pop("version", None)  # None: "not written yet" (the setter takes ints only)
    return item


def stored_version(item: Model) -> int:
    """The version an item was read at (0: written before it was versioned, or not at all)."""
    return int(item.version or 0)
