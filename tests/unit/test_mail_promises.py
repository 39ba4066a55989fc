"""Every promise in a mail is true (issue 16, items 3 and 4): money only where the balance can be
paid with, the missing points otherwise; the offer's free shipping and minimum order in every locale."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.loyalty.account import Lot
from chalicelib.mail.contexts import SAMPLE_NOW, sample_account, sample_data, sample_links, sample_shop
from chalicelib.mail.formatting import formatter
from chalicelib.mail.rendering import LOCALES, TemplateSet, build_context

EMAILS = TemplateSet.default()


def _render(template: str, locale: str, balance: int, data: dict | None = None, min_redeem: int = 100):
    shop = sample_shop(locale)
    shop = replace(shop, program=replace(shop.program, min_redeem_points=min_redeem))
    account = sample_account(locale, shop, template)
    account.lots = [Lot("lot-1", balance, SAMPLE_NOW - timedelta(days=300), SAMPLE_NOW + timedelta(days=20), "order")]
    account.points_balance = balance
    context = build_context(template, shop=shop, account=account,
                            data=sample_data(template, locale, shop) if data is None else data,
                            links=sample_links(locale), now=SAMPLE_NOW)
    fmt = formatter(locale, shop.currency, shop.currency_exponent, shop.timezone)
    return EMAILS.render(template, locale, context), fmt, shop


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", ["special_day", "winback", "points_expiring"])
def test_a_balance_below_the_minimum_is_never_given_a_money_value(template, locale):
    data = {"points": 61, "expires_at": SAMPLE_NOW + timedelta(days=20)} if template == "points_expiring" else None
    email, fmt, shop = _render(template, locale, 61, data)
    value = fmt.money(shop.program.redemption_value_minor(61, shop.currency_exponent))
    for part in (email.html, email.text, email.preheader):
        assert value not in part, f"{template}/{locale} gives 61 points a money value"
    assert fmt.points(39) in email.text and fmt.points(39) in email.html  # how many are missing
    if template == "points_expiring":  # and by when, to use them before they lapse
        assert " ".join(fmt.date(SAMPLE_NOW + timedelta(days=20)).split()) in email.preheader


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", ["special_day", "winback", "points_expiring"])
def test_a_redeemable_balance_says_what_it_is_worth(template, locale):
    data = {"points": 400, "expires_at": SAMPLE_NOW + timedelta(days=20)} if template == "points_expiring" else None
    email, fmt, shop = _render(template, locale, 400, data)
    value = fmt.money(shop.program.redemption_value_minor(400, shop.currency_exponent))
    assert value in email.html and value in email.text


def _offer_words(locale: str) -> str:
    from chalicelib.mail.catalog import catalog

    return catalog(locale)["common.offer_discount_shipping"].split("{discount}")[-1].strip()


@pytest.mark.parametrize("locale", LOCALES)
def test_a_winback_code_with_free_shipping_and_a_minimum_says_both(locale):
    data = {"code": "DAY-ABCDE-FGHIJ-KLMNO", "discount_percent": "15", "free_shipping": True,
            "min_order_minor": 5_000, "code_expires_at": SAMPLE_NOW + timedelta(days=5)}
    email, fmt, _ = _render("winback", locale, 400, data)
    for part in (email.html, email.text):
        assert _offer_words(locale) in part
        assert fmt.money(5_000) in part
        assert "DAY-ABCDE-FGHIJ-KLMNO" in part
