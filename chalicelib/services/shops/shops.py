"""Shop administration: create/update settings, read them back (keys: services.api_keys, admin_auth)."""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Optional

from pydantic import ValidationError

from chalicelib.domain.shops.shop import SWITCHABLE_FLOWS
from chalicelib.domain.shops.webhook_secrets import SecretRing
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.services.shops.shop_settings import (
    ShopSettings,
    currency_exponent,
    platform_api_problem,
    platform_api_secrets,
    program_problem,
    previous_secrets,
    public_view,
    secrets_document,
)
from chalicelib.services.validation import bad_request_from
from chalicelib.store import keys
from chalicelib.store.shops.shops import ShopChanged, StoredShop

_SHOP_ID_RULE = "1–64 characters: lower-case letters, digits, '-' and '_', starting with a letter or digit"


def valid_shop_id(shop_id: str) -> bool:
    return 1 <= len(shop_id) <= 64 and all(c.islower() or c.isdigit() or c in "-_" for c in shop_id) \
        and shop_id.isascii() and (shop_id[0].islower() or shop_id[0].isdigit())


def put_shop(deps, shop_id: str, document: dict) -> tuple[dict, bool]:
    """Create or update a shop. Returns its public view and whether it was created."""
    if not valid_shop_id(shop_id):
        raise BadRequest(f"shop_id: must be {_SHOP_ID_RULE}", field="shop_id")
    repo = deps.repos.shops()
    stored = repo.get(shop_id)
    if stored is not None and stored.config.get("erasing_since"):
        raise Conflict("the shop is being erased; it can be created again once that is done", field="shop_id")
    incoming = dict(document)
    if stored is not None and not incoming.get("webhook_secret"):
        incoming["webhook_secret"] = stored.secrets.get("webhook_secret")  # not sent again: kept
    if stored is not None and "flows_off" not in incoming:
        incoming["flows_off"] = stored.config.get("flows_off") or []  # not sent again: kept (the workspace's switches)
    if stored is not None and "brand" not in incoming and stored.config.get("brand"):
        incoming["brand"] = stored.config["brand"]  # not sent again: kept (the workspace's Brand page saves it)
    stored_api_secrets = (stored.secrets.get("platform_api") or {}) if stored else {}
    if isinstance(incoming.get("platform_api"), dict) and stored_api_secrets:
        # Credentials not sent again are kept, like the webhook secret.
        incoming["platform_api"] = {**stored_api_secrets, **{k: v for k, v in incoming["platform_api"].items()
                                                              if v is not None}}
    try:
        settings = ShopSettings.model_validate(incoming)
    except ValidationError as error:
        raise bad_request_from(error) from None
    problem = platform_api_problem(settings) or program_problem(settings)
    if problem:
        raise BadRequest(f"{problem[0]}: {problem[1]}", field=problem[0])
    if not settings.webhook_secret:
        raise BadRequest("webhook_secret: required when a shop is created (at least 16 characters)",
                         field="webhook_secret")
    from chalicelib.services.shops import sender_domains

    # The sender must be on a domain this shop registered; an unclaimed one is claimed now.
    sender_domains.ensure_sender_domain(deps, shop_id, settings.sender_email,
                                        previous_sender=stored.config.get("sender_email") if stored else None)
    moment = deps.clock()
    now = moment.isoformat()
    config = public_view(settings)
    config["currency_exponent"] = currency_exponent(settings.currency)
    config["created_at"] = stored.config.get("created_at", now) if stored else now
    config["updated_at"] = now
    ring = SecretRing(stored.secrets.get("webhook_secret") or "", previous_secrets(stored.secrets)) if stored \
        else SecretRing("")
    ring = ring.saved(settings.webhook_secret, moment, timedelta(days=settings.previous_secret_grace_days),
                      also_previous=settings.previous_webhook_secret)
    shop_secrets = {
        "webhook_secret": ring.current,
        "previous_webhook_secrets": secrets_document(ring.previous),
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
    deps.caches.shops.pop(shop_id)
    if stored is not None and stored.config.get("sender_email") != settings.sender_email:
        try:  # a sender that can send now takes the held mail with it (else the schedule does, later)
            sender_domains.release_held(deps, shop_id)
        except Exception:
            logging.getLogger("loyalty.sender").warning("shop %s: held mail not released now", shop_id, exc_info=True)
    return shop_view(shop_id, config, shop_secrets, webhook_base=deps.config.webhook_url), stored is None


def retire_previous_webhook_secrets(deps, shop_id: str) -> dict:
    """Stop accepting every replaced webhook secret now, before its grace period ends."""
    repo = deps.repos.shops()
    stored = repo.get(shop_id)
    if stored is None or stored.config.get("erasing_since"):
        raise NotFound(f"no shop {shop_id!r}", field="shop_id")
    shop_secrets = {k: v for k, v in stored.secrets.items() if k != "previous_webhook_secret"}
    shop_secrets["previous_webhook_secrets"] = []
    try:
        repo.save(StoredShop(shop_id, stored.config, shop_secrets, stored.version))
    except ShopChanged:
        raise Conflict("the shop was changed by another request at the same time; try again",
                       field="shop_id") from None
    deps.caches.shops.pop(shop_id)
    return shop_view(shop_id, stored.config, shop_secrets, webhook_base=deps.config.webhook_url)


def switch_flow(deps, shop_id: str, template: str, document: dict) -> dict:
    """Switch one automated e-mail on or off for the shop (``{"on": bool}``): off, none of it is
    sent (the daily jobs queue none, the send path skips any already queued as ``flow_off``)."""
    if template not in SWITCHABLE_FLOWS:
        raise BadRequest(f"template: {template!r} cannot be switched off; these can: {', '.join(SWITCHABLE_FLOWS)}",
                         field="template")
    if set(document) != {"on"} or not isinstance(document["on"], bool):
        raise BadRequest('on: true or false (the only field)', field="on")
    repo = deps.repos.shops()
    stored = repo.get(shop_id)
    if stored is None or stored.config.get("erasing_since"):
        raise NotFound(f"no shop {shop_id!r}", field="shop_id")
    off = set(stored.config.get("flows_off") or ()) - {template}
    if not document["on"]:
        off.add(template)
    config = {**stored.config, "flows_off": [flow for flow in SWITCHABLE_FLOWS if flow in off],
              "updated_at": deps.clock().isoformat()}
    try:
        repo.save(StoredShop(shop_id, config, stored.secrets, stored.version))
    except ShopChanged:
        raise Conflict("the shop was changed by another request at the same time; try again",
                       field="shop_id") from None
    deps.caches.shops.pop(shop_id)
    return {"template": template, "on": document["on"], "flows_off": config["flows_off"]}


def get_shop_view(deps, shop_id: str) -> dict:
    stored = deps.repos.shops().get(shop_id)
    if stored is None or stored.config.get("erasing_since"):
        raise NotFound(f"no shop {shop_id!r}", field="shop_id")
    return shop_view(shop_id, stored.config, stored.secrets, webhook_base=deps.config.webhook_url)


def list_shops(deps) -> dict:
    return {"shops": [{"shop_id": shop_id, "platform": platform} for shop_id, platform in deps.repos.shops().list_ids()]}


def shop_view(shop_id: str, config: dict, shop_secrets: Optional[dict] = None, *,
              webhook_base: Optional[str] = None) -> dict:
    """``webhook_base``: the webhooks' function URL where the stack has one (LOYALTY_WEBHOOK_URL):
    the address the shop's platform is given then, ``webhook_url`` (the API's path stays valid)."""
    path = f"/webhooks/{config['platform']}/{shop_id}"
    view = {"shop_id": shop_id, **{k: v for k, v in config.items() if k != "currency_exponent"},
            "webhook_url_path": path}
    if webhook_base:
        view["webhook_url"] = webhook_base + path
    if shop_secrets is not None:
        # When each replaced secret stops verifying; never the secrets themselves.
        view["previous_secrets"] = [{"retire_at": keys.iso(p.retire_at) if p.retire_at else None}
                                    for p in previous_secrets(shop_secrets)]
    return view


def mark_erasing(deps, shop_id: str, now) -> None:
    """From now on the shop answers as if it did not exist (its erasure is under way)."""
    repo = deps.repos.shops()
    for _ in range(10):
        stored = repo.get(shop_id)
        if stored is None or stored.config.get("erasing_since"):
            break
        stored.config["erasing_since"] = keys.iso(now)
        try:
            repo.save(stored)
            break
        except ShopChanged:
            continue
    deps.caches.shops.pop(shop_id)
