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


def test_personal_offers_list_only_the_customers_own_codes_as_stored(repos):
    from datetime import timedelta

    from chalicelib.domain.loyalty.codes import REWARD, RewardCode

    def gift(code: str, customer_id: str, minutes: int) -> RewardCode:
        return RewardCode(code, SHOP, REWARD, customer_id, 0, 0, T0 + timedelta(minutes=minutes),
                          T0 + timedelta(days=14), discount_percent="15", product_skus=("JBL",))

    codes = [gift("GIFT-AAAAA-BBBBB-CCCCC", "c_1", 1), gift("GIFT-DDDDD-EEEEE-FFFFF", "c_2", 1),
             gift("GIFT-GGGGG-HHHHH-JJJJJ", "c_1", 2)]
    repos.loyalty(SHOP).add_new_codes(codes)
    offers = repos.offers(SHOP)
    offers.index("15% off headphones", codes)
    mine = offers.for_customer("c_1")
    assert [(name, code.code, code.product_skus, code.discount_percent) for name, code in mine] == [
        ("15% off headphones", "GIFT-AAAAA-BBBBB-CCCCC", ("JBL",), "15"),
        ("15% off headphones", "GIFT-GGGGG-HHHHH-JJJJJ", ("JBL",), "15")]
    assert offers.for_customer("c_3") == [] and repos.offers("another-shop").for_customer("c_1") == []
    # the account's own reads never see the offers in its partition
    assert repos.loyalty(SHOP).load_account("c_1") is None
    assert repos.loyalty(SHOP).load_code("GIFT-AAAAA-BBBBB-CCCCC").product_skus == ("JBL",)
