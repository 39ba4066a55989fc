"""Key layout of the ``loyalty`` table; docs/data-model.md explains each."""
from __future__ import annotations

import hashlib
from datetime import datetime
from chalicelib.domain.timestamps import iso, parse_iso  # noqa: F401 (keys.iso: the one format)

PROFILE_SK = "P"
LOT_SK_PREFIX = "P#LOT#"  # sorts right after the profile: one Query reads both
LEDGER_SK_PREFIX = "L#"


def shop_pk(shop_id: str) -> str:
    return f"SHOP#{shop_id}"


SHOP_SK = "SHOP"
SHOP_INDEX_PK = "SHOPS"


def api_key_sk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def customer_pk(shop_id: str, customer_id: str) -> str:
    return f"CUST#{shop_id}#{customer_id}"


def lot_sk(expires_at: datetime, lot_id: str) -> str:
    return f"{LOT_SK_PREFIX}{iso(expires_at)}#{lot_id}"


def ledger_sk(created_at: datetime, sequence: int, entry_id: str) -> str:
    return f"{LEDGER_SK_PREFIX}{iso(created_at)}#{sequence:03d}#{entry_id}"


def order_pk(shop_id: str, order_id: str) -> str:
    return f"ORDER#{shop_id}#{order_id}"


ORDER_SK = "ORDER"


def shipment_sk(shipment_id: str) -> str:
    """A shipment's notices, in its order's partition (``order_pk``)."""
    return f"SHIPMENT#{shipment_id}"


def event_pk(shop_id: str, event_id: str) -> str:
    return f"EVENT#{shop_id}#{event_id}"


EVENT_SK = "EVENT"


def code_pk(shop_id: str, code: str) -> str:
    return f"CODE#{shop_id}#{code.upper()}"


CODE_SK = "CODE"


def platform_customer_pk(shop_id: str, platform_customer_id: str) -> str:
    return f"PCID#{shop_id}#{platform_customer_id}"


PLATFORM_CUSTOMER_SK = "PCID"


def lot_expiry_day_pk(shop_id: str, day: str) -> str:
    return f"LOTEXP#{shop_id}#{day}"


def code_expiry_day_pk(shop_id: str, day: str) -> str:
    return f"CODEEXP#{shop_id}#{day}"


def birthday_pk(shop_id: str, month_day: str) -> str:
    return f"BDAY#{shop_id}#{month_day}"


def last_order_day_pk(shop_id: str, day: str) -> str:
    return f"LASTORDER#{shop_id}#{day}"


def tier_review_pk(shop_id: str, day: str) -> str:
    """Profiles whose rolling tier is due a look on ``day`` (index by_due_day)."""
    return f"TIERREVIEW#{shop_id}#{day}"


# -- the rest of the program (docs/program.md) -----------------------------------
MEMBERSHIP_SK = "MEMBERSHIP"  # in the customer's partition
REFERRAL_SK = "REFERRAL"
WITHDRAWAL_SK = "WITHDRAWAL"


def membership_due_pk(shop_id: str, day: str) -> str:
    """Members whose end-of-membership reminder is due on ``day`` (index by_due_day)."""
    return f"MEMBERDUE#{shop_id}#{day}"


def referral_pk(shop_id: str, referee_id: str) -> str:
    return f"REFERRAL#{shop_id}#{referee_id}"


def referral_due_pk(shop_id: str, day: str) -> str:
    """Pending referrals whose return window ends on ``day`` (index by_due_day)."""
    return f"REFERRALDUE#{shop_id}#{day}"


def referral_count_sk(month: str) -> str:
    """Referrals a referrer had accepted in ``month`` (in the referrer's partition): the cap."""
    return f"REFCOUNT#{month}"


def review_sk(product: str) -> str:
    return f"REVIEW#{product}"


def withdrawal_pk(shop_id: str, withdrawal_id: str) -> str:
    return f"WITHDRAWAL#{shop_id}#{withdrawal_id}"


def withdrawals_pk(shop_id: str, status: str) -> str:
    """A shop's withdrawals in one status (index by_due_day), oldest first."""
    return f"WITHDRAWALS#{shop_id}#{status}"


OUTBOX_SHARDS = 8  # spreads one shop's outbox over partitions; the sweeper queries each


def outbox_pk(shop_id: str, shard: int) -> str:
    return f"OUTBOX#{shop_id}#{shard}"


def outbox_shard(idempotency_key: str) -> int:
    return int(hashlib.sha256(idempotency_key.encode()).hexdigest()[:8], 16) % OUTBOX_SHARDS


def outbox_sk(created_at: datetime, idempotency_key: str) -> str:
    return f"{iso(created_at)}#{idempotency_key}"


CUSTOMER_SHARDS = 16  # spreads one shop's customer directory (index by_shop) over partitions


def customer_shard(customer_id: str) -> int:
    return int(hashlib.sha256(customer_id.encode()).hexdigest()[:8], 16) % CUSTOMER_SHARDS


def shop_customers_pk(shop_id: str, shard: int) -> str:
    return f"CUSTOMERS#{shop_id}#{shard}"


CAMPAIGNS_DUE_PK = "CAMPAIGNS#DUE"  # few items: campaigns scheduled or being sent, all shops


def campaign_sk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


RESULTS_SHARDS = 8  # one campaign's counters take writes at sending speed: spread them


