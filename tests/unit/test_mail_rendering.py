"""E-mail templates: every template × locale renders, errors are located, compile runs once."""
from __future__ import annotations

import copy
import random
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from babel.numbers import format_currency, get_currency_symbol

from chalicelib.domain.loyalty.account import Account, Lot
from chalicelib.domain.money import from_minor
from chalicelib.mail import compiler
from chalicelib.mail.base import resolve_locale
from chalicelib.mail.catalog import check_catalogs
from chalicelib.mail.contexts import SAMPLE_NOW, sample_account, sample_data, sample_links, sample_shop
from chalicelib.mail.formatting import formatter, ukrainian_vocative
from chalicelib.mail.rendering import (
    LOCALES, MARKETING_TEMPLATES, TEMPLATES, ContextError, RenderedEmail, TemplateError, TemplateSet, build_context,
    render_all, sample_context,
)

NBSP = "\xa0"
NNBSP = "\u202f"  # Babel puts a narrow no-break space before "р." / "г."
UNRENDERED = re.compile(r"\{\{|\{%|\{#|\}\}|%\}")


def _fmt(context: dict):
    shop = context["shop"]
    return formatter(context["locale"], shop["currency"], shop["currency_exponent"], shop["timezone"])


def _key_values(template: str, context: dict) -> list[str]:
    """What the plain text of each template must show, formatted for the locale."""
    f = _fmt(context)
    if template == "post_purchase":
        return [f.points(context["points_earned"]), f.money(context["order"]["total_minor"]),
                f.money(context["order"]["lines"][0]["total_minor"]), context["order"]["name"]]
    if template == "points_expiring":
        return [f.points(context["expiring"]["points"]), f.date(context["expiring"]["date"])]
    if template == "special_day":
        return [context["special"]["title"], context["offer"]["code"], f.money(context["special"]["min_order_minor"])]
    if template == "reward_code":
        return [context["offer"]["code"], f.money(context["offer"]["value_minor"])]
    if template == "tier_upgrade":
        return [context["new_tier"]["name"], f.percent(context["new_tier"]["discount_percent"])]
    if template == "referral_reward":
        return [f.points(context["referral"]["points"]), context["referral"]["friend_first_name"]]
    if template == "welcome":
        return [f.points(context["bonus_points"]), f.points(context["program"]["min_redeem_points"])]
    if template == "birthday":
        return [f.points(context["bonus_points"]), context["offer"]["code"]]
    if template == "winback":
        return [f.points(context["account"]["points_balance"]), context["offer"]["code"]]
    if template == "tier_at_risk":
        return [context["at_risk"]["tier"], f.money(context["at_risk"]["spend_needed_minor"]),
                f.date(context["at_risk"]["by"]), context["at_risk"]["lower_tier"]]
    if template == "achievement":
        return [f.points(context["achievement"]["points"]), f.points(context["account"]["points_balance"])]
    if template == "membership_reminder":
        return [f.date(context["membership"]["until"]), f.percent(context["membership"]["extra_cashback_percent"])]
    if template == "shipment_update":
        return [context["shipment"]["carrier"], context["shipment"]["tracking"][0]["number"],
                context["shipment"]["tracking"][0]["url"], f.points(context["points_earned"])]
    if template == "flow_message":
        return [context["flow"]["heading"], context["flow"]["url"], context["offer"]["code"],
                context["flow"]["items"][0]["title"]]
    if template == "personal_offer":  # the offer's own terms: name, products, code, discount, minimum, window
        return [context["personal"]["name"], context["personal"]["products"][0]["title"],
                context["personal"]["products"][1]["title"], context["offer"]["code"],
                f.percent(context["offer"]["discount_percent"]), f.money(context["offer"]["min_order_minor"]),
                f.date(context["offer"]["expires_at"]), context["personal"]["url"]]
    raise AssertionError(template)


@pytest.fixture(scope="module")
def emails() -> TemplateSet:
    return TemplateSet.default()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_in_every_locale(emails, template, locale):
    context = sample_context(template, locale)
    email = emails.render(template, locale, context)
    assert isinstance(email, RenderedEmail)
    assert email.subject.strip() and email.preheader.strip() and email.text.strip()
    assert "\n" not in email.subject and len(email.subject) < 120
    for part in (email.subject, email.preheader, email.html, email.text):
        assert not UNRENDERED.search(part), UNRENDERED.search(part)
        assert "None" not in part
    assert f'lang="{locale}"' in email.html and email.subject in email.html  # <title>
    assert email.preheader in email.html
    for value in _key_values(template, context):
        assert value in email.text, (value, email.text)
    assert "<" not in email.text.replace("<script>", "")  # plain text, not HTML
    links = context["links"]
    assert links["preferences"] in email.html and links["preferences"] in email.text
    if template in MARKETING_TEMPLATES:
        assert links["unsubscribe"] in email.html and links["unsubscribe"] in email.text
    else:
        assert links["unsubscribe"] not in email.html and links["unsubscribe"] not in email.text


