"""Use cases that move a customer's loyalty state: orders, refunds, deletions,
customer facts and erasure. Each decides with the domain rules and commits the
whole effect in one conditional transaction; a concurrent writer makes the
commit fail, and the decision is made again on fresh state."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Callable, Optional

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.loyalty.achievements import grant_signup_bonus
from chalicelib.domain.loyalty.codes import DISCOUNT_COST_KINDS, REFERRAL, looks_like_ours
from chalicelib.domain.loyalty.referrals import referral_code_of
from chalicelib.domain.campaigns.lift import CampaignGroup, counts_an_order, order_increments
from chalicelib.domain.campaigns.links import Click, attributed_click, campaign_subject
from chalicelib.domain.loyalty.rules import (Outcome, Program, apply_deletion, apply_order, apply_refund,
                                             note_code_discounts, note_time_zone, update_facts)
from chalicelib.domain.loyalty.order_record import CANCELLED, OPEN, PAID, OrderRecord
from chalicelib.domain.platform_events import (
    CheckoutEvent,
    CustomerEvent,
    CustomerFacts,
    DataRequestEvent,
    discount_by_code,
    Delivery,
    IgnoredEvent,
    OrderDeletedEvent,
    OrderEvent,
    ProductEvent,
    RedactEvent,
    RefundEvent,
    ShipmentEvent,
    ShopRedactEvent,
)
from chalicelib.domain.mail.outbox import MARKETING, RECOMMEND_WITH, post_purchase_message
from chalicelib.domain.shops.shop import Shop
from chalicelib.mail import outbox
from chalicelib.services.loyalty.program_effects import message, order_effects
from chalicelib.services.products.purchases import purchase_items
from chalicelib.services.products.recommendations import add_recommendations
from chalicelib.services.retries import retry_on_conflict
from chalicelib.store.loyalty.repository import Change, ConcurrentChange, LoyaltyRepository
from chalicelib.store.campaigns.groups import counted_order
from chalicelib.store.campaigns.results import counter_update



def apply_delivery(deps, shop: Shop, delivery: Delivery, now: datetime) -> dict:
    event = delivery.event
    if isinstance(event, IgnoredEvent):
        return {"result": "ignored", "reason": event.reason}
    if isinstance(event, (ShipmentEvent, CheckoutEvent, ProductEvent)):
        # Shipments move no points: services/orders/shipments.py owes their e-mails.
        return {"result": "ignored", "reason": "shipments, checkouts and products change no loyalty state"}
    handlers: dict[type, Callable[[], dict]] = {
        OrderEvent: lambda: _apply_order_event(deps, shop, event, delivery, now),
        RefundEvent: lambda: _apply_refund_event(deps, shop, event, delivery, now),
        OrderDeletedEvent: lambda: _apply_deleted_event(deps, shop, event, delivery, now),
        CustomerEvent: lambda: _apply_customer_facts(deps, shop, event.customer, delivery, now),
        RedactEvent: lambda: _redact(deps, shop, event, delivery, now),
        DataRequestEvent: lambda: _data_request(deps, shop, event, delivery, now),
        ShopRedactEvent: lambda: _erase_shop(deps, shop, delivery, now),
    }
    return with_retries(handlers[type(event)])


def with_retries(attempt: Callable[[], dict]) -> dict:
    """Another delivery for the same customer or order may commit first: decide again."""
    return retry_on_conflict(attempt)


def program_of(shop: Shop) -> Program:
    return Program(shop.program, shop.currency_exponent, shop.timezone)


def _customer_id(shop: Shop, repo: LoyaltyRepository, facts: Optional[CustomerFacts]) -> Optional[str]:
    if facts is None:
        return None
    if facts.email and facts.email.strip():
        return shop.customer_id_for(facts.email)
    if facts.platform_customer_id:
        return repo.customer_id_for_platform_id(facts.platform_customer_id)
    return None


def _apply_order_event(deps, shop: Shop, event: OrderEvent, delivery: Delivery, now: datetime) -> dict:
    return apply_order_update(deps, shop, event.order, now, event_id=delivery.event_id, topic=delivery.topic)[0]


def apply_order_update(deps, shop: Shop, order, now: datetime, *, event_id: Optional[str] = None, topic: str = "",
                       notify: bool = True, program: Optional[Program] = None) -> tuple[dict, Optional[Outcome]]:
    """An order as the platform states it now (webhook, import, reconciliation): the one
    idempotent path. ``notify`` False writes no post-purchase e-mail (imported history);
    ``program`` overrides the shop's rules (an import that sets spend and tiers only).
    Returns the answer and what changed (None when nothing did)."""
    if order.currency.upper() != shop.currency:
        # Counted on the shop's money only: a payload in another currency without the rate to the
        # shop's (docs/data-model.md, "WooCommerce money") earns nothing, and webhook health shows it.
        return {"result": "ignored", "skipped": "currency", "order_id": order.order_id,
                "reason": f"order currency {order.currency} is not the shop's {shop.currency}, and the order "
                          "carries no exchange rate to it"}, None
    repo = deps.repos.loyalty(shop.shop_id)
    customer_id = _customer_id(shop, repo, order.customer)
    # A referral code is not used up by the orders that carry it: the referral record is its effect.
    our_codes = [code.upper() for code in order.discount_codes
                 if looks_like_ours(code) and not code.upper().startswith("REF-")]
    # The order's codes, the last click and the campaign group count only towards an order paid by
    # this event, which only a paid, not cancelled order can be (domain/loyalty/rules.py apply_order):
    # other events leave them out of the read (2 read units each, found or not).
    may_pay = order.paid and not order.cancelled
    loaded = repo.load_for_order(order.order_id, customer_id, our_codes if may_pay else [], event_id=event_id,
                                 redacted_hash=shop.redacted_order_hash(order.order_id), attribution=may_pay)
    read_for = customer_id
    if loaded.event_seen:
        return {"result": "duplicate", "order_id": order.order_id}, None
    if loaded.order_redacted:
        return {"result": "ignored", "reason": "the order was erased at the customer's request"}, None
    record = loaded.order or OrderRecord(shop.shop_id, order.order_id)
    account = loaded.account
    if record.customer_id and record.customer_id != customer_id:
        # The order stays with the customer it earned for, even if its e-mail changed.
        customer_id = record.customer_id
        account = repo.load_account(customer_id)
    _finish_erasure_first(deps, shop, account, now)
    if customer_id is None:
        return {"result": "ignored", "reason": "the order names no customer e-mail", "order_id": order.order_id}, None
    if account is None:
        account = Account(shop.shop_id, customer_id, created_at=now, lots=[])
    elif account.lots is None and _may_reverse(order, record):
        if _own_lot_covers_reversals(order, record, account):
            account.lots = []  # the lots this change can touch: the order's own, credited first
        else:
            account = repo.load_account(customer_id)

    was_paid, was_taken_back = record.status == PAID, _taken_back(record)
    first_appearance, was_customer = account.is_new or account.orders_count == 0, account.orders_count > 0
    outcome = apply_order(order, record, account, program or program_of(shop), now)
    outcome.facts_changed |= note_time_zone(account, order.place, shop.timezone)
    effects = order_effects(shop, repo, order, account, outcome, first_appearance, was_customer, now)
    consumed, counts, group_items = [], Counter(), []
    if record.status == PAID and not was_paid:
        consumed = _use_codes(order, record, loaded.codes, now, counts)
        note_code_discounts(account, order.order_id, reward_discounts(order, consumed), record.paid_at or now, now)
        if loaded.last_click and customer_id == read_for:  # the click read is this customer's
            _attribute(shop, order, record, account, loaded.last_click, counts)
        if loaded.campaign_group and customer_id == read_for:
            group_items = _count_for_holdout(shop, order, record, loaded.campaign_group, counts)
    # One update per results item: a transaction may touch an item only once.
    counters = [counter_update(shop.shop_id, subject, {name: n for (s, name), n in counts.items() if s == subject},
                               order.order_id) for subject in sorted({subject for subject, _ in counts})]
    if not outcome.anything_changed and not consumed and not effects.changed:
        return {"result": "duplicate", "order_id": order.order_id}, None
    messages = ([with_recommendations(post_purchase_message(shop.shop_id, customer_id, order, outcome, now), order)]
                if outcome.newly_paid and notify else [])
    messages += effects.messages if notify else []  # imported history mails nobody
    account_changed = outcome.ledger_changed or outcome.facts_changed or account.is_new or effects.changed
    repo.commit(Change(account=account if account_changed else None,
                       order=record, event_id=event_id, event_topic=topic,
                       codes=consumed + effects.codes, outbox=messages, counters=counters,
                       items=effects.items + group_items
                       + purchase_items(deps, shop.shop_id, order, record, was_paid, was_taken_back)), now)
    outbox.publish(deps, messages, prepare=lambda batch: add_recommendations(deps, batch))
    extra = {"consumed_codes": [c.code for c in consumed], **effects.answer}
    if record.refused_codes:
        extra["refused_codes"] = record.refused_codes
    if record.attribution:
        extra["attributed_to"] = record.attribution["subject"]
    return _applied(order.order_id, account, outcome, **extra), outcome


def _taken_back(record: OrderRecord) -> bool:
    return record.status == CANCELLED or (record.status == PAID and record.fully_refunded)


def with_recommendations(message: dict, order) -> dict:
    """The post-purchase e-mail asking for what goes with the order (never a product just bought
    unless it is consumable): looked up on its way to the send queue, after the commit
    (``add_recommendations``), so the webhook itself reads nothing more."""
    message["data"][RECOMMEND_WITH] = [line.product_id for line in order.lines if line.product_id]
    return message


def order_revenue_minor(order) -> int:
    """What the customer paid for the order: its total, or its lines and shipping."""
    return order.total_minor or sum(max(line.paid_minor, 0) for line in order.lines) + order.shipping_minor


def _use_codes(order, record: OrderRecord, codes, now: datetime, counts: Counter) -> list:
    """Consume the order's usable codes (each once); count redemptions of campaign or flow codes."""
    consumed = []
    total = order_revenue_minor(order)
    for code in codes:
        refusal = code.consume(order.order_id, now, total, order.lines)
        if refusal:
            record.refused_codes[code.code] = refusal
            continue
        record.consumed_codes.append(code.code)
        consumed.append(code)
        if code.subject:
            counts[(code.subject, "codes_redeemed")] += 1
    return consumed


