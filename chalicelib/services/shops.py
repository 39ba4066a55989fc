"""Shop administration: create/update settings, read them back, API keys."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Optional

from pydantic import ValidationError

from chalicelib import bootstrap
from chalicelib.domain.shop import Shop
from chalicelib.errors import BadRequest, Conflict, NotFound, Unauthorized
from chalicelib.services.shop_settings import (
    ShopSettings,
    currency_exponent,
    platform_api_problem,
    platform_api_secrets,
    public_view,
    shop_from_documents,
)
from chalicelib.services.validation import bad_request_from
from chalicelib.store.shops import ShopChanged, ShopRepository, StoredShop

_SHOP_ID_RULE = "1–64 characters: lower-case letters, digits, '-' and '_'"
_cache: dict[str, tuple[float, Shop]] = {}


def valid_shop_id(shop_id: str) -> bool:
    return 1 <= len(shop_id) <= 64 and all(c.islower() or c.isdigit() or c in "-_" for c in shop_id) \
        and shop_id.isascii()


def put_shop(shop_id: str, document: dict) -> tuple[dict, bool]:
    """Create or update a shop. Returns its public view and whether it was created."""
    if not valid_shop_id(shop_id):
        raise BadRequest(f"shop_id: must be {_SHOP_ID_RULE}", field="shop_id")
    bootstrap.ensure_store()
    repo = ShopRepository()
    stored = repo.get(shop_id)
    incoming = dict(document)
    if stored is not None:
        current_secret = stored.secrets.get("webhook_secret")
        if not incoming.get("webhook_secret"):
            incoming["webhook_secret"] = current_secret
            incoming.setdefault("previous_webhook_secret", stored.secrets.get("previous_webhook_secret"))
        elif incoming["webhook_secret"] != current_secret and "previous_webhook_secret" not in incoming:
            # Rotation: deliveries signed with the old secret keep verifying until the next change.
            incoming["previous_webhook_secret"] = current_secret
    stored_api_secrets = (stored.secrets.get("platform_api") or {}) if stored else {}
    if isinstance(incoming.get("platform_api"), dict) and stored_api_secrets:
        # Credentials not sent again are kept, like the webhook secret.
        incoming["platform_api"] = {**stored_api_secrets, **{k: v for k, v in incoming["platform_api"].items()
                                                              if v is not None}}
    try:
        settings = ShopSettings.model_validate(incoming)
    except ValidationError as error:
        raise bad_request_from(error) from None
    problem = platform_api_problem(settings)
    if problem:
        raise BadRequest(f"{problem[0]}: {problem[1]}", field=problem[0])
    if not settings.webhook_secret:
        raise BadRequest("webhook_secret: required when a shop is created (at least 16 characters)",
                         field="webhook_secret")
    from chalicelib.services import sender_domains

    # The sender must be on a domain this shop registered; an unclaimed one is claimed now.
    sender_domains.ensure_sender_domain(shop_id, settings.sender_email,
                                        previous_sender=stored.config.get("sender_email") if stored else None)
    now = bootstrap.now().isoformat()
    config = public_view(settings)
    config["currency_exponent"] = currency_exponent(settings.currency)
    config["created_at"] = stored.config.get("created_at", now) if stored else now
    config["updated_at"] = now
    shop_secrets = {
        "webhook_secret": settings.webhook_secret,
        "previous_webhook_secret": settings.previous_webhook_secret,
        "customer_key_salt": stored.secrets["customer_key_salt"] if stored else secrets.token_hex(32),
    }
    if settings.platform_api is not None:
        shop_secrets["platform_api"] = platform_api_secrets(settings)
    record = StoredShop(shop_id, config, shop_secrets, stored.version if stored else 0)
    try:
        repo.save(record)
    except ShopChanged:
        raise Conflict("the shop was changed by another request at the same time; read it and try again",
                       field="shop_id") from None
    _cache.pop(shop_id, None)
    if stored is not None and stored.config.get("sender_email") != settings.sender_email:
        try:  # a sender that can send now takes the held mail with it (else the schedule does, later)
            sender_domains.release_held(shop_id)
        except Exception:
            logging.getLogger("loyalty.sender").warning("shop %s: held mail not released now", shop_id, exc_info=True)
    return shop_view(shop_id, config), stored is None


def get_shop_view(shop_id: str) -> dict:
    bootstrap.ensure_store()
    stored = ShopRepository().get(shop_id)
    if stored is None:
        raise NotFound(f"no shop {shop_id!r}", field="shop_id")
    return shop_view(shop_id, stored.config)


def list_shops() -> dict:
    bootstrap.ensure_store()
    return {"shops": [{"shop_id": shop_id, "platform": platform} for shop_id, platform in ShopRepository().list_ids()]}


def shop_view(shop_id: str, config: dict) -> dict:
    return {"shop_id": shop_id, **{k: v for k, v in config.items() if k != "currency_exponent"},
            "webhook_url_path": f"/webhooks/{config['platform']}/{shop_id}"}


def load_shop(shop_id: str) -> Shop:
    """The shop for a request path; cached briefly per Lambda container so a
    webhook usually costs no read for it."""
    cached = _cache.get(shop_id)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    bootstrap.ensure_store()
    stored = ShopRepository().get(shop_id)
    if stored is None:
        raise NotFound(f"no shop {shop_id!r}", field="shop_id")
    shop = shop_from_documents(shop_id, stored.config, stored.secrets, stored.version)
    _cache[shop_id] = (time.monotonic() + bootstrap.settings().shop_cache_seconds, shop)
    return shop


def forget_cached_shops() -> None:
    _cache.clear()


MAX_API_KEY_LABEL = 100


def issue_api_key(shop_id: str, label: Optional[str]) -> dict:
    """A new storefront API key, shown this once; only its hash is stored."""
    if label is not None and (not isinstance(label, str) or len(label) > MAX_API_KEY_LABEL):
        raise BadRequest(f"label: must be text of at most {MAX_API_KEY_LABEL} characters", field="label")
    load_shop(shop_id)
    key = f"lk_{secrets.token_urlsafe(32)}"
    ShopRepository().add_api_key(shop_id, _hash_key(key), label, bootstrap.now().isoformat())
    return {"api_key": key, "label": label, "shop_id": shop_id,
            "note": "store this key now: it is not shown again"}


def authenticate_api_key(shop_id: str, presented: Optional[str]) -> Shop:
    shop = load_shop(shop_id)
    if not presented or not ShopRepository().api_key_exists(shop_id, _hash_key(presented)):
        raise Unauthorized("missing or unknown X-Api-Key for this shop")
    return shop


def check_admin_token(presented_header: Optional[str]) -> None:
    scheme, _, token = (presented_header or "").partition(" ")
    presented = token.strip().encode()
    # Every accepted token is compared (no early exit), so timing tells nothing about which one matched.
    matches = [hmac.compare_digest(presented, expected.encode()) for expected in bootstrap.admin_tokens()]
    if scheme.lower() != "bearer" or not presented or not any(matches):
        raise Unauthorized("missing or wrong admin token (Authorization: Bearer <token>)")


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
