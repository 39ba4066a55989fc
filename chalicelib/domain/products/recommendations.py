"""What to show a customer, from the shop's own orders.

*Replenishment* ("time to reorder"): a product a customer bought comes round again at its typical
repurchase interval: the median gap between that customer's purchases of it, else (bought once)
the median gap of every customer who bought it again, shop-wide. A product nobody ever reordered
has no interval: it is not a replenishment product.

*Co-purchase* ("bought with what you bought"): products that appear in the same orders as the
customer's, scored by cosine similarity over orders (together / sqrt(orders of a × orders of b)),
so a best-seller that is in every basket does not crowd out what really goes together.

``choose`` makes the final pick when an e-mail is written: never out of stock, never without a
link, never what was just bought unless it is consumable, never twice.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Optional

from chalicelib.domain.products.catalog import Product

# Two orders less than a day apart are one shopping trip, not a repurchase.
MIN_GAP = timedelta(days=1)
# Products of one order paired for co-purchase, at most (a wholesale order says little about taste).
MAX_PAIRED_PER_ORDER = 40
# Orders two products must share before one is "bought with" the other.
MIN_TOGETHER = 2
# Kept per customer and per product (the e-mail shows fewer).
KEPT = 10
# A reorder is shown from this long before it is due.
REORDER_LEAD = timedelta(days=7)
REORDER, BOUGHT_WITH = "reorder", "bought_with"


@dataclass(frozen=True)
class Purchase:
    """One paid order, as the recommendations see it: who, when, which products."""

    order_id: str
    customer_id: str
    at: datetime
    products: frozenset[str]


@dataclass(frozen=True)
class Reorder:
    product_id: str
    last_bought_at: datetime
    interval: timedelta
    own_rhythm: bool  # the customer's own median gap (else the shop-wide one)

    @property
    def due_at(self) -> datetime:
        return self.last_bought_at + self.interval


@dataclass(frozen=True)
class Scored:
    product_id: str
    score: float


@dataclass(frozen=True)
class CustomerRecommendations:
    customer_id: str
    reorders: tuple[Reorder, ...] = ()
    also_bought: tuple[Scored, ...] = ()
    bought: frozenset[str] = frozenset()  # every product the customer bought (never "bought with")


@dataclass(frozen=True)
class Choice:
    product: Product
    reason: str  # REORDER or BOUGHT_WITH


@dataclass
class ShopRecommendations:
    per_customer: dict[str, CustomerRecommendations] = field(default_factory=dict)
    # product → the products bought with it, best first (post-purchase mails pair with the new order)
    bought_with: dict[str, tuple[Scored, ...]] = field(default_factory=dict)
    intervals: dict[str, timedelta] = field(default_factory=dict)  # shop-wide repurchase interval


def median(values: Iterable[timedelta]) -> timedelta:
    ordered = sorted(values)
    if not ordered:
        raise ValueError("median of nothing")
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return ordered[middle - 1] + (ordered[middle] - ordered[middle - 1]) / 2


def gaps(moments: Iterable[datetime]) -> list[timedelta]:
    """Gaps between consecutive purchases; purchases less than ``MIN_GAP`` apart count once."""
    result, last = [], None
    for moment in sorted(moments):
        if last is None:
            last = moment
        elif moment - last >= MIN_GAP:
            result.append(moment - last)
            last = moment
    return result


def purchase_moments(purchases: Iterable[Purchase]) -> dict[tuple[str, str], list[datetime]]:
    """(customer, product) → when they bought it, oldest first."""
    moments: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for purchase in purchases:
        for product in purchase.products:
            moments[(purchase.customer_id, product)].append(purchase.at)
    return {key: sorted(value) for key, value in moments.items()}


def replenishment_intervals(moments: Mapping[tuple[str, str], list[datetime]]
                            ) -> tuple[dict[tuple[str, str], timedelta], dict[str, timedelta]]:
    """(customer, product) → the customer's median gap; product → the median of all customers' gaps."""
    own: dict[tuple[str, str], timedelta] = {}
    pooled: dict[str, list[timedelta]] = defaultdict(list)
    for key, when in moments.items():
        found = gaps(when)
        if found:
            own[key] = median(found)
            pooled[key[1]].extend(found)
    return own, {product: median(found) for product, found in pooled.items()}


def reorders_for(customer_id: str, mine: Mapping[str, list[datetime]],
                 own: Mapping[tuple[str, str], timedelta], shop_wide: Mapping[str, timedelta]) -> list[Reorder]:
    """Every product the customer bought (``mine``: product → when) that has a repurchase
    interval, soonest due first."""
    found = []
    for product, when in mine.items():
        customer = customer_id
        interval = own.get((customer, product))
        rhythm = interval is not None
        interval = interval if rhythm else shop_wide.get(product)
        if interval is not None:
            found.append(Reorder(product, when[-1], interval, rhythm))
    return sorted(found, key=lambda reorder: (reorder.due_at, reorder.product_id))


def co_purchases(purchases: Iterable[Purchase]) -> tuple[Counter, Counter]:
    """(pairs: (a, b) with a < b → orders with both; orders: product → orders with it)."""
    pairs: Counter = Counter()
    orders: Counter = Counter()
    for purchase in purchases:
        products = sorted(purchase.products)[:MAX_PAIRED_PER_ORDER]
        orders.update(purchase.products)
        for i, first in enumerate(products):
            for second in products[i + 1:]:
                pairs[(first, second)] += 1
    return pairs, orders


def neighbours(pairs: Counter, orders: Counter, min_together: int = MIN_TOGETHER) -> dict[str, tuple[Scored, ...]]:
    """product → the products bought with it (cosine over orders), best first, ``KEPT`` at most."""
    found: dict[str, list[Scored]] = defaultdict(list)
    for (first, second), together in pairs.items():
        if together < min_together:
            continue
        score = together / math.sqrt(orders[first] * orders[second])
        found[first].append(Scored(second, score))
        found[second].append(Scored(first, score))
    return {product: tuple(sorted(scored, key=lambda s: (-s.score, s.product_id))[:KEPT])
            for product, scored in found.items()}


def also_bought(bought: Iterable[str], near: Mapping[str, tuple[Scored, ...]], exclude: Iterable[str] = (),
                keep_own: bool = False) -> tuple[Scored, ...]:
    """Products bought with ``bought``, summed over them, never one of ``exclude`` nor (unless
    ``keep_own``: the caller filters them) one of ``bought``."""
    bought, excluded = set(bought), set(exclude)
    scores: Counter = Counter()
    for product in bought:
        for neighbour in near.get(product, ()):
            if (keep_own or neighbour.product_id not in bought) and neighbour.product_id not in excluded:
                scores[neighbour.product_id] += neighbour.score
    return tuple(Scored(product, round(score, 6))
                 for product, score in sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:KEPT])


def recommend(purchases: Iterable[Purchase], min_together: int = MIN_TOGETHER) -> ShopRecommendations:
    """Every customer's replenishment and co-purchase candidates from the shop's paid orders."""
    purchases = list(purchases)
    moments = purchase_moments(purchases)
    own, shop_wide = replenishment_intervals(moments)
    near = neighbours(*co_purchases(purchases), min_together=min_together)
    by_customer: dict[str, dict[str, list[datetime]]] = defaultdict(dict)
    for (customer, product), when in moments.items():
        by_customer[customer][product] = when
    result = ShopRecommendations(bought_with=near, intervals=shop_wide)
    for customer, mine in by_customer.items():
        result.per_customer[customer] = CustomerRecommendations(
            customer_id=customer, reorders=tuple(reorders_for(customer, mine, own, shop_wide)[:KEPT]),
            also_bought=also_bought(mine, near), bought=frozenset(mine))
    return result


def choose(recommendations: Optional[CustomerRecommendations], catalog: Mapping[str, Product], now: datetime, *,
           just_bought: Iterable[str] = (), limit: int = 3,
           bought_with: Mapping[str, tuple[Scored, ...]] = {}) -> list[Choice]:
    """The products an e-mail written at ``now`` shows: reorders due (soonest first), then what is
    bought with the customer's products and with ``just_bought`` (best score first). Never out of
    stock or without a link; never a product just bought unless it is consumable; never twice."""
    just = set(just_bought)
    recommendations = recommendations or CustomerRecommendations("")
    chosen: list[Choice] = []
    seen: set[str] = set()

    def offer(product_id: str, reason: str) -> None:
        product = catalog.get(product_id)
        if len(chosen) >= limit or product_id in seen or product is None or not product.recommendable:
            return
        if product_id in just and not product.consumable:
            return
        seen.add(product_id)
        chosen.append(Choice(product, reason))

    for reorder in sorted(recommendations.reorders, key=lambda r: (r.due_at, r.product_id)):
        if reorder.due_at <= now + REORDER_LEAD and reorder.product_id not in just:
            offer(reorder.product_id, REORDER)
    # What goes with the new order counts beside what goes with the history.
    # A product of the new order bought with another of it stays a candidate: ``offer`` keeps it
    # only if it is consumable.
    fresh = also_bought(just, bought_with, exclude=recommendations.bought - just, keep_own=True) if just else ()
    scores: Counter = Counter()
    for scored in (*recommendations.also_bought, *fresh):
        scores[scored.product_id] += scored.score
    for product_id, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
        offer(product_id, BOUGHT_WITH)
    return chosen