def results_pk(shop_id: str, subject: str) -> str:
    """Counters of ``campaign:{id}``, ``flow:{template}`` or ``steps:{flow id}`` (a multi-step
    flow's funnel) (store.results)."""
    kind, _, name = subject.partition(":")
    prefix = {"campaign": "CAMPAIGNSTATS", "flow": "FLOWSTATS", "steps": "FLOWSTEPS"}[kind]
    return f"{prefix}#{shop_id}#{name}"


CLICK_SK = "CLICK"
LAST_CLICK_SK = "LASTCLICK"  # in the customer's partition, read with a paid order
CAMPAIGN_GROUP_SK = "CAMPAIGNGROUP"  # the customer's latest holdout-campaign group, read with a paid order


def click_pk(shop_id: str, send_key: str) -> str:
    return f"CLICK#{shop_id}#{send_key}"


def claim_event_id(reward_id: str, customer_id: str) -> str:
    """The event record that makes a bonus-points claim happen once per customer."""
    return f"claim:{reward_id}:{customer_id}"


# -- personal data (docs/data-model.md, "Personal data") ----------------------------
def customer_sends_pk(shop_id: str, customer_id: str) -> str:
    """A customer's send logs (index by_customer, keys only; by_due_day for older ones): what was
    mailed to them, for their timeline, export and erasure."""
    return f"SENDS#{shop_id}#{customer_id}"


def redacted_order_pk(shop_id: str, order_hash: str) -> str:
    """What stays of an erased order: a keyed hash of its id, so a redelivery cannot bring it back."""
    return f"REDACTED#{shop_id}#{order_hash}"


REDACTED_ORDER_SK = "ORDER"
DATA_REQUEST_SK_PREFIX = "DATAREQ#"  # under SHOP#{shop}


def data_request_sk(request_id: str) -> str:
    return f"{DATA_REQUEST_SK_PREFIX}{request_id}"


SHOP_ERASURES_PK = "SHOPERASURES"  # one row per shop being erased (sk = shop id): the schedule's work list


# -- mail (docs/data-model.md, "Mail") ------------------------------------------
def send_log_pk(shop_id: str, idempotency_key: str) -> str:
    return f"SEND#{shop_id}#{idempotency_key}"


SEND_LOG_SK = "SEND"
MAIL_PREF_SK = "MAILPREF"  # in the customer's partition: pk = customer_pk(shop, customer)


def suppression_pk(shop_id: str, email_hash: str) -> str:
    return f"SUPPRESS#{shop_id}#{email_hash}"


SUPPRESSION_SK = "SUPPRESS"


def ses_message_pk(message_id: str) -> str:
    return f"SESMSG#{message_id}"


SES_MESSAGE_SK = "SESMSG"


def admin_key_sk(key_hash: str) -> str:
    return f"ADMINKEY#{key_hash}"


def admin_session_pk(session_hash: str) -> str:
    return f"ADMINSESSION#{session_hash}"


ADMIN_SESSION_SK = "SESSION"
TEMPLATE_REVISION_SK_PREFIX = "TEMPLATEREV#"


def template_revision_sk(template: str, saved_at: datetime) -> str:
    """Revisions of one template sort by when they were saved (a reset never reuses a key)."""
    return f"{TEMPLATE_REVISION_SK_PREFIX}{template}#{iso(saved_at)}"


DASHBOARD_SHARDS = 8  # every ledger change of a shop adds to its day: spread the writes


def dashboard_pk(shop_id: str, shard: int) -> str:
    return f"DASH#{shop_id}#{shard}"


def dashboard_sk(day: str) -> str:
    return f"DAY#{day}"


# -- sending domains, held mail, test recipients (docs/data-model.md, "Sending as a shop") --------
def sender_domain_pk(domain: str) -> str:
    """The claim of a sending domain: one item per domain, so a second shop's claim fails its condition."""
    return f"SENDERDOMAIN#{domain}"


SENDER_DOMAIN_SK = "CLAIM"
UNVERIFIED_SENDER_DOMAINS_PK = "SENDERDOMAINS#UNVERIFIED"  # index by_due_day: claims still waiting for DNS


def shop_sender_domain_sk(domain: str) -> str:
    """The shop's own list of its domains (in the shop's partition)."""
    return f"SENDERDOMAIN#{domain}"


SHOP_SENDER_DOMAIN_PREFIX = "SENDERDOMAIN#"


DEFERRED_MAIL_DUE_PK = "MAIL#DEFERRED"  # by_due_day: deferred marketing e-mails of all shops, by release time


def deferred_mail_pk(shop_id: str, customer_id: str) -> str:
    """Marketing e-mails of one customer waiting for room under the cap, one item per idempotency key."""
    return f"DEFER#{shop_id}#{customer_id}"


def held_mail_pk(shop_id: str) -> str:
    """Mail waiting for the shop's sender to verify, one item per send idempotency key."""
    return f"HELD#{shop_id}"


def test_recipient_sk(email_hash: str) -> str:
    return f"TESTRCPT#{email_hash}"


TEST_RECIPIENT_PREFIX = "TESTRCPT#"


def test_send_window_pk(shop_id: str, window_start: int) -> str:
    return f"TESTSENDS#{shop_id}#{window_start}"


TEST_SEND_WINDOW_SK = "COUNT"


# -- products (docs/products.md) ---------------------------------------------------------
def products_pk(shop_id: str) -> str:
    """The shop's catalog: ``P#{product}#A|B|C`` items."""
    return f"PRODUCTS#{shop_id}"


def purchases_pk(shop_id: str) -> str:
    """The shop's paid orders' products, one item per order (``purchase_sk``)."""
    return f"PURCHASES#{shop_id}"


def purchase_sk(order_id: str) -> str:
    return f"ORDER#{order_id}"
