"""Review bonuses: an approved extended review earns points once per product per
customer; removing it takes them back. The bonus, its per-product record, the
event record and any achievement commit in one transaction."""
from __future__ import annotations

from typing import Mapping

from chalicelib.domain.loyalty import achievements
from chalicelib.domain.loyalty.reviews import APPROVED, decide
from chalicelib.platforms.body import refuse_oversized
from chalicelib.platforms.context import WebhookContext
from chalicelib.platforms.reviews import parse_review
from chalicelib.mail import outbox
from chalicelib.services.loyalty.ledger import with_retries
from chalicelib.services.loyalty.program_effects import achievement_message
from chalicelib.services.shops.lookup import load_shop
from chalicelib.store.loyalty import program_store
from chalicelib.store.loyalty.repository import Change


def receive_review(deps, shop_id: str, headers: Mapping[str, str], raw_body: bytes) -> dict:
    refuse_oversized(raw_body)
    shop = load_shop(deps, shop_id)
    now = deps.clock()
    webhook, review = parse_review(WebhookContext(shop_id, shop.webhook_secrets_at(now), shop.currency,
                                                  shop.currency_exponent), headers, raw_body, now)
    if webhook.test:
        return {"result": "ignored", "reason": "test event"}
    customer_id = shop.customer_id_for(webhook.review.email)
    event_id = f"review:{webhook.event_id}"

    def attempt() -> dict:
        repo = deps.repos.loyalty(shop_id)
        if repo.event_seen(event_id):
            return {"result": "duplicate", "review_id": review.review_id}
        account = repo.load_account(customer_id)
        if account is None or account.redacted:
            return {"result": "ignored", "reason": "no loyalty account for this e-mail", "review_id": review.review_id}
        held = program_store.load_review_bonus(shop_id, customer_id, review.product)
        bonus, outcome = decide(review, held, account, shop.program, now)
        if bonus is None:
            return {"result": "ignored", "reason": outcome, "review_id": review.review_id}
        messages = [achievement_message(shop_id, customer_id, won, now)
                    for won in achievements.award(account, shop.program, now)] if review.status == APPROVED else []
        repo.commit(Change(account=account, event_id=event_id, event_topic="review", outbox=messages,
                           items=[program_store.review_bonus_write(shop_id, customer_id, bonus)]), now)
        outbox.publish(deps, messages)
        return {"result": "applied", "review_id": review.review_id, "outcome": outcome,
                "points": bonus.points if outcome == "rewarded" else -bonus.points,
                "points_balance": account.points_balance}

    return with_retries(attempt)