def reward_discounts(order, consumed) -> dict[str, int]:
    """The money the program's codes took off a newly paid order (code → minor units, as the platform
    reports it): the codes it used up whose discount is a reward cost (codes.DISCOUNT_COST_KINDS), and
    the referral code it arrived with (a shared code, never used up: the friend's first-order discount)."""
    taken_off = discount_by_code(order)
    kinds = {code.code.upper(): code.kind for code in consumed}
    referral = referral_code_of(order)
    if referral:
        kinds.setdefault(referral, REFERRAL)
    return {code: taken_off[code] for code, kind in sorted(kinds.items())
            if kind in DISCOUNT_COST_KINDS and taken_off.get(code, 0) > 0}


def _attribute(shop: Shop, order, record: OrderRecord, account: Account, last_click: Click, counts: Counter) -> None:
    """Owe the newly paid order to the customer's last click, if it is recent enough; its
    order and revenue are counted in the same transaction (exactly once), and so is the
    customer's first conversion for that campaign or flow (the conversion rate counts people)."""
    click = attributed_click(last_click, record.paid_at, shop.attribution_days)
    if click is None:
        return
    revenue = order_revenue_minor(order)
    record.attribution = {"subject": click.subject, "send_key": click.send_key,
                          "clicked_at": click.clicked_at.isoformat(), "revenue_minor": revenue}
    counts[(click.subject, "orders")] += 1
    counts[(click.subject, "revenue_minor")] += revenue
    if account.mark_converted(click.subject):
        counts[(click.subject, "converters")] += 1


