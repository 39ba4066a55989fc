"""The recommendation rules (chalicelib/domain/products): worked examples and properties."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.platform_events import ProductFacts
from chalicelib.domain.products.catalog import OrderedProduct, merge
from chalicelib.domain.products.recommendations import (
    BOUGHT_WITH,
    REORDER,
    Purchase,
    choose,
    gaps,
    median,
    purchase_moments,
    recommend,
    replenishment_intervals,
)
from tests.support.examples import examples

UTC = timezone.utc
START = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
PRODUCTS = ("beans", "filters", "grinder", "cup", "kettle", "scale")
CUSTOMERS = ("c1", "c2", "c3", "c4")
SETTINGS = settings(max_examples=examples(80), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _buy(order: str, customer: str, day: float, *products: str) -> Purchase:
    return Purchase(order, customer, START + timedelta(days=day), frozenset(products))


def _catalog(*, out_of_stock=(), consumable=(), without_url=()) -> dict:
    catalog = {}
    for product in PRODUCTS:
        facts = ProductFacts(product, title=product.title(), price_minor=1_000,
                             url=None if product in without_url else f"https://shop.example/products/{product}",
                             available=product not in out_of_stock)
        catalog[product] = merge(product, facts, None, consumable_set_by_shop=product in consumable)
    return catalog


# -- worked examples --------------------------------------------------------------------------
def test_a_customers_own_rhythm_sets_the_interval_else_the_shop_wide_median():
    purchases = [_buy("o1", "c1", 0, "beans"), _buy("o2", "c1", 20, "beans"), _buy("o3", "c1", 50, "beans"),
                 _buy("o4", "c2", 0, "beans"), _buy("o5", "c2", 40, "beans"), _buy("o6", "c3", 10, "beans")]
    shop = recommend(purchases)
    own = shop.per_customer["c1"].reorders[0]
    assert (own.interval, own.own_rhythm) == (timedelta(days=25), True)  # gaps 20 and 30
    assert own.due_at == START + timedelta(days=75)
    borrowed = shop.per_customer["c3"].reorders[0]  # bought once: the shop-wide median of 20, 30, 40
    assert (borrowed.interval, borrowed.own_rhythm) == (timedelta(days=30), False)
    assert shop.intervals["beans"] == timedelta(days=30)


def test_orders_within_a_day_are_one_trip_and_a_product_never_reordered_has_no_interval():
    assert gaps([START, START + timedelta(hours=3), START + timedelta(days=10)]) == [timedelta(days=10)]
    shop = recommend([_buy("o1", "c1", 0, "grinder"), _buy("o2", "c1", 0.2, "grinder")])
    assert shop.per_customer["c1"].reorders == ()


def test_bought_with_needs_two_shared_orders_and_never_names_what_the_customer_has():
    purchases = [_buy("o1", "c1", 0, "beans", "filters"), _buy("o2", "c2", 1, "beans", "filters"),
                 _buy("o3", "c3", 2, "beans", "cup"), _buy("o4", "c4", 3, "beans")]
    shop = recommend(purchases)
    assert [s.product_id for s in shop.per_customer["c4"].also_bought] == ["filters"]  # cup: once only
    assert [s.product_id for s in shop.per_customer["c1"].also_bought] == []  # has both
    assert [s.product_id for s in shop.bought_with["filters"]] == ["beans"]


def test_choose_shows_due_reorders_first_then_bought_with():
    purchases = [_buy("o1", "c1", 0, "beans", "filters"), _buy("o2", "c1", 30, "beans"),
                 _buy("o3", "c2", 0, "beans", "filters"), _buy("o4", "c2", 5, "beans", "cup"),
                 _buy("o5", "c3", 1, "beans", "cup")]
    shop = recommend(purchases)
    catalog = _catalog()
    early = choose(shop.per_customer["c1"], catalog, START + timedelta(days=40))
    assert [(c.product.product_id, c.reason) for c in early] == [("cup", BOUGHT_WITH)]
    due = choose(shop.per_customer["c1"], catalog, START + timedelta(days=55))
    assert [(c.product.product_id, c.reason) for c in due] == [("beans", REORDER), ("cup", BOUGHT_WITH)]
    gone = choose(shop.per_customer["c1"], _catalog(out_of_stock={"cup"}), START + timedelta(days=55))
    assert [c.product.product_id for c in gone] == ["beans"]


def test_just_bought_is_never_shown_unless_consumable():
    purchases = [_buy("o1", "c2", 0, "beans", "filters"), _buy("o2", "c3", 1, "beans", "filters")]
    shop = recommend(purchases)
    fresh = choose(None, _catalog(), START, just_bought={"beans"}, bought_with=shop.bought_with)
    assert [c.product.product_id for c in fresh] == ["filters"]
    # c2 bought filters: a new customer buying beans is offered them; c2 never (already has them).
    assert choose(shop.per_customer["c2"], _catalog(), START, just_bought={"beans"}, bought_with=shop.bought_with) == []


def test_a_product_known_only_from_orders_is_listed_never_recommended():
    ordered = OrderedProduct("kettle", "Kettle", 4_500, START, orders=3, buyers=3, repeat_buyers=0)
    product = merge("kettle", None, ordered)
    assert (product.title, product.price_minor, product.source, product.recommendable) == ("Kettle", 4_500, "orders", False)
    deleted = merge("kettle", ProductFacts("kettle", deleted=True), ordered)
    assert (deleted.available, deleted.source) == (False, "deleted")
    again = merge("beans", None, OrderedProduct("beans", "Beans", 900, START, 5, 3, repeat_buyers=2))
    assert again.consumable and not merge("beans", None, again.ordered, consumable_set_by_shop=False).consumable


# -- properties -----------------------------------------------------------------------------
@st.composite
def histories(draw) -> list[Purchase]:
    count = draw(st.integers(min_value=0, max_value=25))
    purchases = []
    for index in range(count):
        products = draw(st.frozensets(st.sampled_from(PRODUCTS), min_size=1, max_size=4))
        purchases.append(Purchase(f"o{index}", draw(st.sampled_from(CUSTOMERS)),
                                  START + timedelta(hours=draw(st.integers(min_value=0, max_value=24 * 400))),
                                  products))
    return purchases


@SETTINGS
@given(histories(), st.randoms())
def test_the_result_does_not_depend_on_the_order_orders_are_read_in(purchases, rnd):
    shuffled = list(purchases)
    rnd.shuffle(shuffled)
    assert recommend(purchases) == recommend(shuffled)


@SETTINGS
@given(histories())
def test_every_interval_lies_between_the_gaps_it_was_made_of(purchases):
    moments = purchase_moments(purchases)
    own, shop_wide = replenishment_intervals(moments)
    for key, interval in own.items():
        found = gaps(moments[key])
        assert min(found) <= interval <= max(found) and interval >= timedelta(days=1)
    for product, interval in shop_wide.items():
        pooled = [g for (customer, p), when in moments.items() if p == product for g in gaps(when)]
        assert min(pooled) <= interval <= max(pooled)
        assert interval == median(pooled)


@SETTINGS
@given(histories())
def test_bought_with_is_never_something_the_customer_bought(purchases):
    shop = recommend(purchases)
    for customer, recommendations in shop.per_customer.items():
        mine = {p for purchase in purchases if purchase.customer_id == customer for p in purchase.products}
        assert recommendations.bought == mine
        assert not {s.product_id for s in recommendations.also_bought} & mine
        assert {r.product_id for r in recommendations.reorders} <= mine


@SETTINGS
@given(histories(), st.sampled_from(CUSTOMERS), st.integers(min_value=0, max_value=500),
       st.frozensets(st.sampled_from(PRODUCTS)), st.frozensets(st.sampled_from(PRODUCTS)),
       st.frozensets(st.sampled_from(PRODUCTS)), st.frozensets(st.sampled_from(PRODUCTS)),
       st.integers(min_value=0, max_value=6))
def test_choose_never_breaks_its_promises(purchases, customer, day, just, out, consumable, no_url, limit):
    shop = recommend(purchases)
    catalog = _catalog(out_of_stock=out, consumable=consumable, without_url=no_url)
    chosen = choose(shop.per_customer.get(customer), catalog, START + timedelta(days=day), just_bought=just,
                    limit=limit, bought_with=shop.bought_with)
    ids = [c.product.product_id for c in chosen]
    assert len(ids) == len(set(ids)) <= limit
    assert not set(ids) & set(out) and not set(ids) & set(no_url)
    assert all(p in consumable for p in ids if p in just)
    reasons = [c.reason for c in chosen]
    assert reasons == sorted(reasons, key=lambda reason: reason != REORDER)  # reorders come first
