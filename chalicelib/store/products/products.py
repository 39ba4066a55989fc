"""The product catalog, the purchases the recommendations are computed from, and each customer's
recommendations (docs/data-model.md "Products").

Three writers never touch the same item: product webhooks write a product's platform facts
(``#A``), the recommendations job what the orders show (``#B``), the shop's admin its setting
(``#C``); a paid order writes its purchase with the order's own transaction.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Iterable, Iterator, Optional

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.platform_events import ProductFacts
from chalicelib.domain.products.catalog import OrderedProduct, Product, merge
from chalicelib.domain.products.recommendations import CustomerRecommendations, Purchase, Reorder, Scored
from chalicelib.store import keys
from chalicelib.store.models import (PlatformProductItem, ProductItem, PurchaseItem, RecommendationItem, over_version,
                                     stored_version)
from chalicelib.store.transaction import ValuesPut

PLATFORM, ORDERS, SETTING = "A", "B", "C"
RECOMMENDATIONS_SK = "RECS"
PURCHASE_SK_PREFIX = "ORDER#"


products_pk, purchases_pk = keys.products_pk, keys.purchases_pk


def product_sk(product_id: str, part: str) -> str:
    return f"P#{product_id}#{part}"


def _split(sk: str) -> tuple[str, str]:
    body, part = sk[2:].rsplit("#", 1)
    return body, part


class ProductStore:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id
        self.pk = products_pk(shop_id)

    # -- the catalog ------------------------------------------------------------------------
    def platform_facts(self, product_id: str) -> tuple[Optional[ProductFacts], int]:
        """(facts, version) the platform last sent, or (None, 0)."""
        try:
            item = ProductItem.get(self.pk, product_sk(product_id, PLATFORM), consistent_read=True)
        except DoesNotExist:
            return None, 0
        return _facts(product_id, item.state), stored_version(item)

    def platform_write(self, facts: ProductFacts, version: int) -> tuple:
        """The (item, condition) of the platform's facts over ``version`` (0: new); the version
        condition is the item's own (``VersionAttribute``)."""
        state = {**asdict(facts), "updated_at": keys.iso(facts.updated_at) if facts.updated_at else None}
        return over_version(PlatformProductItem(self.pk, product_sk(facts.product_id, PLATFORM), state=state),
                            version), None

    def save_setting(self, product_id: str, consumable: Optional[bool], now: datetime) -> None:
        ProductItem(self.pk, product_sk(product_id, SETTING),
                    state={"consumable": consumable, "updated_at": keys.iso(now)}).save()

    def save_ordered(self, products: Iterable[OrderedProduct], now: datetime) -> int:
        """What the orders show of each product (the job: rewritten whole on every run)."""
        count = 0
        with ProductItem.batch_write() as batch:
            for product in products:
                state = {**asdict(product), "last_ordered_at": keys.iso(product.last_ordered_at),
                         "bought_with": [list(pair) for pair in product.bought_with], "computed_at": keys.iso(now)}
                batch.save(ProductItem(self.pk, product_sk(product.product_id, ORDERS), state=state))
                count += 1
        return count

    def catalog(self) -> dict[str, Product]:
        """Every product, merged (one Query of the shop's catalog partition)."""
        return _merged(ProductItem.query(self.pk, ProductItem.sk.startswith("P#"), consistent_read=True))

    def page(self, limit: int, after: Optional[str] = None) -> tuple[list[Product], Optional[str]]:
        """Products in id order, ``limit`` at most, after the product id ``after``."""
        condition = ProductItem.sk > product_sk(after, "~") if after else ProductItem.sk.startswith("P#")
        grouped: dict[str, dict] = {}
        for item in ProductItem.query(self.pk, condition, consistent_read=True, page_size=3 * limit + 3):
            product_id, _ = _split(item.sk)
            if product_id not in grouped and len(grouped) == limit:
                return _merge_groups(grouped), list(grouped)[-1]
            grouped.setdefault(product_id, {})[_split(item.sk)[1]] = item.state
        return _merge_groups(grouped), None

    def products(self, product_ids: Iterable[str], *, consistent: bool = True) -> dict[str, Product]:
        """The named products (one BatchGet), merged; unknown ids are left out. ``consistent``
        False: an eventually consistent read, half the read units (three items a product, each at
        least one unit strongly consistent), for what only suggests (an e-mail's recommendations)."""
        ids = list(dict.fromkeys(product_ids))[:30]
        wanted = [(self.pk, product_sk(product_id, part)) for product_id in ids for part in (PLATFORM, ORDERS, SETTING)]
        return _merged(ProductItem.batch_get(wanted, consistent_read=consistent)) if wanted else {}

    # -- purchases ---------------------------------------------------------------------------
    def purchase_write(self, order_id: str, customer_id: str, at: datetime, lines: list[dict],
                       returned: bool = False) -> tuple:
        """A paid order's products, or the order taken back (``returned``): the item's put, for the
        order's own transaction."""
        return ValuesPut(PurchaseItem, {"pk": purchases_pk(self.shop_id), "sk": keys.purchase_sk(order_id),
                                        "customer_id": customer_id,
                                        "state": {"at": keys.iso(at), "lines": lines, "returned": returned}})

    def purchases(self) -> Iterator[tuple[Purchase, list[dict]]]:
        """Every purchase not taken back, with its lines (a paginated Query)."""
        for item in PurchaseItem.query(purchases_pk(self.shop_id), PurchaseItem.sk.startswith(PURCHASE_SK_PREFIX)):
            if item.state.get("returned"):
                continue
            lines = item.state.get("lines") or []
            yield (Purchase(item.sk[len(PURCHASE_SK_PREFIX):], item.customer_id, keys.parse_iso(item.state["at"]),
                            frozenset(line["product_id"] for line in lines)), lines)

    # -- recommendations ---------------------------------------------------------------------
    def save_recommendations(self, found: Iterable[CustomerRecommendations], now: datetime) -> int:
        count = 0
        with RecommendationItem.batch_write() as batch:
            for recommendations in found:
                batch.save(RecommendationItem(keys.customer_pk(self.shop_id, recommendations.customer_id),
                                              RECOMMENDATIONS_SK, state=_recommendations_state(recommendations, now)))
                count += 1
        return count

    def recommendations(self, customer_id: str) -> Optional[CustomerRecommendations]:
        try:
            item = RecommendationItem.get(keys.customer_pk(self.shop_id, customer_id), RECOMMENDATIONS_SK)
        except DoesNotExist:
            return None
        state = item.state
        return CustomerRecommendations(
            customer_id=customer_id,
            reorders=tuple(Reorder(r["product_id"], keys.parse_iso(r["last_bought_at"]),
                                   timedelta(seconds=r["interval_seconds"]), bool(r["own_rhythm"]))
                           for r in state.get("reorders") or ()),
            also_bought=tuple(Scored(p, s) for p, s in state.get("also_bought") or ()),
            bought=frozenset(state.get("bought") or ()))