def test_marketing_and_transactional_split():
    assert set(TEMPLATES) == {"post_purchase", "points_expiring", "special_day", "tier_upgrade", "reward_code",
                              "referral_reward", "welcome", "birthday", "winback", "tier_at_risk", "achievement",
                              "membership_reminder", "shipment_update", "flow_message", "personal_offer"}
    assert MARKETING_TEMPLATES == {"special_day", "winback", "birthday", "points_expiring", "welcome",
                                   "tier_at_risk", "flow_message", "personal_offer"}
    assert LOCALES == ("en", "de", "ru", "uk")


def test_catalogs_have_the_same_keys_and_every_plural_form():
    assert check_catalogs() == []


def test_post_purchase_content(emails):
    context = sample_context("post_purchase", "uk")
    email = emails.render("post_purchase", "uk", context)
    assert email.subject == "Дякуємо за замовлення #1042! +189 балів на ваш рахунок"
    assert f"3{NBSP}799,00{NBSP}₴" in email.html  # order total
    assert "+189 балів" in email.html and f"1{NBSP}250 балів" in email.html
    assert f"+75,98{NBSP}₴ кешбеку зараховано" in email.text
    assert f"30 червня 2025{NNBSP}р. згорять 300 балів." in email.text  # nearest expiry, shop time zone
    assert "Ще 1" in email.text and "Gold" in email.text  # spend to the next tier
    assert "Вітаємо, Олено!" in email.text  # Ukrainian vocative
    assert context["order"]["status_url"] in email.html


def test_html_escapes_a_malicious_first_name(emails):
    context = sample_context("post_purchase", "en")
    context["customer"]["first_name"] = '<script>alert("x")</script>'
    email = emails.render("post_purchase", "en", context)
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in email.html
    assert '<script>alert("x")</script>' in email.text  # text/plain shows it as typed


def test_build_context_cleans_names_and_falls_back_to_a_plain_greeting(emails):
    shop = sample_shop("de")
    account = sample_account("de", shop)
    account.first_name = "   "
    context = build_context("post_purchase", shop=shop, account=account, data=sample_data("post_purchase", "de", shop),
                            links=sample_links("de"), now=SAMPLE_NOW)
    assert context["customer"]["first_name"] is None
    assert "Hallo! Ihre Zahlung" in emails.render("post_purchase", "de", context).text


def test_a_missing_variable_names_template_locale_and_line(emails):
    context = sample_context("post_purchase", "de")
    del context["order"]["status_url"]
    with pytest.raises(TemplateError) as caught:
        emails.render("post_purchase", "de", context)
    error = caught.value
    assert (error.template, error.locale, error.source) == ("post_purchase", "de", "text/post_purchase.txt")
    assert isinstance(error.line, int)
    assert "status_url" in error.message
    assert f"line {error.line}" in str(error) and "post_purchase" in str(error) and "de" in str(error)


def test_a_missing_variable_in_the_mjml_points_at_the_mjml_line(emails):
    source = "<mj-section>\n  <mj-column>\n    <mj-text>Hi</mj-text>\n    <mj-text>{{ order.coupon }}</mj-text>\n" \
             "  </mj-column>\n</mj-section>\n"
    overridden = emails.with_overrides({"post_purchase": ("t-missing", source)})
    with pytest.raises(TemplateError) as caught:
        overridden.render("post_purchase", "uk", sample_context("post_purchase", "uk"))
    assert caught.value.line == 4 and caught.value.source == "override post_purchase@t-missing"
    assert "coupon" in str(caught.value)


def test_none_where_a_value_is_shown_is_an_error_not_a_blank(emails):
    context = sample_context("post_purchase", "ru")
    context["account"]["tier_progress"] = None
    with pytest.raises(TemplateError) as caught:
        emails.render("post_purchase", "ru", context)
    assert caught.value.source == "partials/balance.mjml" and isinstance(caught.value.line, int)


