"""Security tests: the service attacked the way a hostile tenant would, through its API.

They reuse the integration fixtures (a moto server per test process, a fresh table per
test, the Chalice test client)."""
from __future__ import annotations

from tests.integration.conftest import client, shopify_shop  # noqa: F401  (fixtures)
