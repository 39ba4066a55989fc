"""Personal data (GDPR): everything stored about a customer as JSON, their data requests,
erasing a customer (customers/redact) and erasing a shop (shop/redact).

Erasing a customer, in an order that is safe to cut short and run again:

1. the orders the shop names are marked erased (a keyed hash of each id, no personal
   data), so a redelivered or reconciled order is ignored from this moment;
2. the profile is emptied of who the customer is and flagged ``redacted`` in one
   conditional write: from here no route returns anything about them, no mail goes out,
   and an ``erase`` entry takes their balance off the shop's outstanding points;
3. every other item is found (their partition, sends, and what those name: orders,
   codes, clicks, SES ids, withdrawals, referral, platform ids, data requests) and
   deleted in batches; each of their orders is marked erased as in 1;
4. the profile is deleted last, only if nobody changed it meanwhile, with the
   webhook's event record. Anything that arrives for the address after that starts
   a fresh account; anything that finds the flagged profile (an erasure cut short)
   finishes the erasure first (``services.ledger``).

Kept on purpose: the shop's suppression list (a hash of the address: a bounced or
complaining address must not be mailed again), event records (topic and time only),
the erased-order marks, and aggregate counters (dashboard, campaign results).
"""
from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal
from typing import Iterable, Optional

from chalicelib.domain.email_address import normalize_email
from chalicelib.domain.platform_events import DataRequestEvent
from chalicelib.domain.shops.shop import Shop
from chalicelib.errors import NotFound
from chalicelib.services.retries import retry_on_conflict
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.shops import shops
from chalicelib.store import keys
from chalicelib.store.mail.mail_store import email_hash
from chalicelib.store.models import Item, MailPrefItem, OrderItem, ProfileItem
from chalicelib.store.privacy.privacy import CustomerItems, PrivacyStore, ProfileChanged, erasure_of, erasure_work
from chalicelib.store.loyalty.repository import Change, ConcurrentChange, LoyaltyRepository

ATTEMPTS = 5
EXPORT_FORMAT = "loyalty-mail.customer-export.v1"


# -- export ---------------------------------------------------------------------------
def export_customer(deps, shop_id: str, email: str) -> dict:
    """``GET /admin/shops/{shop}/customers/{email}/export``: everything stored about the customer."""
    shop = load_shop(deps, shop_id)
    export = customer_export(deps, shop, shop.customer_id_for(email), deps.clock())
    if export is None:
        raise NotFound("no data is stored about this e-mail in this shop", field="email")
    return export


def customer_export(deps, shop: Shop, customer_id: str, now: datetime, order_ids: Iterable[str] = ()) -> Optional[dict]:
    """The export, or None when nothing is stored (or the customer is being erased)."""
    found = deps.repos.privacy(shop.shop_id).customer_items(customer_id, order_ids)
    profile = found.profile
    if profile is not None and profile.redacted:
        return None
    items = [item for item in (*found.partition, *found.sends, *found.linked)
             if _kind(item) not in ("data_request", "mail_ses_message")]
    if not items:
        return None
    export: dict = {"format": EXPORT_FORMAT, "shop_id": shop.shop_id, "customer_id": customer_id,
                    "exported_at": keys.iso(now), "profile": None}
    for item in sorted(items, key=lambda i: (i.pk, i.sk)):
        section = _SECTIONS.get(_kind(item), _kind(item))
        value = _plain(item)
        if section in _SINGLE:
            export[section] = value
        else:
            export.setdefault(section, []).append(value)
    for section in _LISTS:
        export.setdefault(section, [])
    export["consent"] = _consent(profile, next((i for i in found.partition if isinstance(i, MailPrefItem)), None))
    email = profile.email if profile is not None else None
    suppressed = deps.repos.privacy(shop.shop_id).suppression(email_hash(email)) if email else None
    export["suppressed"] = _plain(suppressed) if suppressed else None
    return export


_SECTIONS = {
    "profile": "profile", "lot": "lots", "ledger": "ledger", "mail_pref": "mail_preferences",
    "last_click": "last_click", "membership": "membership", "review_bonus": "reviews",
    "referral_count": "referral_counts", "order": "orders", "code": "codes", "withdrawal": "withdrawals",
    "referral": "referred_by", "platform_customer": "platform_ids", "mail_send": "sends", "click": "clicks",
    "campaign_group": "campaign_group", "purchase": "purchases", "recommendations": "recommendations",
}
_SINGLE = {"profile", "mail_preferences", "last_click", "membership", "referred_by", "campaign_group",
           "recommendations"}
_LISTS = ("lots", "ledger", "orders", "codes", "withdrawals", "reviews", "referral_counts", "platform_ids",
          "sends", "clicks", "purchases")