@pytest.mark.parametrize("source, line, words", [
    ("<mj-section>\n  <mj-column>\n    <mj-text>Hi\n  </mj-column>\n</mj-section>\n", 4, "opened on line 3"),
    ("<mj-section>\n<mj-column>\n<mj-textt>Hi</mj-textt>\n</mj-column>\n</mj-section>", 3, "unknown MJML tag"),
    ("<mj-section>\n<mj-column>\n<mj-text>{% if points_earned < 5 %}few{% endif %}</mj-text>\n"
     "</mj-column>\n</mj-section>", 3, "'<' inside"),
    ("<mj-section>\n<mj-column>\n<mj-button href=\"{{ links.shop ~ \"?x=1\" }}\">Go</mj-button>\n"
     "</mj-column>\n</mj-section>", 3, "single quotes"),
    ("<mj-section>\n<mj-column>\n\n<mj-text>{% if points_earned %}x</mj-text>\n</mj-column>\n</mj-section>", 4, "endif"),
    ("<mj-section>\n<mj-column>\n<mj-text>{{ t('post_purchase.no_such_text') }}</mj-text>\n</mj-column>\n"
     "</mj-section>", 3, "no_such_text"),
])
def test_a_broken_override_raises_with_template_locale_and_line(emails, source, line, words):
    overridden = emails.with_overrides({"post_purchase": (f"broken-{abs(hash(source)) % 10**8}", source)})
    with pytest.raises(TemplateError) as caught:
        overridden.render("post_purchase", "uk", sample_context("post_purchase", "uk"))
    error = caught.value
    assert (error.template, error.locale, error.line) == ("post_purchase", "uk", line)
    assert error.source.startswith("override post_purchase@broken-")
    assert words in str(error)


def test_override_validation(emails):
    with pytest.raises(TemplateError):
        emails.with_overrides({"newsletter": ("v1", "<mj-section></mj-section>")})
    with pytest.raises(TemplateError):
        emails.with_overrides({"welcome": ("default", "<mj-section></mj-section>")})
    document = ("<mjml><mj-body><mj-section><mj-column><mj-text>{{ shop.name }}</mj-text></mj-column></mj-section>"
                "</mj-body></mjml>")
    with pytest.raises(TemplateError, match="unsubscribe"):  # a marketing document without the footer
        emails.with_overrides({"welcome": ("doc-1", document)}).compile("welcome", "en")
    emails.with_overrides({"reward_code": ("doc-1", document)}).validate()  # transactional: fine


def test_an_override_keeps_layout_and_subject_and_its_text_says_what_its_html_says(emails):
    body = ("<mj-section><mj-column><mj-text mj-class=\"h1\">{{ greeting }} {{ t('post_purchase.title') }}</mj-text>"
            "<mj-text>{{ points(points_earned) }} · {{ money(order.total_minor) }}</mj-text></mj-column></mj-section>")
    overridden = emails.with_overrides({"post_purchase": ("shop-7", body)})
    assert overridden.version("post_purchase") == "shop-7" and overridden.version("welcome") == "default"
    context = sample_context("post_purchase", "uk")
    email = overridden.render("post_purchase", "uk", context)
    default = emails.render("post_purchase", "uk", context)
    assert "Вітаємо, Олено! Дякуємо за покупку!" in email.html
    assert f"189 балів · 3{NBSP}879,00{NBSP}₴" in email.html  # the order's total: items and shipping
    assert context["links"]["preferences"] in email.html and "Zerno" in email.html  # header and footer
    assert email.subject == default.subject and email.preheader == default.preheader
    # the text part is the override's (issue 16): not the default copy with lines the body dropped
    assert "Вітаємо, Олено! Дякуємо за покупку!" in email.text and f"189 балів · 3{NBSP}879,00{NBSP}₴" in email.text
    assert "кешбеку" in default.text and "кешбеку" not in email.text
    assert context["links"]["preferences"] in email.text