def _recommendations_state(found: CustomerRecommendations, now: datetime) -> dict:
    return {"computed_at": keys.iso(now),
            "reorders": [{"product_id": r.product_id, "last_bought_at": keys.iso(r.last_bought_at),
                          "interval_seconds": int(r.interval.total_seconds()), "own_rhythm": r.own_rhythm}
                         for r in found.reorders],
            "also_bought": [[s.product_id, s.score] for s in found.also_bought],
            # What "never recommend what they have" needs; bounded so the item stays small.
            "bought": sorted(found.bought)[:400]}


def _facts(product_id: str, state: dict) -> ProductFacts:
    return ProductFacts(product_id=product_id, title=state.get("title") or "", url=state.get("url"),
                        image_url=state.get("image_url"), price_minor=state.get("price_minor"),
                        available=bool(state.get("available")), deleted=bool(state.get("deleted")),
                        updated_at=keys.parse_iso(state["updated_at"]) if state.get("updated_at") else None)


def _ordered(product_id: str, state: dict) -> OrderedProduct:
    return OrderedProduct(product_id=product_id, title=state.get("title") or "",
                          unit_price_minor=state.get("unit_price_minor"),
                          last_ordered_at=keys.parse_iso(state["last_ordered_at"]), orders=int(state.get("orders") or 0),
                          buyers=int(state.get("buyers") or 0), repeat_buyers=int(state.get("repeat_buyers") or 0),
                          bought_with=tuple((str(p), float(s)) for p, s in state.get("bought_with") or ()))


def _merged(items) -> dict[str, Product]:
    grouped: dict[str, dict] = {}
    for item in items:
        product_id, part = _split(item.sk)
        grouped.setdefault(product_id, {})[part] = item.state
    return {product.product_id: product for product in _merge_groups(grouped)}


def _merge_groups(grouped: dict[str, dict]) -> list[Product]:
    products = []
    for product_id, parts in sorted(grouped.items()):
        platform = _facts(product_id, parts[PLATFORM]) if PLATFORM in parts else None
        ordered = _ordered(product_id, parts[ORDERS]) if ORDERS in parts else None
        setting = (parts.get(SETTING) or {}).get("consumable")
        if platform is None and ordered is None:
            continue  # only a setting: nothing to show yet
        product = merge(product_id, platform, ordered, setting)
        products.append(product)
    return products