def _count_for_holdout(shop: Shop, order, record: OrderRecord, group: CampaignGroup, counts: Counter) -> list:
    """Count a newly paid order towards the customer's group (sent or holdout) of the latest campaign
    with a holdout, if paid in its attribution window, whatever was clicked: the holdout lift compares
    the groups' orders (domain/campaigns/lift.py). The group item is written in the same transaction,
    conditioned on its order count, so each order is counted once."""
    if record.paid_at is None or not counts_an_order(group.assigned_at, record.paid_at, shop.attribution_days):
        return []
    revenue = order_revenue_minor(order)
    subject = campaign_subject(group.campaign_id)
    for name, amount in order_increments(group.group, group.orders, group.revenue_minor, revenue).items():
        counts[(subject, name)] += amount
    if group.variant is not None:  # an A/B test's conversions, per variant
        for name, amount in order_increments(f"variant_{group.variant}", group.orders, group.revenue_minor,
                                             revenue).items():
            counts[(subject, name)] += amount
    return [counted_order(shop.shop_id, group, revenue)]


def _own_lot_covers_reversals(order, record: OrderRecord, account: Account) -> bool:
    """An order paid in this very change, by a customer without debt, has its whole lot to take
    its own refunds from (a refund never takes back more than its order earned, and reversals
    take from the order's own lot first): the customer's other lots need not be read."""
    return (record.status == OPEN and order.paid and not order.cancelled and account.points_debt == 0
            and not record.pending_refunds)


