"""The ``recommendations`` block of the post-purchase, win-back and flow e-mails: every locale, prices
in the shop's currency (Babel), pictures and links; absent, not empty, when nothing qualifies."""
from __future__ import annotations

import pytest
from chalicelib.mail.base import ContextError
from chalicelib.mail.contexts import (
    SAMPLE_NOW,
    build_context,
    sample_account,
    sample_data,
    sample_links,
    sample_recommendations,
    sample_shop,
)
from chalicelib.mail.formatting import formatter
from chalicelib.mail.rendering import LOCALES, TemplateSet

HEADINGS = {"en": "Picked for you", "de": "Für Sie ausgewählt", "ru": "Подобрали для вас", "uk": "Дібрали для вас"}
REORDER = {"en": "Time to reorder", "de": "Zeit für Nachschub", "ru": "Пора пополнить запас",
           "uk": "Час поповнити запас"}
EMAILS = TemplateSet.default()


def render(template: str, locale: str, **changes):
    shop = sample_shop(locale)
    data = {**sample_data(template, locale, shop), **changes}
    data = {key: value for key, value in data.items() if value is not None}
    context = build_context(template, shop=shop, account=sample_account(locale, shop, template), data=data,
                            links=sample_links(locale), now=SAMPLE_NOW)
    return shop, EMAILS.render(template, locale, context)


@pytest.mark.parametrize("template", ["winback", "post_purchase", "flow_message"])
@pytest.mark.parametrize("locale", LOCALES)
def test_the_block_speaks_the_locale_and_the_shops_currency(template, locale):
    shop = sample_shop(locale)
    picks = sample_recommendations(locale, shop)
    _, email = render(template, locale, recommendations=picks)
    # Babel's pattern for the locale with the shop's currency (UAH in en/ru/uk, EUR in de).
    price = formatter(locale, shop.currency, shop.currency_exponent, shop.timezone).money(picks[0]["price_minor"])
    assert ("€" if shop.currency == "EUR" else "₴") in price
    for part in (email.text, email.html):
        assert HEADINGS[locale] in part and REORDER[locale] in part and picks[1]["title"] in part
    assert price in email.text
    assert f'src="{picks[0]["image_url"]}"' in email.html and f'href="{picks[0]["url"]}"' in email.html


@pytest.mark.parametrize("template", ["winback", "post_purchase", "flow_message"])
def test_no_recommendations_no_block(template):
    _, email = render(template, "de", recommendations=None)
    assert HEADINGS["de"] not in email.text and HEADINGS["de"] not in email.html
    _, email = render(template, "de", recommendations=[])
    assert HEADINGS["de"] not in email.html


@pytest.mark.parametrize("bad", [[{"title": "x", "url": "javascript:alert(1)"}],
                                 [{"title": "x", "url": "https://shop.example/p", "image_url": "data:image/png,1"}],
                                 [{"title": "", "url": "https://shop.example/p"}],
                                 [{"title": "x", "url": "https://shop.example/p", "price_minor": 1.5}],
                                 [{"title": "x", "url": "https://shop.example/p", "reason": "because"}],
                                 "not a list"])
def test_hostile_recommendations_are_refused_naming_the_field(bad):
    with pytest.raises(ContextError) as refused:
        render("winback", "en", recommendations=bad)
    assert "recommendations" in str(refused.value)
