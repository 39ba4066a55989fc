"""What the rest of the program adds to a paid order, inside the order's own transaction:
the sign-up bonus, the customer's referral code, the referral the order arrived with
(judged, recorded; the referrer's reward waits for the return window), a membership
period's free-shipping code, the mail of a tier reached, achievements. Each comes back as items, codes and
e-mails for the order's ``Change``."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.domain.loyalty import achievements, membership
from chalicelib.domain.loyalty import referrals
from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.loyalty.codes import REFERRAL, REFERRAL_PREFIX, RewardCode, new_code
from chalicelib.domain.campaigns.links import with_code
from chalicelib.domain.loyalty.rules import Outcome
from chalicelib.domain.platform_events import Order
from chalicelib.domain.mail.outbox import MARKETING, TRANSACTIONAL
from chalicelib.domain.shops.shop import Shop
from chalicelib.store import keys
from chalicelib.store.loyalty import program_store
from chalicelib.store.loyalty.repository import LoyaltyRepository

# A referral code lives as long as a customer could share it.
REFERRAL_CODE_YEARS = 20


@dataclass
class Effects:
    items: list[tuple] = field(default_factory=list)
    codes: list[RewardCode] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    answer: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.items or self.codes or self.messages)


def message(shop_id: str, customer_id: str, template: str, key: str, data: dict, now: datetime,
            category: str = TRANSACTIONAL) -> dict:
    return {"idempotency_key": key, "shop_id": shop_id, "customer_id": customer_id, "template": template,
            "category": category, "campaign_id": None, "created_at": now.isoformat(), "data": data}


def order_effects(shop: Shop, repo: LoyaltyRepository, order: Order, account: Account, outcome: Outcome,
                  first_appearance: bool, was_customer: bool, now: datetime) -> Effects:
    effects = Effects(codes=list(outcome.new_codes))
    rules = shop.program
    welcome = achievements.grant_signup_bonus(account, rules, first_appearance, now)
    if welcome:
        effects.messages.append(message(shop.shop_id, account.customer_id, "welcome",
                                        f"welcome:{account.customer_id}", welcome, now, MARKETING))
    if outcome.newly_paid:
        code = referrals.referral_code_of(order)
        if code:
            _refer(shop, repo, order, account, code, was_customer, now, effects)
        address = referrals.address_key(order.shipping_address)
        if address and address not in account.address_keys:
            account.address_keys = set(sorted(account.address_keys)[-4:]) | {address}
        if account.referral_code is None and rules.referral.enabled:
            effects.codes.append(give_referral_code(shop, account, now))
        if account.is_member(now):
            # What the shop's order page and support see: this customer's plan and its terms.
            plan = membership.plan_of(account, rules)
            effects.answer["membership"] = {
                "member_until": keys.iso(account.member_until), "free_shipping": plan.free_shipping,
                "free_shipping_code": account.member_shipping_code if plan.free_shipping else None,
                "extra_cashback_percent": str(plan.extra_cashback_percent), "plan": membership.plan_terms(plan),
                "extended_by_this_order": order.order_id in account.member_orders}
        if outcome.tier_after and rules.climbs(outcome.tier_before, outcome.tier_after) \
                and shop.sends_flow("tier_upgrade"):
            effects.messages.append(tier_upgrade_message(shop.shop_id, account.customer_id, order.order_id,
                                                         outcome, now))
    effects.messages += [achievement_message(shop.shop_id, account.customer_id, won, now)
                         for won in achievements.award(account, rules, now)]
    return effects


def tier_upgrade_message(shop_id: str, customer_id: str, order_id: str, outcome: Outcome, now: datetime) -> dict:
    """"You reached <tier>": the order names the key, so a retried webhook queues nothing new,
    and a customer who drops and climbs back with a later order hears of it again."""
    return message(shop_id, customer_id, "tier_upgrade", f"tier_upgrade:{customer_id}:{outcome.tier_after}:{order_id}",
                   {"tier": outcome.tier_after, "previous_tier": outcome.tier_before}, now)


def give_referral_code(shop: Shop, account: Account, now: datetime) -> RewardCode:
    """The customer's own shared code: unlimited uses, the friend's first-order discount."""
    code = RewardCode(code=new_code(REFERRAL_PREFIX, groups=2), shop_id=shop.shop_id, kind=REFERRAL,
                      customer_id=account.customer_id, value_minor=0, points=0, created_at=now,
                      expires_at=now + timedelta(days=365 * REFERRAL_CODE_YEARS), starts_at=now,
                      discount_percent=str(shop.program.referral.friend_discount_percent), shared=True, max_uses=None)
    account.referral_code = code.code
    return code


def share_link(shop: Shop, code: str) -> str:
    """A link to share: lands on the shop with the code applied where the platform can
    (Shopify's discount link, WooCommerce's ``coupon_code``) and ``?ref=`` for the order."""
    landing = f"{shop.storefront_url}/?ref={code}"
    return with_code(shop.platform, landing, code) or landing


def _refer(shop: Shop, repo: LoyaltyRepository, order: Order, account: Account, code: str, was_customer: bool,
           now: datetime, effects: Effects) -> None:
    found = repo.load_code(code)
    if found is None or found.kind != REFERRAL or not found.customer_id:
        effects.answer["referral"] = {"code": code, "status": "unknown_code"}
        return
    if program_store.load_referral(shop.shop_id, account.customer_id) is not None:
        effects.answer["referral"] = {"code": code, "status": referrals.ALREADY_REFERRED}
        return
    referrer = repo.load_profile(found.customer_id) if found.customer_id != account.customer_id else None
    month = f"{now.year:04d}-{now.month:02d}"
    count = program_store.load_referral_count(shop.shop_id, found.customer_id, month)
    reason = referrals.judge(referee=account, referee_email=order.customer.email or account.email or "",
                             referee_address=referrals.address_key(order.shipping_address), was_customer=was_customer,
                             referrer=referrer, accepted_this_month=count.n, rules=shop.program)
    referral = referrals.open_referral(referee=account, referrer_id=found.customer_id, code=code,
                                       order_id=order.order_id, reason=reason, paid_at=min(order.paid_at or now, now),
                                       now=now, rules=shop.program, exponent=shop.currency_exponent)
    effects.items.append(program_store.referral_write(shop.shop_id, referral))
    if referral.status == referrals.PENDING:
        effects.items.append(program_store.referral_count_write(shop.shop_id, count))
    effects.answer["referral"] = {"code": code, "status": referral.status, "reason": referral.reason,
                                  "due_on": referral.due_on.isoformat() if referral.due_on else None}


def achievement_message(shop_id: str, customer_id: str, won: dict, now: datetime) -> dict:
    data = {"achievement": won["achievement"], "points": won["points"]}
    if won["achievement"] == "tier":
        data["tier"] = won["tier"]
    else:
        data["threshold"] = won["threshold"]
    return message(shop_id, customer_id, "achievement", f"achievement:{customer_id}:{won['achievement_id']}", data, now)
