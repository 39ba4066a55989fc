"""Segment rules: every field and operator, nesting, RFM, and validation naming the path."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from chalicelib.domain.loyalty.account import BOUGHT_CAP, Account, add_capped
from chalicelib.domain.loyalty.rules import Program, apply_order
from chalicelib.domain.loyalty.order_record import OrderRecord
from chalicelib.domain.platform_events import CustomerFacts, Order, OrderLine
from chalicelib.domain.loyalty.program import ProgramRules, Tier
from chalicelib.domain.campaigns.segments import SegmentInvalid, matches, parse_segment, rfm_scores

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


def account(**overrides) -> Account:
    values = dict(shop_id="s", customer_id="c_1", created_at=NOW - timedelta(days=500), email="Olena@Shop.Example",
                  first_name="Olena", locale="uk-UA", marketing_consent=True, tier_name="Gold",
                  points_balance=250, cashback_minor=12345, lifetime_spend_minor=612_000, orders_count=4,
                  last_order_at=NOW - timedelta(days=61), bought_skus={"BEAN-1KG"},
                  bought_categories={"Coffee", "Beans"}, member_until=NOW + timedelta(days=20))
    values.update(overrides)
    return Account(**values)


def hit(condition_or_rules, acct=None, exponent=2, **kwargs) -> bool:
    return matches(parse_segment({"rules": condition_or_rules}), acct or account(), TODAY, exponent, **kwargs)


def cond(field, op, value=None):
    rule = {"field": field, "op": op}
    if value is not None:
        rule["value"] = value
    return rule


@pytest.mark.parametrize("rule,expected", [
    (cond("tier", "=", "Gold"), True),
    (cond("tier", "=", "gold"), True),  # names compare without case
    (cond("tier", "!=", "Gold"), False),
    (cond("tier", "in", ["Gold", "Silver"]), True),
    (cond("tier", "not_in", ["Silver"]), True),
    (cond("tier", "exists"), True),
    (cond("tier", "exists", False), False),
    (cond("points_balance", "=", 250), True),
    (cond("points_balance", "!=", 250), False),
    (cond("points_balance", "<", 251), True),
    (cond("points_balance", "<=", 250), True),
    (cond("points_balance", ">", 250), False),
    (cond("points_balance", ">=", 250), True),
    (cond("cashback_balance", "=", "123.45"), True),  # major units; numbers may come as text
    (cond("cashback_balance", ">", 123.4), True),
    (cond("lifetime_spend", ">=", 6120), True),
    (cond("lifetime_spend", ">", 6120), False),
    (cond("days_since_last_order", ">=", 60), True),
    (cond("days_since_last_order", "<", 61), False),
    (cond("days_since_last_order", "exists"), True),
    (cond("orders_count", "=", 4), True),
    (cond("locale", "=", "uk"), True),  # a language stands for all its regions
    (cond("locale", "=", "uk_UA"), True),
    (cond("locale", "=", "uk-RU"), False),
    (cond("locale", "in", ["en", "uk"]), True),
    (cond("locale", "not_in", ["uk"]), False),
    (cond("locale", "!=", "en"), True),
    (cond("email_domain", "=", "shop.example"), True),
    (cond("email_domain", "in", ["gmail.com"]), False),
    (cond("bought_sku", "contains", "bean-1kg"), True),
    (cond("bought_sku", "contains", ["X", "BEAN-1KG"]), True),
    (cond("bought_sku", "contains", "TEA"), False),
    (cond("bought_category", "contains", "coffee"), True),
    (cond("bought_category", "exists"), True),
    (cond("marketing_consent", "=", True), True),
    (cond("marketing_consent", "!=", True), False),
    (cond("member", "=", True), True),
    (cond("rfm_score", "=", "435"), True),
    (cond("rfm_score", "in", ["111", "435"]), True),
    (cond("rfm_score", "not_in", ["435"]), False),
    (cond("recency_score", "=", 4), True),
    (cond("frequency_score", ">=", 4), False),
    (cond("frequency_score", "=", 3), True),  # 61 days: 4; 4 orders: 3; 6,120 ≥ 2 × 2,000: 5
    (cond("monetary_score", "in", [5]), True),
])
def test_each_field_and_operator(rule, expected):
    assert hit(rule) is expected


def test_missing_values_match_only_exists_false():
    newcomer = account(tier_name=None, member_until=None, last_order_at=None, locale=None, orders_count=0, lifetime_spend_minor=0,
                       bought_skus=set(), bought_categories=set())
    assert not hit(cond("tier", "!=", "Gold"), newcomer)
    assert not hit(cond("tier", "not_in", ["Gold"]), newcomer)
    assert hit(cond("tier", "exists", False), newcomer)
    assert hit({"not": cond("tier", "=", "Gold")}, newcomer)
    assert not hit(cond("days_since_last_order", ">", 0), newcomer)
    assert hit(cond("days_since_last_order", "exists", False), newcomer)
    assert not hit(cond("locale", "!=", "en"), newcomer)
    assert hit(cond("bought_sku", "exists", False), newcomer)
    assert hit(cond("member", "=", False), newcomer)
    assert hit(cond("rfm_score", "=", "111"), newcomer)


def test_redacted_customers_never_match_consent_or_email_domain():
    redacted = account()
    redacted.erase_personal_data()
    redacted.marketing_consent = True  # even if something set it again
    assert not hit(cond("marketing_consent", "=", True), redacted)
    assert hit(cond("marketing_consent", "=", False), redacted)
    assert not hit(cond("email_domain", "exists"), redacted)
    assert hit(cond("tier", "=", "Gold"), redacted)  # the anonymous totals still count


def test_nesting_all_any_not():
    rules = {"all": [cond("tier", "in", ["Gold", "Silver"]),
                     {"any": [cond("days_since_last_order", ">=", 90), cond("bought_category", "contains", "Coffee")]},
                     {"not": cond("marketing_consent", "=", False)}]}
    assert hit(rules)
    assert not hit(rules, account(bought_categories={"Tea"}))
    assert hit(rules, account(bought_categories={"Tea"}, last_order_at=NOW - timedelta(days=90)))
    assert not hit({"not": rules})
    assert hit({"any": [{"all": [cond("member", "=", False)]}, {"not": {"not": cond("orders_count", ">", 3)}}]})


def test_rfm_thresholds():
    def scores(days, orders, spend_major, tiers=None):
        acct = account(last_order_at=None if days is None else NOW - timedelta(days=days), orders_count=orders,
                       lifetime_spend_minor=spend_major * 100)
        result = rfm_scores(acct, TODAY, 2, tiers) if tiers is not None else rfm_scores(acct, TODAY, 2)
        return result.code

    assert scores(0, 10, 4000) == "555"
    assert scores(30, 9, 3999) == "544"
    assert scores(31, 5, 2000) == "444"
    assert scores(90, 4, 1999) == "433"
    assert scores(91, 3, 1000) == "333"
    assert scores(181, 2, 999) == "222"
    assert scores(365, 2, 500) == "222"
    assert scores(366, 1, 499) == "111"
    assert scores(None, 0, 0) == "111"
    # The monetary base is the lowest positive tier threshold of the shop.
    tiers = (Tier("Base", Decimal(0), Decimal(0)), Tier("VIP", Decimal(10000), Decimal(10)))
    assert scores(0, 1, 20000, tiers) == "515"
    assert scores(0, 1, 9999, tiers) == "513"
    assert hit(cond("monetary_score", "=", 3), account(lifetime_spend_minor=999_900), tiers=tiers)
    # zero-decimal currencies: the exponent converts minor units
    assert hit(cond("lifetime_spend", "=", 612000), exponent=0)


@pytest.mark.parametrize("document,path", [
    ({"rules": {"all": [cond("tier", "=", "Gold"), cond("tier", "<", 3)]}}, "rules.all.1.op"),
    ({"rules": {"all": [cond("tier", "=", "Gold"), {"any": [cond("size", "=", 3)]}]}}, "rules.all.1.any.0.field"),
    ({"rules": cond("points_balance", ">", "many")}, "rules.value"),
    ({"rules": cond("points_balance", ">", True)}, "rules.value"),
    ({"rules": cond("tier", "in", [])}, "rules.value"),
    ({"rules": cond("tier", "in", "Gold")}, "rules.value"),
    ({"rules": cond("tier", "=", 5)}, "rules.value"),
    ({"rules": cond("rfm_score", "=", "565")}, "rules.value"),
    ({"rules": cond("recency_score", "=", 6)}, "rules.value"),
    ({"rules": cond("marketing_consent", "=", "yes")}, "rules.value"),
    ({"rules": cond("bought_sku", "=", "X")}, "rules.op"),
    ({"rules": cond("bought_sku", "contains", 5)}, "rules.value"),
    ({"rules": cond("tier", "exists", "yes")}, "rules.value"),
    ({"rules": {"field": "tier", "op": "like", "value": "G"}}, "rules.op"),
    ({"rules": {"field": "tier", "value": "G"}}, "rules.op"),
    ({"rules": {**cond("tier", "=", "G"), "extra": 1}}, "rules.extra"),
    ({"rules": {"all": []}}, "rules.all"),
    ({"rules": {"not": [cond("tier", "=", "G")]}}, "rules.not"),
    ({"rules": {"every": []}}, "rules"),
    ({"rules": {"not": {"any": [{"all": [{"not": {"all": [cond("tier", "=", "G")]}}]}]}}}, "rules.not.any.0.all.0.not.all.0"),
    ({"rules": {"all": [cond("orders_count", ">", n) for n in range(51)]}}, "rules"),
    ({}, "rules"),
    ({"rules": cond("tier", "=", "G"), "owner": "x"}, "owner"),
])
def test_validation_errors_name_the_path(document, path):
    with pytest.raises(SegmentInvalid) as caught:
        parse_segment(document)
    assert caught.value.path == path, str(caught.value)


def test_limits_allow_five_levels_and_fifty_conditions():
    parse_segment({"rules": {"not": {"any": [{"all": [{"not": cond("tier", "=", "G")}]}]}}})
    parse_segment({"name": "many", "rules": {"all": [cond("orders_count", ">", n) for n in range(50)]}})


def test_add_capped_keeps_the_newest_values():
    known = {f"old-{n:03d}" for n in range(BOUGHT_CAP)}
    result = add_capped(known, ["new-1", None, "", "new-2", "new-1"])
    assert len(result) == BOUGHT_CAP and {"new-1", "new-2"} <= result
    assert add_capped(set(), [f"x{n}" for n in range(BOUGHT_CAP + 5)]) == {f"x{n}" for n in range(BOUGHT_CAP)}


def test_a_paid_order_records_skus_and_categories():
    acct = Account("s", "c_1", created_at=NOW)
    order = Order("o1", CustomerFacts(email="a@example.com"), "UAH", (
        OrderLine("1", 1, 10000, sku="BEAN-1KG", categories=("Coffee", "Beans")),
        OrderLine("2", 1, 5000, sku=None, categories=("Coffee",))), paid=True, paid_at=NOW)
    apply_order(order, OrderRecord(shop_id="s", order_id="o1"), acct, Program(ProgramRules(), 2, "Europe/Kyiv"), NOW)
    assert acct.bought_skus == {"BEAN-1KG"} and acct.bought_categories == {"Coffee", "Beans"}


def test_member_is_a_running_paid_membership_not_a_tier():
    assert not hit(cond("member", "=", True), account(member_until=None))
    assert not hit(cond("member", "=", True), account(member_until=NOW - timedelta(days=1)))
    assert hit(cond("member", "=", True), account(member_until=NOW + timedelta(hours=1), tier_name=None))
