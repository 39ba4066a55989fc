"""Recommendations: the scheduled job that computes them from the shop's own orders, and the
``recommendations`` an e-mail carries (post-purchase, win-back, flow steps), picked when it is
written (domain/products/recommendations.py says how)."""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Optional

from chalicelib.domain.mail.outbox import RECOMMEND_WITH
from chalicelib.domain.products.catalog import OrderedProduct
from chalicelib.domain.products.recommendations import Scored, choose, gaps, recommend
from chalicelib.domain.shops.shop import Shop
from chalicelib.errors import BadRequest
from chalicelib.services.shops.lookup import load_shop

logger = logging.getLogger("loyalty.products")

SHOWN = 3  # products an e-mail shows at most


@dataclass
class RecommendationReport:
    purchases: int = 0
    products: int = 0
    customers: int = 0


def compute_recommendations(deps, shop: Shop, now: datetime) -> RecommendationReport:
    """Every customer's candidates and every product's order facts, from the shop's paid orders
    (those not taken back). Idempotent: a run rewrites what the previous one wrote."""
    store = deps.repos.products(shop.shop_id)
    purchases, lines_of = [], {}
    for purchase, lines in store.purchases():
        purchases.append(purchase)
        lines_of[purchase.order_id] = lines
    found = recommend(purchases)
    ordered = _ordered_products(purchases, lines_of, found.bought_with)
    report = RecommendationReport(purchases=len(purchases))
    report.products = store.save_ordered(ordered, now)
    report.customers = store.save_recommendations(found.per_customer.values(), now)
    return report


def _ordered_products(purchases, lines_of: dict, bought_with: dict) -> list[OrderedProduct]:
    latest: dict[str, tuple[datetime, dict]] = {}
    orders: dict[str, int] = defaultdict(int)
    moments: dict[str, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for purchase in purchases:
        for line in lines_of[purchase.order_id]:
            product = line["product_id"]
            orders[product] += 1
            moments[product][purchase.customer_id].append(purchase.at)
            if product not in latest or purchase.at >= latest[product][0]:
                latest[product] = (purchase.at, line)
    result = []
    for product, (at, line) in sorted(latest.items()):
        quantity = int(line.get("quantity") or 0)
        result.append(OrderedProduct(
            product_id=product, title=line.get("title") or "",
            unit_price_minor=int(line["paid_minor"]) // quantity if quantity and line.get("paid_minor") else None,
            last_ordered_at=at, orders=orders[product], buyers=len(moments[product]),
            repeat_buyers=sum(1 for when in moments[product].values() if gaps(when)),
            bought_with=tuple((s.product_id, s.score) for s in bought_with.get(product, ()))))
    return result


def recommendations_for(deps, shop: Shop, customer_id: str, now: datetime, *, just_bought: Iterable[str] = (),
                        limit: int = SHOWN) -> Optional[list[dict]]:
    """The ``recommendations`` data of an e-mail written at ``now`` (None when nothing qualifies:
    the e-mail then has no block at all). Two reads: the customer's candidates, then the products."""
    store = deps.repos.products(shop.shop_id)
    just = [product for product in dict.fromkeys(just_bought) if product]
    customer = store.recommendations(customer_id)
    if customer is None and not just:
        return None
    wanted = [*just, *(r.product_id for r in customer.reorders)] if customer else list(just)
    wanted += [s.product_id for s in customer.also_bought] if customer else []
    # Eventually consistent (half the read units): a recommendation only suggests. No offer, point
    # value or date of the e-mail comes from it, and a product changed in the last second (a price,
    # out of stock) is shown as it was a moment before, as an e-mail read days later shows it anyway.
    catalog = store.products(wanted, consistent=False)
    near = {product: tuple(Scored(p, s) for p, s in catalog[product].ordered.bought_with)
            for product in just if product in catalog and catalog[product].ordered}
    missing = [s.product_id for scored in near.values() for s in scored if s.product_id not in catalog]
    if missing:
        catalog.update(store.products(missing, consistent=False))
    chosen = choose(customer, catalog, now, just_bought=just, limit=limit, bought_with=near)
    if not chosen:
        return None
    return [{"product_id": choice.product.product_id, "title": choice.product.title, "url": choice.product.url,
             "image_url": choice.product.image_url, "price_minor": choice.product.price_minor, "reason": choice.reason}
            for choice in chosen]


def add_recommendations(deps, messages: list[dict]) -> list[dict]:
    """The messages as they go to the send queue: each that asks (``RECOMMEND_WITH``) gets its
    ``recommendations`` as an e-mail written now shows them (two reads), or none when nothing
    qualifies or the reads fail (the e-mail goes without the block rather than not at all)."""
    for message in messages:
        data = message.get("data")
        if not isinstance(data, dict) or RECOMMEND_WITH not in data:
            continue
        just_bought = data.pop(RECOMMEND_WITH)
        try:
            shop = load_shop(deps, message["shop_id"])
            found = recommendations_for(deps, shop, message["customer_id"], deps.clock(),
                                        just_bought=[p for p in just_bought if isinstance(p, str)])
        except Exception:
            logger.warning("no recommendations for %s: the lookup failed", message.get("idempotency_key"),
                           exc_info=True)
            continue
        if found:
            data["recommendations"] = found
    return messages


def run_for_shop(deps, shop_id: str) -> dict:
    """The job for one shop now (the admin's "compute now"; the daily job does every shop)."""
    now = deps.clock()
    return {"shop_id": shop_id, "computed_at": now.isoformat(),
            **vars(compute_recommendations(deps, load_shop(deps, shop_id), now))}


def customer_recommendations(deps, shop_id: str, email: str) -> dict:
    """A customer's candidates as the last run left them, and what an e-mail written now shows."""
    from chalicelib.domain.email_address import email_problem

    problem = email_problem(email or "")
    if problem:
        raise BadRequest(f"email: not a valid e-mail address ({problem})", field="email")
    shop, now = load_shop(deps, shop_id), deps.clock()
    customer_id = shop.customer_id_for(email)
    found = deps.repos.products(shop_id).recommendations(customer_id)
    return {
        "customer_id": customer_id, "computed": found is not None,
        "reorders": [{"product_id": r.product_id, "last_bought_at": r.last_bought_at.isoformat(),
                      "interval_days": round(r.interval.total_seconds() / 86400, 1), "own_rhythm": r.own_rhythm,
                      "due_at": r.due_at.isoformat()} for r in (found.reorders if found else ())],
        "bought_with": [{"product_id": s.product_id, "score": s.score} for s in (found.also_bought if found else ())],
        "email_shows": recommendations_for(deps, shop, customer_id, now) or [],
    }