def _may_reverse(order, record: OrderRecord) -> bool:
    """Whether this order event could take points back (and so needs the lots)."""
    if order.cancelled or order.fully_refunded or record.pending_refunds:
        return True
    return any(not record.knows_refund(refund.refund_id) for refund in order.refunds)


def _apply_refund_event(deps, shop: Shop, event: RefundEvent, delivery: Delivery, now: datetime) -> dict:
    refund = event.refund
    repo = deps.repos.loyalty(shop.shop_id)
    record = repo.load_order(refund.order_id)
    if record is None and repo.order_redacted(shop.redacted_order_hash(refund.order_id)):
        return {"result": "ignored", "reason": "the order was erased at the customer's request"}
    record = record or OrderRecord(shop.shop_id, refund.order_id)
    if record.knows_refund(refund.refund_id):
        return {"result": "duplicate", "order_id": refund.order_id, "refund_id": refund.refund_id}
    account = repo.load_account(record.customer_id) if record.status == PAID and record.customer_id else None
    was_paid, was_taken_back = record.status == PAID, _taken_back(record)
    outcome = apply_refund(refund, record, account, program_of(shop), now)
    repo.commit(Change(account=account if outcome.ledger_changed else None, order=record,
                       event_id=delivery.event_id, event_topic=delivery.topic,
                       items=purchase_items(deps, shop.shop_id, None, record, was_paid, was_taken_back)), now)
    result = _applied(refund.order_id, account, outcome, refund_id=refund.refund_id)
    if record.status != PAID:
        result["pending"] = "the order is not paid yet: the refund is applied when it is"
    return result


def _apply_deleted_event(deps, shop: Shop, event: OrderDeletedEvent, delivery: Delivery, now: datetime) -> dict:
    repo = deps.repos.loyalty(shop.shop_id)
    record = repo.load_order(event.order_id)
    if record is None:
        return {"result": "ignored", "reason": "unknown order", "order_id": event.order_id}
    if record.status == "cancelled":
        return {"result": "duplicate", "order_id": event.order_id}
    account = repo.load_account(record.customer_id) if record.status == PAID and record.customer_id else None
    was_paid, was_taken_back = record.status == PAID, _taken_back(record)
    outcome = apply_deletion(record, account, program_of(shop), now)
    repo.commit(Change(account=account if outcome.ledger_changed else None, order=record,
                       event_id=delivery.event_id, event_topic=delivery.topic,
                       items=purchase_items(deps, shop.shop_id, None, record, was_paid, was_taken_back)), now)
    return _applied(event.order_id, account, outcome)


def _apply_customer_facts(deps, shop: Shop, facts: CustomerFacts, delivery: Delivery, now: datetime) -> dict:
    return apply_customer_facts(deps, shop, facts, now, event_id=delivery.event_id, topic=delivery.topic)