def test_mjml_compiles_once_per_template_version_and_locale(monkeypatch):
    calls = []
    real = compiler.compile_mjml
    monkeypatch.setattr(compiler, "compile_mjml", lambda source: calls.append(1) or real(source))
    compiler.clear_cache()
    emails = TemplateSet.default()
    uk = sample_context("welcome", "uk")
    for _ in range(5):
        emails.render("welcome", "uk", uk)
    assert len(calls) == 1
    emails.render("welcome", "de", sample_context("welcome", "de"))
    assert len(calls) == 2
    body = "<mj-section><mj-column><mj-text>{{ greeting }}</mj-text></mj-column></mj-section>"
    for _ in range(3):
        TemplateSet.default().with_overrides({"welcome": ("v1", body)}).render("welcome", "uk", uk)
    assert len(calls) == 3  # a new version compiles once, whichever TemplateSet renders it
    emails.with_overrides({"welcome": ("v2", body)}).render("welcome", "uk", uk)
    emails.render("welcome", "uk", uk)
    assert len(calls) == 4


@pytest.mark.parametrize("count, phrase", [
    (1, "1 бал"), (2, "2 бали"), (5, "5 балів"), (11, "11 балів"), (21, "21 бал"), (22, "22 бали"),
    (111, "111 балів"), (1250, f"1{NBSP}250 балів"),
])
def test_ukrainian_plural_forms(count, phrase):
    assert formatter("uk", "UAH", 2, "Europe/Kyiv").points(count) == phrase


def test_plural_forms_in_a_rendered_email(emails):
    context = sample_context("post_purchase", "uk")
    context["points_earned"] = 21
    assert "+21 бал на ваш рахунок" in emails.render("post_purchase", "uk", context).subject
    context["points_earned"] = 2
    assert "+2 бали на ваш рахунок" in emails.render("post_purchase", "uk", context).subject
    ru = sample_context("post_purchase", "ru")
    ru["points_earned"] = 3
    assert "+3 балла на ваш счёт" in emails.render("post_purchase", "ru", ru).subject
    de = sample_context("post_purchase", "de")
    de["points_earned"] = 1
    assert "1 Punkt gutgeschrieben" in emails.render("post_purchase", "de", de).subject


@pytest.mark.parametrize("locale, currency, expected", [
    ("uk", "UAH", f"3{NBSP}799,00{NBSP}₴"),
    ("ru", "UAH", f"3{NBSP}799,00{NBSP}₴"),
    ("en", "UAH", "₴3,799.00"),  # CLDR's en symbol is the code ("UAH3,799.00"): the currency's own is used
    ("de", "UAH", f"3.799,00{NBSP}₴"),
    ("de", "EUR", f"3.799,00{NBSP}€"),
    ("en", "EUR", "€3,799.00"),
])
def test_money_is_formatted_per_locale(locale, currency, expected):
    assert formatter(locale, currency, 2, "UTC").money(379_900) == expected


def test_fast_formatting_matches_babel_exactly():
    rng = random.Random(3)
    values = [0, 5, 99, 100, 1_000, 99_999, 100_000, 12_345_678] + [rng.randint(0, 10**10) for _ in range(300)]
    for locale in LOCALES:
        for currency, exponent in (("UAH", 2), ("EUR", 2), ("JPY", 0)):
            f = formatter(locale, currency, exponent, "UTC")
            for value in values:  # the fast path and Babel's (with the reader's symbol) agree
                assert f.money(value) == f._babel_money(value)
                if f._symbol == get_currency_symbol(currency, locale):
                    assert f.money(value) == format_currency(from_minor(value, exponent), currency, locale=locale)
    assert formatter("uk", "UAH", 2, "UTC").money(-1050) == format_currency(Decimal("-10.50"), "UAH", locale="uk")


def test_money_refuses_floats_and_none():
    f = formatter("en", "EUR", 2, "UTC")
    for bad in (12.5, None, True, "12"):
        with pytest.raises(ValueError):
            f.money(bad)


def test_dates_are_shown_in_the_shop_time_zone():
    moment = datetime(2025, 6, 30, 22, 30, tzinfo=timezone.utc)  # already July 1 in Kyiv
    assert formatter("uk", "UAH", 2, "Europe/Kyiv").date(moment) == f"1 липня 2025{NNBSP}р."
    assert formatter("de", "EUR", 2, "Europe/Berlin").date(moment) == "1. Juli 2025"
    assert formatter("en", "EUR", 2, "America/New_York").date(moment) == "June 30, 2025"


@pytest.mark.parametrize("name, vocative", [
    ("Олена", "Олено"), ("Марія", "Маріє"), ("Андрій", "Андрію"), ("Іван", "Іване"), ("Ігор", "Ігорю"),
    ("Ольга", "Ольго"), ("Василь", "Василю"), ("Emily", "Emily"), ("Марко", "Марко"),
])
def test_ukrainian_vocative(name, vocative):
    assert ukrainian_vocative(name) == vocative


