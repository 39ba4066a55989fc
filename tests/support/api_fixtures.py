"""The API fixtures every suite shares (a pytest plugin, registered in tests/conftest.py):
the Chalice test client on the test's table and three shops registered through the admin API."""
from __future__ import annotations

import pytest

from tests.support.shops import ShopHandle, register_shop


@pytest.fixture
def client(table):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as test_client:
        yield test_client


@pytest.fixture
def shopify_shop(client) -> ShopHandle:
    return register_shop(client, "shopify-shop", "shopify")


@pytest.fixture
def woo_shop(client) -> ShopHandle:
    return register_shop(client, "woo-shop", "woocommerce", sender_email="loyalty@woo-shop.example")


@pytest.fixture
def generic_shop(client) -> ShopHandle:
    return register_shop(client, "generic-shop", "generic", sender_email="loyalty@generic-shop.example")
