"""Smaller truths of the mail itself (issue 16, item 9): money as readers write it, subjects
that survive header folding, the preheader's filler, codes that stay on one line, dark mode."""
from __future__ import annotations

import email
import re
from datetime import datetime, timezone
from email import policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.mail.formatting import formatter
from chalicelib.mail.mime import build_message
from chalicelib.mail.rendering import LOCALES, TemplateSet, sample_context
from tests.support.examples import examples

NBSP = "\xa0"


@pytest.mark.parametrize("locale, currency, expected", [
    ("uk", "EUR", f"3{NBSP}799,00{NBSP}€"),      # CLDR's uk symbol for EUR is "EUR"
    ("en", "UAH", "₴3,799.00"),                   # and en's for UAH is "UAH": "UAH3,799.00"
    ("uk", "UAH", f"3{NBSP}799,00{NBSP}₴"),
    ("en", "EUR", "€3,799.00"),
    ("de", "EUR", f"3.799,00{NBSP}€"),
    ("en", "CHF", f"CHF{NBSP}3,799.00"),          # letters never touch the digits
])
def test_money_is_written_the_way_its_readers_write_it(locale, currency, expected):
    fmt = formatter(locale, currency, 2, "Europe/Kyiv")
    assert fmt.money(379_900) == expected
    assert fmt.money(-379_900).endswith(expected.lstrip("-")) or fmt.money(-379_900).startswith("-")


def _subject_after_the_wire(subject: str) -> str:
    raw = build_message(from_name="Zerno Kaffeerösterei", from_address="hallo@zerno.example",
                        to_address="c@example.com", subject=subject, html="<p>x</p>", text="x",
                        now=datetime(2031, 3, 14, tzinfo=timezone.utc))
    return email.message_from_bytes(raw, policy=policy.default)["Subject"]


def test_a_long_german_subject_is_not_folded_with_a_double_space():
    subject = "Ihre Punkte verfallen bald: 150 Punkte bis zum 30. Juni 2025 einlösen — Zerno Kaffeerösterei wartet"
    assert _subject_after_the_wire(subject) == subject


@settings(max_examples=examples(150), deadline=None, database=None)
@given(words=st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
                              min_size=1, max_size=14), min_size=1, max_size=14))
def test_any_subject_reads_back_as_written(words):
    subject = " ".join(" ".join(words).split())
    if subject:
        assert _subject_after_the_wire(subject) == subject


@pytest.mark.parametrize("locale", LOCALES)
def test_the_preheader_is_followed_by_filler_so_the_inbox_preview_stops_there(locale):
    email_ = TemplateSet.default().render("special_day", locale, sample_context("special_day", locale))
    hidden = re.search(r'<div style="display:none;[^"]*">(.*?)</div>', email_.html, re.S)
    assert hidden and hidden.group(1).startswith(email_.preheader.split()[0])
    assert hidden.group(1).count("&#847;") >= 40  # zero-width filler after the text


@pytest.mark.parametrize("locale", LOCALES)
def test_mail_declares_light_and_dark_colour_schemes(locale):
    html = TemplateSet.default().render("special_day", locale, sample_context("special_day", locale)).html
    assert re.search(r'<meta name="color-scheme" content="light dark" ?/?>', html)
    assert "prefers-color-scheme: dark" in html


def test_the_code_is_kept_on_one_line():
    html = TemplateSet.default().render("special_day", "uk", sample_context("special_day", "uk")).html
    code = sample_context("special_day", "uk")["offer"]["code"]
    assert re.search(r'white-space:\s*nowrap[^>]*>\s*' + re.escape(code), html)