@pytest.mark.parametrize("customer, shop, expected", [
    ("uk", "de", "uk"), ("uk-UA", "en", "uk"), ("ua", "en", "uk"), (None, "de", "de"), ("fr", "ru", "ru"),
    ("fr", "pl", "en"), ("", None, "en"),
])
def test_locale_fallback(customer, shop, expected):
    assert resolve_locale(customer, shop) == expected


def test_build_context_falls_back_to_the_shop_locale(emails):
    shop = sample_shop("de")
    account = sample_account("de", shop)
    account.locale = "fr"
    context = build_context("post_purchase", shop=shop, account=account, data=sample_data("post_purchase", "de", shop),
                            links=sample_links("de"), now=SAMPLE_NOW)
    assert context["locale"] == "de"
    assert emails.render("post_purchase", "fr", context).subject.startswith("Danke")


def test_post_purchase_without_lots_has_no_expiry_block(emails):
    shop = sample_shop("en")
    account = sample_account("en", shop)
    account.lots = None
    context = build_context("post_purchase", shop=shop, account=account, data=sample_data("post_purchase", "en", shop),
                            links={"preferences": "https://x.example/p"}, now=SAMPLE_NOW)
    assert context["account"]["expiry"] is None
    email = emails.render("post_purchase", "en", context)
    assert "expire" not in email.text and "expire" not in email.html


def test_nearest_expiry_adds_up_the_lots_of_that_day():
    shop = sample_shop("uk")
    account = Account(shop_id=shop.shop_id, customer_id="c_1", created_at=SAMPLE_NOW, points_balance=70)
    day = SAMPLE_NOW + timedelta(days=10)
    account.lots = [Lot("a", 30, SAMPLE_NOW, day, "o"), Lot("b", 25, SAMPLE_NOW, day + timedelta(hours=1), "o"),
                    Lot("c", 15, SAMPLE_NOW, day + timedelta(days=40), "o"),
                    Lot("old", 99, SAMPLE_NOW, SAMPLE_NOW - timedelta(days=1), "o")]
    context = build_context("points_expiring", shop=shop, account=account, data={},
                            links=sample_links("uk"), now=SAMPLE_NOW)
    assert context["expiring"]["points"] == 55 and context["expiring"]["date"] == day


def test_build_context_errors_name_the_data_key():
    shop = sample_shop("en")
    account = sample_account("en", shop)
    data = sample_data("post_purchase", "en", shop)
    del data["order_name"]
    with pytest.raises(ContextError, match="order_name"):
        build_context("post_purchase", shop=shop, account=account, data=data, links=sample_links("en"), now=SAMPLE_NOW)
    with pytest.raises(ContextError, match="unsubscribe"):
        build_context("winback", shop=shop, account=account, data={}, links={"preferences": "https://p"}, now=SAMPLE_NOW)
    with pytest.raises(ContextError, match="total_minor"):
        bad = copy.deepcopy(sample_data("post_purchase", "en", shop))
        bad["items"][0]["total_minor"] = 12.5
        build_context("post_purchase", shop=shop, account=account, data=bad, links=sample_links("en"), now=SAMPLE_NOW)
    with pytest.raises(ContextError, match="unknown data keys"):
        build_context("welcome", shop=shop, account=account, data={"bonus_pints": 5}, links=sample_links("en"),
                      now=SAMPLE_NOW)


def test_post_purchase_context_from_domain_objects():
    context = sample_context("post_purchase", "uk")
    account = context["account"]
    assert account["points_balance"] == 1250 and account["balance_value_minor"] == 125_000
    assert account["tier"] == "Silver" and account["next_tier"] == "Gold"
    assert account["spend_to_next_minor"] == 500_000 - 379_900
    assert context["order"]["subtotal_minor"] == 379_900 and len(context["order"]["lines"]) == 4
    assert context["order"]["shipping_minor"] == 8_000 and context["order"]["total_minor"] == 387_900
    assert context["cashback_earned_minor"] == 7_598 and context["is_marketing"] is False


def test_render_all_writes_every_preview_and_an_index(tmp_path):
    written = render_all(tmp_path)
    assert written[-1] == tmp_path / "index.html"
    assert len(written) == 2 * len(TEMPLATES) * len(LOCALES) + 1
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for template in TEMPLATES:
        for locale in LOCALES:
            assert f'href="{template}.{locale}.html"' in index and (tmp_path / f"{template}.{locale}.txt").exists()
