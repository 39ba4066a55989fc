"""Products from the platforms' own payloads: Shopify products/create|update|delete (the documented
sample), WooCommerce product.updated|deleted; what the catalog keeps of each."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chalicelib.domain.platform_events import ProductEvent, ProductFacts
from chalicelib.errors import BadRequest
from chalicelib.platforms import WebhookContext, parse_webhook
from devstack.samples import signed_request

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
SECRET = "whsec_unit"
NOW = datetime(2025, 3, 6, 12, 0, tzinfo=timezone.utc)
CTX = WebhookContext("shop-1", (SECRET,), "EUR", 2, storefront_url="https://zerno.example/")


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def product(platform: str, payload: dict, topic: str) -> ProductFacts:
    headers, raw = signed_request(platform, SECRET, payload, topic=topic, now=NOW)
    event = parse_webhook(platform, CTX, headers, raw, NOW).event
    assert isinstance(event, ProductEvent)
    return event.product


def test_shopifys_documented_product_update_becomes_a_catalog_entry():
    facts = product("shopify", fixture("shopify_products_update.json"), "products/update")
    assert facts.product_id == "788032119674292922"  # beyond 2**53: kept exact
    assert (facts.title, facts.price_minor, facts.available) == ("Example T-Shirt", 1999, True)
    assert facts.url == "https://zerno.example/products/example-t-shirt"
    assert facts.image_url is None and facts.updated_at == datetime(2022, 1, 1, 0, 0, tzinfo=timezone.utc)


def test_a_shopify_product_is_sold_out_when_no_variant_can_be_bought():
    payload = fixture("shopify_products_update.json")
    for variant in payload["variants"]:
        variant["inventory_quantity"] = 0
    assert product("shopify", payload, "products/update").available is False
    payload["variants"][1]["inventory_policy"] = "continue"  # sold while out of stock
    assert product("shopify", payload, "products/update").available is True
    payload["variants"][1]["inventory_policy"], payload["variants"][1]["inventory_management"] = "deny", None
    assert product("shopify", payload, "products/update").available is True  # stock not counted


@pytest.mark.parametrize("change", [{"status": "draft"}, {"status": "archived"}, {"published_at": None}])
def test_a_shopify_product_not_on_sale_is_not_available(change):
    assert product("shopify", {**fixture("shopify_products_update.json"), **change}, "products/create").available is False


def test_the_cheapest_sellable_variant_sets_the_price_and_the_first_image_the_picture():
    payload = fixture("shopify_products_update.json")
    payload["variants"][0].update(price="9.50", inventory_quantity=0)
    payload["variants"][1]["price"] = "17.25"
    payload["images"] = [{"id": 1, "src": "https://cdn.shopify.com/s/files/1/shirt.jpg?v=1"}]
    facts = product("shopify", payload, "products/update")
    assert (facts.price_minor, facts.image_url) == (1725, "https://cdn.shopify.com/s/files/1/shirt.jpg?v=1")


def test_hostile_links_and_handles_never_reach_an_email():
    payload = fixture("shopify_products_update.json")
    payload["handle"] = "../../evil?x=1"
    payload["image"] = {"src": "javascript:alert(1)"}
    facts = product("shopify", payload, "products/update")
    assert facts.url == "https://zerno.example/products/..%2F..%2Fevil%3Fx%3D1" and facts.image_url is None


@pytest.mark.parametrize("field,value", [("id", None), ("variants", "many"), ("title", "x" * 1001),
                                         ("updated_at", "yesterday")])
def test_a_malformed_shopify_product_is_refused_naming_the_field(field, value):
    with pytest.raises(BadRequest) as refused:
        product("shopify", {**fixture("shopify_products_update.json"), field: value}, "products/update")
    assert field in str(refused.value)


def test_shopify_products_delete_takes_the_product_off_sale():
    assert product("shopify", {"id": 788032119674292922}, "products/delete") == ProductFacts(
        "788032119674292922", available=False, deleted=True)


def test_woocommerce_product_updated_out_of_stock():
    facts = product("woocommerce", fixture("woocommerce_product_updated.json"), "product.updated")
    assert (facts.product_id, facts.title, facts.price_minor) == ("799", "Ethiopia Yirgacheffe, 250 g", 48900)
    assert facts.url == "https://zerno.example/product/ethiopia-yirgacheffe-250-g/"
    assert facts.image_url == "https://zerno.example/wp-content/uploads/2025/02/yirgacheffe.jpg"
    assert facts.available is False
    back = copy.deepcopy(fixture("woocommerce_product_updated.json"))
    back.update(stock_status="onbackorder", price="")
    facts = product("woocommerce", back, "product.updated")
    assert facts.available is True and facts.price_minor is None
    assert product("woocommerce", {"id": 799}, "product.deleted").deleted
