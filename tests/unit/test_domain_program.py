"""Domain rules of referrals, membership, achievements, the sign-up and review bonuses,
and the cashback wallet: plain dataclasses, no I/O."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.loyalty import achievements
from chalicelib.domain.loyalty import membership
from chalicelib.domain.loyalty import referrals
from chalicelib.domain.loyalty.account import Account, InsufficientPoints
from chalicelib.domain.loyalty.rules import Program, apply_order
from chalicelib.domain.loyalty.order_record import OrderRecord
from chalicelib.domain.platform_events import CustomerFacts, Order, OrderLine, ShippingAddress
from chalicelib.domain.loyalty.program import (AchievementRule, MembershipRules, ProgramRules, ReferralRules,
                                             ReviewRules, Tier)
from chalicelib.domain.loyalty.reviews import Review, decide

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
RULES = ProgramRules(cashback_percent=Decimal("2"), signup_bonus_points=25,
                     referral=ReferralRules(reward_points=200, monthly_cap=2),
                     review=ReviewRules(bonus_points=30, min_chars=50),
                     membership=MembershipRules(sku="CLUB", period="monthly", extra_cashback_percent=Decimal("3")),
                     achievements=(AchievementRule("orders", 10, 1), AchievementRule("orders", 50, 5),
                                   AchievementRule("reviews", 5, 1), AchievementRule("tier", 40, tier="Gold")))


def account(customer_id="c_b", **values) -> Account:
    return Account("s", customer_id, created_at=NOW, lots=[], **values)


def order(order_id="o-1", lines=(("GRINDER", 100_000, 1),), email="b@shop.example", paid_at=NOW, **extra) -> Order:
    return Order(order_id, CustomerFacts(email=email, marketing_consent=True), "UAH",
                 tuple(OrderLine(str(i), qty, paid, sku=sku) for i, (sku, paid, qty) in enumerate(lines, 1)),
                 paid=True, paid_at=paid_at, **extra)


# -- e-mail folding and addresses -------------------------------------------------------
@pytest.mark.parametrize("spelling", ["anna.koval@gmail.com", "AnnaKoval@gmail.com", "a.n.n.a.koval+promo@gmail.com",
                                      "annakoval@googlemail.com", " ANNA.KOVAL+x+y@GoogleMail.com "])
def test_gmail_spellings_fold_to_one_mailbox(spelling):
    assert referrals.fold_email(spelling) == "annakoval@gmail.com"


def test_dots_count_outside_gmail_and_plus_tags_are_dropped_everywhere():
    assert referrals.fold_email("anna.koval@shop.example") != referrals.fold_email("annakoval@shop.example")
    assert referrals.fold_email("anna+news@shop.example") == "anna@shop.example"


@given(st.from_regex(r"[a-z][a-z0-9.]{0,15}", fullmatch=True), st.from_regex(r"[a-z0-9]{0,8}", fullmatch=True),
       st.sampled_from(["gmail.com", "googlemail.com", "shop.example"]))
def test_folding_is_idempotent_and_ignores_tags(local, tag, domain):
    folded = referrals.fold_email(f"{local}+{tag}@{domain}")
    assert referrals.fold_email(folded) == folded
    assert folded == referrals.fold_email(f"{local}@{domain}".upper())


def test_addresses_match_whatever_the_case_and_spacing():
    one = ShippingAddress("Khreshchatyk 22", "Kyiv", "01001", "UA")
    same = ShippingAddress("  khreshchatyk\t 22 ", "KYIV", "01001 ", "ua")
    assert referrals.address_key(one) == referrals.address_key(same)
    assert referrals.address_key(one) != referrals.address_key(ShippingAddress("Khreshchatyk 24", "Kyiv", "01001", "UA"))
    assert referrals.address_key(None) is None and referrals.address_key(ShippingAddress()) is None


# -- referral judging and settling --------------------------------------------------------
def _judge(referee=None, email="b@shop.example", address=None, was_customer=False, referrer=None, count=0,
           rules=RULES):
    referrer = referrer or account("c_a", email="anna.koval@gmail.com", address_keys={"k-home"})
    return referrals.judge(referee=referee or account(), referee_email=email, referee_address=address,
                           was_customer=was_customer, referrer=referrer, accepted_this_month=count, rules=rules)


def test_referral_fraud_checks_in_order():
    assert _judge() is None
    assert _judge(email="annakoval+x@googlemail.com") == referrals.SELF_REFERRAL
    assert _judge(referee=account("c_a")) == referrals.SELF_REFERRAL
    assert _judge(address="k-home") == referrals.SAME_ADDRESS
    assert _judge(was_customer=True) == referrals.EXISTING_CUSTOMER
    assert _judge(referee=account(referred_by="c_x")) == referrals.ALREADY_REFERRED
    assert _judge(count=1) is None and _judge(count=2) == referrals.MONTHLY_CAP
    assert _judge(rules=ProgramRules(referral=ReferralRules(enabled=False))) == referrals.PROGRAM_OFF


def test_referral_code_found_in_discount_codes_before_other_places():
    assert referrals.referral_code_of(order(discount_codes=("SUMMER", "ref-abcde-fghjk"))) == "REF-ABCDE-FGHJK"
    assert referrals.referral_code_of(order(referral_code="REF-X")) == "REF-X"
    assert referrals.referral_code_of(order(referral_code="FRIEND")) is None


def _pending(rules=RULES):
    referee = account()
    return referrals.open_referral(referee=referee, referrer_id="c_a", code="REF-X", order_id="o-1", reason=None,
                                   paid_at=NOW, now=NOW, rules=rules, exponent=2), referee


def test_reward_waits_for_the_return_window_then_is_given_once():
    referral, referee = _pending()
    assert referee.referred_by == "c_a" and referral.due_on == date(2026, 12, 9)
    record = OrderRecord("s", "o-1", status="paid")
    referrer = account("c_a")
    assert referrals.settle(referral, record, referrer, RULES, date(2026, 12, 8), NOW) is None
    assert referrals.settle(referral, record, referrer, RULES, date(2026, 12, 9), NOW) == \
        {"points": 200, "cashback_minor": 0}
    assert referrer.points_balance == 200 and referral.status == referrals.REWARDED
    assert referrals.settle(referral, record, referrer, RULES, date(2026, 12, 10), NOW) is None


def test_a_cancelled_or_fully_refunded_order_voids_the_referral():
    for status in ("cancelled", "open"):
        referral, _ = _pending()
        referrer = account("c_a")
        assert referrals.settle(referral, OrderRecord("s", "o-1", status=status), referrer, RULES,
                                date(2027, 1, 1), NOW) == {}
        assert referral.status == referrals.VOID and referrer.points_balance == 0 and not referrer.new_entries


def test_money_reward_goes_to_the_cashback_wallet():
    rules = ProgramRules(referral=ReferralRules(reward_points=0, reward_money=Decimal("50")))
    referral, _ = _pending(rules)
    referrer = account("c_a")
    assert referrals.settle(referral, OrderRecord("s", "o-1", status="paid"), referrer, rules, date(2027, 1, 1),
                            NOW) == {"points": 0, "cashback_minor": 5000}
    assert referrer.cashback_minor == 5000 and referrer.new_entries[-1].cashback_minor == 5000


# -- membership ------------------------------------------------------------------------------
def test_membership_extends_from_its_end_and_members_earn_extra_cashback():
    customer = account()
    program = Program(RULES, 2, "Europe/Kyiv")
    first = apply_order(order("m-1", (("CLUB", 10_000, 2),)), OrderRecord("s", "m-1"), customer, program, NOW)
    assert customer.member_until == datetime(2027, 1, 25, 9, 0, tzinfo=timezone.utc)  # 2 × monthly
    assert len(first.new_codes) == 1 and first.new_codes[0].free_shipping
    assert first.cashback_minor == 200  # not yet a member when it was paid
    later = NOW + timedelta(days=10)
    apply_order(order("m-2", (("CLUB", 5_000, 1),), paid_at=later), OrderRecord("s", "m-2"), customer, program, later)
    assert customer.member_until == datetime(2027, 2, 25, 9, 0, tzinfo=timezone.utc)  # from the end, not from now
    outcome = apply_order(order("o-3", paid_at=later), OrderRecord("s", "o-3"), customer, program, later)
    assert outcome.cashback_minor == 5_000  # 2 % + 3 % of 1,000.00
    assert customer.member_remind_on == date(2027, 2, 18)


def test_refunding_a_membership_order_takes_back_its_months_and_ends_an_only_one():
    customer = account()
    program = Program(RULES, 2, "Europe/Kyiv")
    records = {oid: OrderRecord("s", oid) for oid in ("m-1", "m-2")}
    apply_order(order("m-1", (("CLUB", 10_000, 1),)), records["m-1"], customer, program, NOW)
    apply_order(order("m-2", (("CLUB", 10_000, 1),)), records["m-2"], customer, program, NOW)
    assert customer.member_until == datetime(2027, 1, 25, 9, 0, tzinfo=timezone.utc)
    refunded = order("m-2", (("CLUB", 10_000, 1),), cancelled=True)
    apply_order(refunded, records["m-2"], customer, program, NOW + timedelta(days=1))
    assert customer.member_until == datetime(2026, 12, 25, 9, 0, tzinfo=timezone.utc) and customer.is_member(NOW)
    apply_order(order("m-1", (("CLUB", 10_000, 1),), fully_refunded=True), records["m-1"], customer, program,
                NOW + timedelta(days=2))
    assert not customer.is_member(NOW + timedelta(days=2)) and customer.member_shipping_code is None
    assert [e.kind for e in customer.new_entries].count("membership_end") == 2


def test_reminder_once_per_membership_end():
    customer = account(member_until=NOW + timedelta(days=5))
    customer.member_remind_on = membership.reminder_day(customer, RULES)
    assert membership.remind(customer, RULES, NOW - timedelta(days=3)) is None
    data = membership.remind(customer, RULES, NOW)
    assert data["period"] == "monthly" and customer.member_remind_on is None
    assert membership.remind(customer, RULES, NOW + timedelta(hours=1)) is None


# -- achievements, sign-up and reviews -------------------------------------------------------
def test_achievements_are_given_once_each_with_points():
    customer = account(orders_count=1, tier_name="Gold")
    won = achievements.award(customer, RULES, NOW)
    assert sorted(w["achievement_id"] for w in won) == ["orders:1", "tier:Gold"]
    assert customer.points_balance == 50
    assert achievements.award(customer, RULES, NOW) == []
    customer.orders_count = 5
    assert [w["points"] for w in achievements.award(customer, RULES, NOW)] == [50]


def test_signup_bonus_needs_consent_and_a_first_appearance_and_is_given_once():
    assert achievements.grant_signup_bonus(account(marketing_consent=False), RULES, True, NOW) is None
    assert achievements.grant_signup_bonus(account(marketing_consent=True), RULES, False, NOW) is None
    customer = account(marketing_consent=True)
    assert achievements.grant_signup_bonus(customer, RULES, True, NOW) == {"bonus_points": 25}
    assert achievements.grant_signup_bonus(customer, RULES, True, NOW) is None and customer.points_balance == 25


def test_review_bonus_needs_an_extended_review_and_removal_takes_it_back():
    customer = account()
    assert decide(Review("r1", "product:1", "approved", 49), None, customer, RULES, NOW) == \
        (None, "shorter_than_50_characters")
    bonus, outcome = decide(Review("r1", "product:1", "approved", 50), None, customer, RULES, NOW)
    assert outcome == "rewarded" and customer.points_balance == 30 and customer.reviews_count == 1
    assert decide(Review("r2", "product:1", "approved", 500), bonus, customer, RULES, NOW)[1] == "already_rewarded"
    assert decide(Review("r2", "product:1", "removed", 0), bonus, customer, RULES, NOW)[1] == "nothing_to_take_back"
    held, outcome = decide(Review("r1", "product:1", "removed", 0), bonus, customer, RULES, NOW)
    assert outcome == "taken_back" and customer.points_balance == 0 and held.status == "removed"


# -- the wallet -----------------------------------------------------------------------------
def test_the_wallet_never_goes_negative():
    customer = account(cashback_minor=1_000)
    customer.debit_cashback(600, kind="withdrawal", cause="withdrawal:1", now=NOW)
    with pytest.raises(InsufficientPoints):
        customer.debit_cashback(401, kind="withdrawal", cause="withdrawal:2", now=NOW)
    customer.return_cashback(600, kind="withdrawal_returned", cause="withdrawal-reject:1", now=NOW)
    assert customer.cashback_minor == 1_000 and sum(e.cashback_minor for e in customer.new_entries) == 0


@given(st.lists(st.integers(min_value=1, max_value=5_000), max_size=20))
def test_any_sequence_of_debits_keeps_the_wallet_at_or_above_zero(amounts):
    customer = account(cashback_minor=5_000)
    for amount in amounts:
        try:
            customer.debit_cashback(amount, kind="withdrawal", cause=f"w:{len(customer.new_entries)}", now=NOW)
        except InsufficientPoints:
            pass
        assert customer.cashback_minor >= 0
    assert customer.cashback_minor == 5_000 + sum(e.cashback_minor for e in customer.new_entries)


def test_a_late_delivered_order_is_never_due_in_the_past():
    referee = account()
    referral = referrals.open_referral(referee=referee, referrer_id="c_a", code="REF-X", order_id="o-1", reason=None,
                                       paid_at=NOW - timedelta(days=30), now=NOW, rules=RULES, exponent=2)
    assert referral.due_on == NOW.date()
    member = account()
    membership.extend(member, order("m-1", (("CLUB", 10_000, 1),)), RULES, NOW - timedelta(days=28), NOW)
    assert member.member_remind_on == NOW.date()


@pytest.mark.parametrize("before, after, climbs", [
    (None, "Silver", True), ("Silver", "Gold", True), (None, "Gold", True),
    ("Silver", "Silver", False), ("Gold", "Silver", False), ("Silver", None, False), (None, None, False),
    ("Bronze", "Silver", False),  # a tier the program no longer has: maybe only renamed, no news
])
def test_climbs_goes_by_the_ladder_not_the_names(before, after, climbs):
    # Listed out of order: the ladder is by the spend each tier needs.
    rules = ProgramRules(tiers=(Tier("Gold", Decimal("5000"), Decimal("7")),
                                Tier("Silver", Decimal("2000"), Decimal("5"))))
    assert rules.climbs(before, after) is climbs
