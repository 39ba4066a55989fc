"""The brand in the shared layout: render-time data, escaped by the sandbox's autoescape even if a
value skipped the settings' checks, and the compile cache unchanged by it."""
from __future__ import annotations

import re

from chalicelib.domain.shops.brand import Brand, SocialLink, lighten, network_of_url
from chalicelib.mail import compiler
from chalicelib.mail.contexts import brand_values, sample_context
from chalicelib.mail.rendering import TemplateSet


def _render(brand: Brand, template: str = "welcome", locale: str = "en"):
    context = sample_context(template, locale)
    context["brand"] = brand_values(brand)
    return TemplateSet.default().render(template, locale, context)


def test_an_unchecked_hostile_value_cannot_leave_its_attribute_or_open_a_tag():
    html = _render(Brand(primary_color='red" onload="x', address_lines=("<script>alert(1)</script>",),
                         social_links=(SocialLink("x", 'https://x.com/a"><script>alert(2)</script>'),))).html
    assert "<script>" not in html and "onload" not in html and "alert(2)" not in html
    assert 'bgcolor="#1f6f54"' in html  # the rule-breaking colour is not used at all: the default is
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the footer line is shown, escaped


def test_two_brands_share_one_compiled_template():
    _render(Brand())
    before = set(compiler._cache)
    pink = _render(Brand(primary_color="#c2185b")).html
    green = _render(Brand()).html
    assert 'bgcolor="#c2185b"' in pink and 'bgcolor="#1f6f54"' in green
    assert set(compiler._cache) == before  # the compile key has no brand in it: nothing compiled again


def test_dark_mode_keeps_the_default_greens_and_lightens_a_brand_colour():
    assert Brand().dark_mode() == {"button": "#2f9a74", "link": "#7fd1ae"}
    assert Brand(primary_color="#000000").dark_mode() == {"button": "#000000", "link": lighten("#000000", 0.45)}
    assert lighten("#000000", 0.5) == "#808080"


def test_a_social_link_belongs_to_the_network_of_its_host_only():
    assert network_of_url("https://www.instagram.com/zerno") == "instagram"
    assert network_of_url("https://t.me/zerno") == "telegram"
    assert network_of_url("https://instagram.com.evil.example/zerno") is None
    assert network_of_url("https://evil.example/?u=https://instagram.com") is None
    assert network_of_url("https://user@instagram.com/") is None
    assert network_of_url("http://instagram.com/zerno") is None


def test_the_text_part_lists_the_footer_lines_and_links():
    text = _render(Brand(address_lines=("Zerno LLC", "Kyiv"), social_links=(SocialLink("telegram", "https://t.me/z"),))).text
    assert re.search(r"Zerno LLC\nKyiv\n", text) and "Telegram: https://t.me/z" in text


def test_a_shops_brand_and_program_are_made_once_and_each_caller_gets_its_own_copy():
    """The parts of the context every recipient of a shop shares are made once per brand and program
    (both frozen values): the same values as made fresh, and changing one caller's copy changes
    nobody else's."""
    from chalicelib.domain.loyalty.program import ProgramRules
    from chalicelib.mail import contexts

    brand = Brand(primary_color="#c2185b", address_lines=("Street 1", "City"),
                  social_links=(SocialLink("instagram", "https://instagram.com/shop"),))
    first = brand_values(brand, None, "Old address")
    assert first == contexts._brand_values(brand, None, "Old address")
    first["address_lines"].append("changed")
    first["social_links"][0]["url"] = "https://evil.example"
    first["primary_color"] = "#000000"
    assert brand_values(brand, None, "Old address") == contexts._brand_values(brand, None, "Old address")
    assert brand_values(Brand(), "https://cdn.example/logo.png")["logo_url"] == "https://cdn.example/logo.png"

    rules = ProgramRules()
    program = contexts.program_context(rules, 2)
    assert program == contexts._program_context(rules, 2) != contexts.program_context(rules, 0)
    program["tiers"][0]["name"] = "changed"
    program["tiers"].clear()
    assert contexts.program_context(rules, 2) == contexts._program_context(rules, 2)
    assert contexts.program_context(rules, 2)["tiers"]
