"""Campaigns as the tests create them through the admin API, and the instant they plan from."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.clock import FakeClock, install_clock
from tests.support.shops import ADMIN

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
# The campaigns are planned the day before they are due (a send_at already past is refused); the
# tests then run the scheduler at NOW, or move the clock there.
PLANNED = NOW - timedelta(days=1)
SPECIAL_DAY = {"title": "Free shipping weekend", "starts_at": "2026-12-05T00:00:00+02:00",
               "ends_at": "2026-12-07T23:59:00+02:00"}


@pytest.fixture(name="clock")
def planning_clock(table) -> FakeClock:
    """The ``clock`` fixture of a module that imports it: the app at PLANNED, which the test moves."""
    return install_clock(PLANNED)


def create_campaign(client, shop_id, **overrides):
    document = {"name": "Winter free shipping", "template": "special_day",
                "segment": {"rules": {"field": "tier", "op": "=", "value": "Gold"}},
                "send_at": "2026-12-01T10:00:00", "data": SPECIAL_DAY}  # 10:00 in Kyiv = 08:00 UTC
    document.update(overrides)
    response = client.http.post(f"/admin/shops/{shop_id}/campaigns", headers=ADMIN, body=json.dumps(document).encode())
    return response.status_code, json.loads(response.body)


OFFER_WINDOW = {"valid_from": "2026-12-05T00:00:00+02:00", "valid_until": "2026-12-07T23:59:00+02:00"}


def check_code(client, shop, code):
    response = client.http.get(f"/shops/{shop.shop_id}/codes/{code}", headers={"X-Api-Key": shop.api_key})
    return response.status_code, json.loads(response.body)
