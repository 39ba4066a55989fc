"""What a catalog reward's code applies to: the order's lines for a code restricted to some
products or giving one free, and the reward's redemption taking the points."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from chalicelib.domain.loyalty.account import Account, InsufficientPoints
from chalicelib.domain.loyalty.codes import CONSUMED, REDEMPTION, RewardCode
from chalicelib.domain.loyalty.program import ProgramRules
from chalicelib.domain.loyalty.rewards import AMOUNT_OFF, FREE_PRODUCT, FREE_SHIPPING, PERCENT_OFF, Reward, redeem_reward
from chalicelib.domain.platform_events import OrderLine
from tests.support.clock import T0

CASE = OrderLine("1", 2, 90_000, sku="CASE")
PHONES = OrderLine("2", 1, 289_900, sku="PHONES")


def code(**fields) -> RewardCode:
    return RewardCode("PTS-A", "s", REDEMPTION, "c_1", 0, 100, T0, T0 + timedelta(days=30), **fields)


def test_an_unrestricted_code_counts_the_whole_order():
    assert code().qualifying_total([CASE, PHONES], 379_900) == (379_900, None)


def test_a_restricted_code_counts_only_its_products_and_needs_one_of_them():
    restricted = code(product_skus=("PHONES",), min_order_minor=300_000)
    assert restricted.qualifying_total([CASE, PHONES], 379_900) == (289_900, None)
    assert restricted.consume("o-1", T0, 379_900, [CASE, PHONES]) == "the order is below the code's minimum"
    assert restricted.consume("o-1", T0, 90_000, [CASE]) == \
        "the order contains none of the products the code applies to"
    assert restricted.uses == 0
    assert restricted.consume("o-2", T0, 579_800, [OrderLine("2", 2, 579_800, sku="PHONES")]) is None
    assert restricted.status == CONSUMED


def test_a_free_product_code_needs_the_product():
    free = code(free_product_sku="CASE")
    assert free.consume("o-1", T0, 289_900, [PHONES]) == "the order does not contain the free product CASE"
    assert free.consume("o-2", T0, 289_900, [PHONES, OrderLine("1", 1, 0, sku="CASE")]) is None


def _account(points: int) -> Account:
    account = Account("s", "c_1", created_at=T0, lots=[])
    account.earn(points, lot_id="lot-1", cause="order:1", now=T0, expires_at=T0 + timedelta(days=180))
    account.new_entries.clear()
    return account


@pytest.mark.parametrize("reward, gives", [
    (Reward("a", "100 off", AMOUNT_OFF, 50, value_minor=10_000), {"value_minor": 10_000}),
    (Reward("p", "10%", PERCENT_OFF, 50, discount_percent=Decimal("10")), {"discount_percent": "10"}),
    (Reward("s", "ship", FREE_SHIPPING, 50), {"free_shipping": True}),
    (Reward("f", "case", FREE_PRODUCT, 50, free_product_sku="CASE"), {"free_product_sku": "CASE"}),
])
def test_a_reward_gives_a_single_use_code_of_its_kind_below_the_programs_smallest_redemption(reward, gives):
    account = _account(60)  # less than the program's min_redeem_points (100): the catalog's price rules
    issued = redeem_reward(account, reward, ProgramRules(), T0, "Europe/Kyiv")
    assert {name: getattr(issued, name) for name in gives} == gives
    assert (issued.max_uses, issued.points, issued.reward_id, account.points_balance) == (1, 50, reward.reward_id, 10)
    # Valid to the end of its 30th day on the shop's clock (Kyiv, UTC+3 in April), the day the mail names.
    assert T0 + timedelta(days=ProgramRules().redemption_code_validity_days) < issued.expires_at
    assert issued.expires_at == datetime(2031, 4, 13, 20, 59, 59, 999999, tzinfo=timezone.utc)
    assert sum(p.points for p in issued.portions) == 50


def test_a_reward_beyond_the_balance_changes_nothing():
    account = _account(40)
    with pytest.raises(InsufficientPoints):
        redeem_reward(account, Reward("s", "ship", FREE_SHIPPING, 50), ProgramRules(), T0, "Europe/Kyiv")
    assert account.points_balance == 40 and account.new_entries == []