def apply_customer_facts(deps, shop: Shop, facts: CustomerFacts, now: datetime, *, event_id: Optional[str] = None,
                         topic: str = "", notify: bool = True) -> dict:
    """What a shop says about a customer. ``notify`` False (imported history): the customer
    is not joining now, so no sign-up bonus and no welcome e-mail."""
    repo = deps.repos.loyalty(shop.shop_id)
    customer_id = _customer_id(shop, repo, facts)
    if customer_id is None:
        return {"result": "ignored", "reason": "the customer has no e-mail"}
    account = repo.load_profile(customer_id)
    _finish_erasure_first(deps, shop, account, now)
    account = account or Account(shop.shop_id, customer_id, created_at=now, lots=[])
    first_appearance = account.is_new or account.orders_count == 0
    if not update_facts(account, facts) and not account.is_new:
        return {"result": "duplicate", "customer_id": customer_id}
    welcome = grant_signup_bonus(account, shop.program, first_appearance, now) if notify else None
    messages = [message(shop.shop_id, customer_id, "welcome", f"welcome:{customer_id}", welcome, now, MARKETING)] \
        if welcome else []
    repo.commit(Change(account=account, event_id=event_id, event_topic=topic, outbox=messages), now)
    outbox.publish(deps, messages)
    result = {"result": "applied", "customer_id": customer_id}
    if welcome:
        result["signup_bonus_points"] = welcome["bonus_points"]
    return result


def apply_opening_balance(deps, shop: Shop, email: str, points: int, expires_at: datetime, now: datetime) -> dict:
    """Points a customer brings from the shop's previous program: credited once per
    customer, ever (a kept marker record, not a TTL'd event record, says it was)."""
    repo = deps.repos.loyalty(shop.shop_id)
    customer_id = shop.customer_id_for(email)
    marker = f"opening-balance:{customer_id}"
    account, seen = repo.load_profile_and_marker(customer_id, marker)
    if seen:
        return {"result": "duplicate", "customer_id": customer_id}
    account = account or Account(shop.shop_id, customer_id, created_at=now, lots=[])
    update_facts(account, CustomerFacts(email=email))
    account.earn(points, lot_id=f"opening-{customer_id}", cause="opening-balance", now=now, expires_at=expires_at,
                 kind="adjust", detail={"reason": "opening balance from the previous program"})
    account.refresh_tier(shop.program, now, shop.currency_exponent)
    repo.commit(Change(account=account, event_id=marker, event_topic="opening-balance", keep_event=True), now)
    return {"result": "applied", "customer_id": customer_id, "points": points,
            "points_balance": account.points_balance}


def _redact(deps, shop: Shop, event: RedactEvent, delivery: Delivery, now: datetime) -> dict:
    from chalicelib.services.privacy import privacy

    return privacy.redact_customer(deps, shop, event.customer.email, event.customer.platform_customer_id,
                                   event.orders_to_redact, now, event_id=delivery.event_id, topic=delivery.topic)


def _data_request(deps, shop: Shop, event: DataRequestEvent, delivery: Delivery, now: datetime) -> dict:
    from chalicelib.services.privacy import privacy

    return privacy.record_data_request(deps, shop, event, now, event_id=delivery.event_id)


def _erase_shop(deps, shop: Shop, delivery: Delivery, now: datetime) -> dict:
    from chalicelib.services.privacy import privacy

    return privacy.start_shop_erasure(deps, shop.shop_id, now, reason=delivery.topic or "shop/redact")


def _finish_erasure_first(deps, shop: Shop, account: Optional[Account], now: datetime) -> None:
    """A redacted profile is an erasure under way (or one cut short): finish it, then decide
    again, so what arrives next for the address starts a fresh account."""
    if account is not None and account.redacted:
        from chalicelib.services.privacy import privacy

        privacy.erase_customer(deps, shop, account.customer_id, (), now)
        raise ConcurrentChange(f"customer {account.customer_id} was being erased")


def _applied(order_id: str, account: Optional[Account], outcome: Outcome, **extra) -> dict:
    result = {"result": "applied", "order_id": order_id, **extra,
              "points_earned": outcome.points_earned, "points_reversed": outcome.points_reversed}
    if account is not None:
        result.update(customer_id=account.customer_id, points_balance=account.points_balance,
                      tier=account.tier_name)
    return result
