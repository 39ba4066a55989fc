"""The rewards catalog keeps the same promises on the emulator and in memory: a reward saves only
over the version read (0: only if new), a delete takes only the version read, and one shop's
catalog never shows another's."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from chalicelib.domain.loyalty.rewards import FREE_SHIPPING, PERCENT_OFF, Reward
from chalicelib.store.loyalty.rewards import StaleReward
from tests.support.clock import T0

SHOP = "contract-shop"
SHIPPING = Reward("free-shipping", "Free shipping", FREE_SHIPPING, points=80, min_order_minor=50_000)
PERCENT = Reward("cases-10", "10% off cases", PERCENT_OFF, points=150, discount_percent=Decimal("10"),
                 product_skus=frozenset({"CASE-IP15-BLK", "CASE-IP15-RED"}), validity_days=14)


def test_rewards_save_on_their_version_and_read_back_whole(repos):
    catalog = repos.rewards(SHOP)
    assert catalog.all() == [] and catalog.get("free-shipping") is None
    saved = catalog.save(SHIPPING, T0)
    assert saved == replace(SHIPPING, version=1)
    with pytest.raises(StaleReward):  # "new" again: it exists
        catalog.save(SHIPPING, T0)
    catalog.save(PERCENT, T0)
    assert catalog.get("cases-10") == replace(PERCENT, version=1)
    assert [r.reward_id for r in catalog.all()] == ["cases-10", "free-shipping"]

    changed = catalog.save(replace(saved, points=60), T0)
    assert changed.version == 2 and catalog.get("free-shipping").points == 60
    with pytest.raises(StaleReward):  # a second editor still holding version 1
        catalog.save(replace(saved, points=70), T0)
    assert repos.rewards("another-shop").all() == []


def test_a_delete_takes_only_the_version_read(repos):
    catalog = repos.rewards(SHOP)
    catalog.save(SHIPPING, T0)
    with pytest.raises(StaleReward):
        catalog.delete("free-shipping", 2)
    catalog.delete("free-shipping", 1)
    assert catalog.get("free-shipping") is None
    with pytest.raises(StaleReward):
        catalog.delete("free-shipping", 1)
