"""What a customer sees behind a tracked link's page: the bonus-points claim page and the page of
a link that has expired, in words that agree with the number and in the reader's language."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.mail import tokens
from chalicelib.services.campaigns import links
from tests.support.mail import NOW, customer_id, deliver_order

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def shop(client):
    from tests.support.shops import register_shop

    return register_shop(client, "pages-shop", "shopify", default_locale="uk")


def _customer(deps, shop, email: str, locale: str) -> str:
    deliver_order(deps, shop, email, f"order-{email}", locale=locale)
    return customer_id(deps, shop.shop_id, email)


def _claim_token(deps, shop, customer: str, points: int, *, expires_in: timedelta = timedelta(days=3)) -> str:
    return deps.tokens.make_tracked_link(tokens.TrackedLink(
        shop_id=shop.shop_id, customer_id=customer, send_key=f"campaign:gift-{points}:{customer}",
        subject=f"campaign:gift-{points}", url="https://shop.example/", expires_at=NOW + expires_in,
        reward={"points": points, "reward_id": f"campaign:gift-{points}"}))


def _heading(page: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", page).group(1)


def _paragraph(page: str) -> str:
    return re.search(r"<p>(.*?)</p>", page).group(1)


@pytest.mark.parametrize("locale, points, heading", [
    ("uk", 1, "Отримайте 1 бонусний бал"),
    ("uk", 3, "Отримайте 3 бонусні бали"),
    ("uk", 21, "Отримайте 21 бонусний бал"),
    ("uk", 30, "Отримайте 30 бонусних балів"),
    ("ru", 1, "Получите 1 бонусный балл"),
    ("ru", 22, "Получите 22 бонусных балла"),
    ("ru", 25, "Получите 25 бонусных баллов"),
    ("en", 1, "Claim 1 bonus point"),
    ("en", 30, "Claim 30 bonus points"),
    ("de", 1, "1 Bonuspunkt abholen"),
    ("de", 30, "30 Bonuspunkte abholen"),
])
def test_the_claim_page_says_the_number_of_points_in_words_that_agree_with_it(deps, shop, locale, points, heading):
    customer = _customer(deps, shop, f"{locale}-{points}@example.com", locale)
    at_noon = replace(deps, clock=lambda: NOW)

    answer = links.follow_link(at_noon, _claim_token(deps, shop, customer, points))

    assert answer.status == 200
    assert _heading(answer.body) == heading


def test_the_claimed_page_names_the_points_and_the_balance_with_their_unit(deps, shop):
    customer = _customer(deps, shop, "olena@example.com", "uk")
    at_noon = replace(deps, clock=lambda: NOW)
    balance = deps.repos.loyalty(shop.shop_id).load_profile(customer).points_balance

    claimed = links.claim_reward(at_noon, _claim_token(deps, shop, customer, 1))
    again = links.claim_reward(at_noon, _claim_token(deps, shop, customer, 1))

    assert claimed.status == 200
    assert _heading(claimed.body) == "Нараховано на ваш рахунок: 1 бонусний бал"
    assert _paragraph(claimed.body) == f"Тепер на вашому рахунку {balance + 1} балів."
    assert _paragraph(again.body) == f"Кожен подарунок можна отримати один раз. На вашому рахунку {balance + 1} балів."


def test_an_expired_link_speaks_the_readers_language_not_only_the_shops(deps, shop):
    customer = _customer(deps, shop, "jane@example.com", "en")
    a_week_later = replace(deps, clock=lambda: NOW + timedelta(days=7))
    token = _claim_token(deps, shop, customer, 30)
    balance = deps.repos.loyalty(shop.shop_id).load_profile(customer).points_balance

    page = links.follow_link(a_week_later, token, accept_language="en-GB,en;q=0.9")
    shop_language = links.follow_link(a_week_later, token)
    posted = links.claim_reward(a_week_later, token, accept_language="de-DE")

    assert (page.status, _heading(page.body)) == (404, "This link has expired")
    assert (shop_language.status, _heading(shop_language.body)) == (404, "Термін дії посилання минув")
    assert (posted.status, _heading(posted.body)) == (404, "Dieser Link ist abgelaufen")
    assert deps.repos.loyalty(shop.shop_id).load_profile(customer).points_balance == balance  # nothing granted