# Storage details that say nothing about the person.
_INTERNAL = {"pk", "sk", "type", "kind", "ttl", "version", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk",
             "gsi4pk", "gsi4sk", "gsi5pk", "gsi5sk", "claim_id", "claimed_until", "marketing_sends"}


def _kind(item: Item) -> str:
    return Item.kind.get_discriminator(type(item))


def _plain(item: Item) -> dict:
    """An item's stored attributes as JSON, named by what its key says it is."""
    values = {name: _json(value) for name, value in sorted(item.attribute_values.items()) if name not in _INTERNAL}
    name = _key_name(item)
    if name:
        values = {"id": name, **values}
    return values


def _key_name(item: Item) -> Optional[str]:
    prefix, _, rest = item.pk.partition("#")
    if prefix == "CUST":
        return None if item.sk in (keys.PROFILE_SK, keys.MAIL_PREF_SK, keys.LAST_CLICK_SK, keys.MEMBERSHIP_SK,
                                   keys.CAMPAIGN_GROUP_SK) \
            else item.sk
    if prefix == "PURCHASES":  # PURCHASES#{shop} / ORDER#{order}
        return item.sk.partition("#")[2]
    _, _, name = rest.partition("#")  # {shop}#{name}
    return name or None


def _json(value):
    if isinstance(value, (set, frozenset)):
        return sorted(_json(v) for v in value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def _consent(profile: Optional[ProfileItem], prefs: Optional[MailPrefItem]) -> dict:
    """Marketing consent as the shop's platform last stated it, and the customer's own choices on
    our unsubscribe page (with when and how)."""
    return {
        "marketing_consent": profile.marketing_consent if profile else None,
        "stated_by_the_shop_at": profile.facts_updated_at if profile else None,
        "unsubscribed": bool(prefs.unsubscribed) if prefs else False,
        "unsubscribed_at": prefs.unsubscribed_at if prefs else None,
        "unsubscribe_source": prefs.unsubscribe_source if prefs else None,
        "resubscribed_at": prefs.resubscribed_at if prefs else None,
    }


# -- data requests (Shopify customers/data_request) ---------------------------------------
def record_data_request(deps, shop: Shop, event: DataRequestEvent, now: datetime, *, event_id: Optional[str] = None) -> dict:
    """Keep the request so the shop can answer it: the export is made when the shop reads it."""
    repo = deps.repos.loyalty(shop.shop_id)
    customer_id = _customer_ids(shop, repo, event.customer.email, event.customer.platform_customer_id)
    state = {"request_id": event.request_id, "email": normalize_email(event.customer.email)
             if event.customer.email else None,
             "platform_customer_id": event.customer.platform_customer_id,
             "orders_requested": list(event.orders_requested), "customer_ids": customer_id}
    fresh = deps.repos.privacy(shop.shop_id).add_data_request(event.request_id, customer_id[0] if customer_id else "",
                                                        now, state)
    return {"result": "applied" if fresh else "duplicate", "data_request_id": event.request_id,
            "export_path": f"/admin/shops/{shop.shop_id}/data-requests/{event.request_id}"}


def list_data_requests(deps, shop_id: str) -> dict:
    load_shop(deps, shop_id)
    requests = sorted(deps.repos.privacy(shop_id).data_requests(), key=lambda item: item.received_at, reverse=True)
    return {"data_requests": [_request_view(shop_id, item) for item in requests]}


def get_data_request(deps, shop_id: str, request_id: str) -> dict:
    """A data request with the export of everything stored about its customer, made now."""
    shop = load_shop(deps, shop_id)
    item = deps.repos.privacy(shop_id).data_request(request_id)
    if item is None:
        raise NotFound(f"no data request {request_id!r} for this shop", field="request_id")
    now = deps.clock()
    exports = [export for export in (customer_export(deps, shop, customer_id, now, item.state.get("orders_requested") or ())
                                     for customer_id in item.state.get("customer_ids") or ()) if export]
    return {**_request_view(shop_id, item), "exported_at": keys.iso(now), "data_stored": bool(exports),
            "exports": exports}


def _request_view(shop_id: str, item) -> dict:
    state = item.state
    return {"data_request_id": state["request_id"], "received_at": item.received_at, "email": state.get("email"),
            "platform_customer_id": state.get("platform_customer_id"),
            "orders_requested": state.get("orders_requested") or [],
            "export_path": f"/admin/shops/{shop_id}/data-requests/{state['request_id']}"}


def _customer_ids(shop: Shop, repo: LoyaltyRepository, email: Optional[str],
                  platform_customer_id: Optional[str]) -> list[str]:
    """The accounts a request names: by its address and by the platform's customer id (they
    differ when the customer changed their address since)."""
    found = []
    if email and email.strip():
        found.append(shop.customer_id_for(email))
    if platform_customer_id:
        by_id = repo.customer_id_for_platform_id(platform_customer_id)
        if by_id and by_id not in found:
            found.append(by_id)
    return found


# -- erasing a customer (customers/redact) ------------------------------------------------
def redact_customer(deps, shop: Shop, email: Optional[str], platform_customer_id: Optional[str],
                    orders_to_redact: Iterable[str], now: datetime, *, event_id: Optional[str] = None,
                    topic: str = "") -> dict:
    """customers/redact: every account the request names, and the orders it lists."""
    repo = deps.repos.loyalty(shop.shop_id)
    if event_id and repo.event_seen(event_id):
        return {"result": "duplicate"}
    customer_ids = _customer_ids(shop, repo, email, platform_customer_id)
    results = [erase_customer(deps, shop, customer_id, orders_to_redact, now) for customer_id in customer_ids] or \
        [erase_customer(deps, shop, None, orders_to_redact, now)]
    if event_id:
        deps.repos.privacy(shop.shop_id).record_event(event_id, topic, now)
    return {"result": "applied", "customers_erased": sum(r["customer_erased"] for r in results),
            "orders_erased": sorted({o for r in results for o in r["orders_erased"]}),
            "items_deleted": sum(r["items_deleted"] for r in results)}


def erase_customer(deps, shop: Shop, customer_id: Optional[str], orders_to_redact: Iterable[str], now: datetime) -> dict:
    """Erase one customer (None: nobody we know; only the named orders go). Safe to repeat."""
    store = deps.repos.privacy(shop.shop_id)
    named = [str(order_id) for order_id in orders_to_redact]
    store.mark_orders_redacted([shop.redacted_order_hash(o) for o in named], now)
    if customer_id is None:
        found = store.customer_items_without_customer(named)
        deleted = store.delete(found.keys())
        return {"customer_erased": False, "orders_erased": _order_ids(found), "items_deleted": deleted}
    repo = deps.repos.loyalty(shop.shop_id)

    def attempt() -> dict:
        account = repo.load_profile(customer_id)
        if account is not None and not account.redacted:
            account.forfeit_for_erasure(now)
            repo.commit(Change(account=account), now)
        found = store.customer_items(customer_id, named)
        orders = _order_ids(found)
        store.mark_orders_redacted([shop.redacted_order_hash(o) for o in orders], now)
        profile = found.profile
        profile_key = (profile.pk, profile.sk) if profile is not None else None
        deleted = store.delete(k for k in found.keys() if k != profile_key)
        if profile is None:
            return {"customer_erased": account is not None, "orders_erased": orders, "items_deleted": deleted}
        # A writer getting in between makes this fail: what it wrote is found and erased on the next pass.
        store.delete_profile(customer_id, int(profile.version), None, "", now)
        return {"customer_erased": True, "orders_erased": orders, "items_deleted": deleted + 1}

    return retry_on_conflict(attempt, attempts=ATTEMPTS, conflicts=(ConcurrentChange, ProfileChanged),
                             busy="the customer kept changing while being erased; please retry")


def _order_ids(found: CustomerItems) -> list[str]:
    return sorted(item.pk.split("#", 2)[2] for item in found.linked if isinstance(item, OrderItem))


# -- erasing a shop (shop/redact, DELETE /admin/shops/{shop}) -----------------------------
PAGE = 100
INLINE_SECONDS = 3.0  # a webhook answers within Shopify's 5 s; the schedule does the rest


def start_shop_erasure(deps, shop_id: str, now: datetime, *, reason: str) -> dict:
    """Stop serving the shop at once and erase what it stored: as much as fits now, the rest
    on the erasure schedule (every 5 minutes), in batches, never a Scan."""
    from chalicelib.store.models import ShopErasureItem

    if erasure_of(shop_id) is None:
        ShopErasureItem(keys.SHOP_ERASURES_PK, shop_id, requested_at=keys.iso(now), reason=reason,
                        status="erasing").save(condition=ShopErasureItem.pk.does_not_exist())
    shops.mark_erasing(deps, shop_id, now)
    progress = erase_shop_step(deps, shop_id, now, deadline=time.monotonic() + INLINE_SECONDS)
    return {"result": "applied", "shop_id": shop_id, "erasure": progress}


def delete_shop(deps, shop_id: str) -> tuple[int, dict]:
    """``DELETE /admin/shops/{shop}``: erase the shop and everything it stored."""
    load_shop(deps, shop_id)  # 404 for a shop that does not exist
    answer = start_shop_erasure(deps, shop_id, deps.clock(), reason="admin")
    return (200 if answer["erasure"]["status"] == "done" else 202), answer


def erasure_status(shop_id: str) -> dict:
    job = erasure_of(shop_id)
    if job is None:
        raise NotFound(f"no erasure of shop {shop_id!r}", field="shop_id")
    return {"shop_id": shop_id, "status": job.status, "requested_at": job.requested_at,
            "finished_at": job.finished_at, "items_deleted": int(job.deleted or 0)}


def run_shop_erasures(deps, now: Optional[datetime] = None, seconds: float = 600.0) -> dict:
    """The schedule: continue every unfinished shop erasure until the time is used."""
    now = now or deps.clock()
    deadline = time.monotonic() + seconds
    done = {}
    for job in erasure_work():
        if time.monotonic() >= deadline:
            break
        done[job.sk] = erase_shop_step(deps, job.sk, now, deadline=deadline)["status"]
    return {"shops": done}


def erase_shop_step(deps, shop_id: str, now: datetime, *, deadline: float) -> dict:
    """Delete the shop's items until ``deadline``, one phase after the other: its customers
    (shard by shard of the directory, each with what they name), its sharded partitions
    (outbox, dashboard), campaign and flow results, withdrawals, and its own partition last
    (the salt, the campaigns and the secrets go with it). The phase reached is saved, every
    pass makes progress (at least one page) and finds only what is left, so a run cut short
    just continues."""
    store = deps.repos.privacy(shop_id)
    job = erasure_of(shop_id)
    if job is None or job.status == "done":
        return {"status": "done", "items_deleted": 0}
    position = job.position or "customers:0"
    deleted = 0
    first = True
    while first or time.monotonic() < deadline:
        first = False
        phase, _, shard = position.partition(":")
        if phase == "customers":
            customer_ids = store.directory_page(int(shard), PAGE)
            for customer_id in customer_ids:
                deleted += _erase_customer_of_erased_shop(store, shop_id, customer_id)
            if not customer_ids:
                position = f"customers:{int(shard) + 1}" if int(shard) + 1 < keys.CUSTOMER_SHARDS else "sharded"
        elif phase == "sender_domains":  # before the shop's partition, which lists them
            from chalicelib.services.shops import sender_domains

            deleted += sender_domains.release_domains_of_erased_shop(deps, shop_id)
            position = _NEXT_PHASE[phase]
        elif phase in _SHOP_PHASES:
            doomed = _SHOP_PHASES[phase](store, shop_id)
            deleted += store.delete(doomed)
            if not doomed:
                position = _NEXT_PHASE[phase]
        else:  # "shop": the last items
            deleted += store.delete([(keys.shop_pk(shop_id), keys.SHOP_SK), (keys.SHOP_INDEX_PK, shop_id)])
            deps.caches.shops.clear()
            _save_progress(shop_id, deleted, position, now, done=True)
            return {"status": "done", "items_deleted": deleted}
    _save_progress(shop_id, deleted, position, now, done=False)
    return {"status": "erasing", "position": position, "items_deleted": deleted}


def _erase_customer_of_erased_shop(store: PrivacyStore, shop_id: str, customer_id: str) -> int:
    found = store.customer_items(customer_id, whole_shop=True)
    profile = found.profile
    deleted = 0
    if profile is not None and profile.email:
        deleted += store.delete([(keys.suppression_pk(shop_id, email_hash(profile.email)), keys.SUPPRESSION_SK)])
    return deleted + store.delete(found.keys())


def _campaign_and_flow_results(store: PrivacyStore, shop_id: str) -> list:
    from chalicelib.mail.rendering import TEMPLATES
    from chalicelib.store.models import CampaignItem

    campaigns = [item.sk.partition("#")[2] for item in Item.query(keys.shop_pk(shop_id),
                                                                   Item.sk.startswith("CAMPAIGN#"))
                 if isinstance(item, CampaignItem)]
    return store.results_keys([f"campaign:{c}" for c in campaigns] + [f"flow:{t}" for t in TEMPLATES], PAGE)


def _shop_partition(store: PrivacyStore, shop_id: str) -> list:
    return [k for k in store.shop_partition_keys(PAGE) if k != (keys.shop_pk(shop_id), keys.SHOP_SK)]


_SHOP_PHASES = {
    "sharded": lambda store, shop_id: store.sharded_keys(PAGE),
    "results": _campaign_and_flow_results,
    "withdrawals": lambda store, shop_id: store.withdrawal_keys(PAGE),
    "partition": _shop_partition,
}
_NEXT_PHASE = {"sharded": "results", "results": "withdrawals", "withdrawals": "sender_domains",
               "sender_domains": "partition", "partition": "shop"}


def _save_progress(shop_id: str, deleted: int, position: str, now: datetime, *, done: bool) -> None:
    from chalicelib.store.models import ShopErasureItem

    actions = [ShopErasureItem.deleted.add(deleted), ShopErasureItem.position.set(position)]
    if done:
        actions += [ShopErasureItem.status.set("done"), ShopErasureItem.finished_at.set(keys.iso(now))]
    ShopErasureItem(keys.SHOP_ERASURES_PK, shop_id).update(actions=actions)
