"""Each customer's story on one page: finding them by e-mail prefix or name, and one timeline of
what happened to them (orders, points, codes, adjustments from the ledger; every e-mail with its
status, opens and clicks from the send log; unsubscribes from their mail preferences; tier changes,
from the ledger detail written with the change that moved the tier: Account.refresh_tier)."""
from __future__ import annotations

from typing import Optional

from chalicelib.domain.money import format_minor
from chalicelib.errors import BadRequest, NotFound
from chalicelib.store import keys

SEARCH_LIMIT = 20
SEARCH_MIN_CHARS = 2
SEARCH_MAX_CHARS = 100
# A search reads the shop's customer directory page by page; past this many customers it stops
# and says so (a shop that size needs a search index, not a directory walk per keystroke).
SEARCH_READ_LIMIT = 20_000
TIMELINE_LIMIT = 100


def search_customers(deps, shop, query: Optional[str]) -> dict:
    text = (query or "").strip().casefold()
    if not SEARCH_MIN_CHARS <= len(text) <= SEARCH_MAX_CHARS:
        raise BadRequest(f"q: {SEARCH_MIN_CHARS} to {SEARCH_MAX_CHARS} characters of an e-mail or a name",
                         field="q")
    repo = deps.repos.loyalty(shop.shop_id)
    found, read = [], 0
    for shard in range(keys.CUSTOMER_SHARDS):
        cursor = None
        while read < SEARCH_READ_LIMIT:
            accounts, cursor = repo.customer_page(shard, cursor, 200)
            read += len(accounts)
            found += [a for a in accounts if not a.redacted and _matches(a, text)]
            if cursor is None:
                break
    found.sort(key=lambda a: (a.email or ""))
    return {"customers": [{"email": a.email, "first_name": a.first_name, "last_name": a.last_name,
                           "tier": a.tier_name, "points_balance": a.points_balance, "orders_count": a.orders_count}
                          for a in found[:SEARCH_LIMIT]],
            "more": len(found) > SEARCH_LIMIT, "complete": read < SEARCH_READ_LIMIT, "customers_read": read}


def _matches(account, text: str) -> bool:
    email = (account.email or "").casefold()
    names = [(account.first_name or "").casefold(), (account.last_name or "").casefold()]
    full = " ".join(n for n in names if n)
    return email.startswith(text) or any(n.startswith(text) for n in names if n) or full.startswith(text)


def timeline(deps, shop, email: str) -> dict:
    """Newest first: ledger entries, e-mails and unsubscribes merged by time."""
    customer_id = shop.customer_id_for(email)
    loyalty = deps.repos.loyalty(shop.shop_id)
    profile = loyalty.load_profile(customer_id)
    if profile is None or profile.redacted:
        raise NotFound("no loyalty account for this e-mail in this shop", field="email")
    exponent = shop.currency_exponent
    events = []
    for entry in loyalty.ledger_page(customer_id, TIMELINE_LIMIT, None).entries:
        detail = entry.detail or {}
        if entry.kind != "tier":  # a tier entry moves no points: the tier event below tells it
            events.append({"at": keys.iso(entry.created_at), "type": _ledger_type(entry.kind), "kind": entry.kind,
                           "points": entry.points, "cashback": format_minor(entry.cashback_minor, exponent),
                           "spend": format_minor(entry.spend_minor, exponent), "cause": entry.cause,
                           "order": detail.get("order_name"), "code": detail.get("code"),
                           "reason": detail.get("reason"), "by": detail.get("by"),
                           **_discounts(detail, exponent)})
        if isinstance(detail.get("tier"), dict):  # the change moved the customer's tier
            events.append({"at": keys.iso(entry.created_at), "type": "tier", "tier_from": detail["tier"].get("from"),
                           "tier_to": detail["tier"].get("to"), "cause": entry.cause})
    mail = deps.repos.mail(shop.shop_id)
    for send in mail.customer_sends(customer_id, TIMELINE_LIMIT):
        events.append({"at": keys.iso(send.sent_at or send.created_at), "type": "email", "template": send.template,
                       "category": send.category, "campaign_id": send.campaign_id, "status": send.status,
                       "reason": send.reason, "opens": send.opens, "clicks": send.clicks})
    prefs = mail.load_prefs(customer_id)
    if prefs.unsubscribed_at:
        events.append({"at": keys.iso(prefs.unsubscribed_at), "type": "unsubscribe",
                       "source": prefs.unsubscribe_source})
    if prefs.resubscribed_at:
        events.append({"at": keys.iso(prefs.resubscribed_at), "type": "resubscribe"})
    events.sort(key=lambda e: e["at"], reverse=True)
    return {"email": profile.email, "first_name": profile.first_name, "tier": profile.tier_name,
            "marketing_consent": profile.marketing_consent, "unsubscribed": prefs.unsubscribed,
            "referral_code": profile.referral_code, "referred": profile.referred_by is not None,
            "achievements": sorted(profile.achievements), "events": events[:TIMELINE_LIMIT]}


def _discounts(detail: dict, exponent: int) -> dict:
    """What the order's codes took off it (domain/loyalty/rules.py ``note_code_discounts``), formatted."""
    taken_off = detail.get("code_discounts")
    if not isinstance(taken_off, dict) or not taken_off:
        return {}
    return {"code_discounts": {str(code): format_minor(int(minor), exponent) for code, minor in taken_off.items()}}


def _ledger_type(kind: str) -> str:
    """The ledger's kinds (earn | reverse | redeem | release | expire | adjust | bonus | cashback | tier …)
    grouped as the timeline shows them (a ``tier`` entry moves no points: its tier event is added apart)."""
    return {"earn": "order", "reverse": "order", "cashback": "order", "redeem": "code", "release": "code",
            "code_discount": "order", "adjust": "adjustment"}.get(kind, "points")
