"""The product store keeps the same promises on the emulator and in memory: the platform's facts save
only over the version read, the three parts of a product merge, pages follow product ids, a batch
read names products, purchases taken back are left out, recommendations read back as written."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.platform_events import ProductFacts
from chalicelib.domain.products.catalog import OrderedProduct
from chalicelib.domain.products.recommendations import CustomerRecommendations, Reorder, Scored
from chalicelib.store.loyalty.repository import Change, ConcurrentChange
from tests.support.clock import T0

SHOP = "contract-shop"


def test_platform_facts_save_on_their_version_and_merge_with_the_orders_and_the_setting(repos):
    store, loyalty = repos.products(SHOP), repos.loyalty(SHOP)
    facts = ProductFacts("101", title="Beans", url="https://shop.example/products/beans", price_minor=48900,
                         updated_at=T0)
    loyalty.commit(Change(items=[store.platform_write(facts, 0)]), T0)
    with pytest.raises(ConcurrentChange):
        loyalty.commit(Change(items=[store.platform_write(facts, 0)]), T0)  # a writer that read nothing
    assert store.platform_facts("101") == (facts, 1)
    store.save_ordered([OrderedProduct("101", "Beans 250 g", 45000, T0, 3, 2, 1, (("102", 0.5),)),
                        OrderedProduct("102", "Filters", 28900, T0, 2, 2, 0)], T0)
    store.save_setting("102", True, T0)
    catalog = store.catalog()
    assert set(catalog) == {"101", "102"}
    assert (catalog["101"].title, catalog["101"].price_minor, catalog["101"].consumable) == ("Beans", 48900, True)
    assert catalog["101"].ordered.bought_with == (("102", 0.5),)
    assert (catalog["102"].source, catalog["102"].consumable, catalog["102"].recommendable) == ("orders", True, False)
    assert set(store.products(["102", "nope"])) == {"102"}
    first, after = store.page(1)
    assert [p.product_id for p in first] == ["101"] and after == "101"
    rest, after = store.page(1, after)
    assert [p.product_id for p in rest] == ["102"] and after is None


def test_purchases_taken_back_are_left_out_and_recommendations_read_back(repos):
    store, loyalty = repos.products(SHOP), repos.loyalty(SHOP)
    lines = [{"product_id": "101", "title": "Beans", "quantity": 2, "paid_minor": 97800}]
    loyalty.commit(Change(items=[store.purchase_write("o1", "c_1", T0, lines),
                                 store.purchase_write("o2", "c_2", T0, lines)]), T0)
    loyalty.commit(Change(items=[store.purchase_write("o2", "c_2", T0, [], returned=True)]), T0)
    ((purchase, kept),) = list(store.purchases())
    assert (purchase.order_id, purchase.customer_id, purchase.at, purchase.products) == ("o1", "c_1", T0,
                                                                                          frozenset({"101"}))
    assert kept == lines
    found = CustomerRecommendations("c_1", reorders=(Reorder("101", T0, timedelta(days=30), True),),
                                    also_bought=(Scored("102", 0.5),), bought=frozenset({"101"}))
    assert store.save_recommendations([found], T0) == 1
    assert store.recommendations("c_1") == found and store.recommendations("c_2") is None


def test_platform_facts_written_before_their_own_model_keep_their_version(repos):
    """An ``#A`` saved as a plain ``ProductItem`` (its version by hand) reads with that version, and
    the versioned model writes over it only on that version."""
    from chalicelib.store.models import PlatformProductItem, ProductItem
    from chalicelib.store.products.products import product_sk

    store, loyalty = repos.products(SHOP), repos.loyalty(SHOP)
    facts = ProductFacts("101", title="Beans", price_minor=48900, updated_at=T0)
    loyalty.commit(Change(items=[store.platform_write(facts, 0)]), T0)
    older = ProductItem.get(store.pk, product_sk("101", "A"), consistent_read=True)
    ProductItem(store.pk, product_sk("101", "A"), state=older.state, version=3).save()
    assert store.platform_facts("101") == (facts, 3)
    newer = ProductFacts("101", title="Beans 1 kg", price_minor=99900, updated_at=T0 + timedelta(hours=1))
    with pytest.raises(ConcurrentChange):
        loyalty.commit(Change(items=[store.platform_write(newer, 2)]), T0)
    loyalty.commit(Change(items=[store.platform_write(newer, 3)]), T0)
    assert store.platform_facts("101") == (newer, 4)
    assert isinstance(ProductItem.get(store.pk, product_sk("101", "A"), consistent_read=True), PlatformProductItem)
