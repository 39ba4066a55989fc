"""One locale resolution for e-mails and customer pages: a locale's language counts, an
Accept-Language header counts by its q-values, English when nothing we write is asked for."""
from __future__ import annotations

import pytest

from chalicelib.mail.base import accepted_languages, resolve_locale


@pytest.mark.parametrize("candidates, locale", [
    (("de-DE",), "de"), (("uk_UA",), "uk"), (("RU",), "ru"), (("ua",), "uk"), (("UA-ua",), "uk"),
    (("fr", "de"), "de"), ((None, "", "ru"), "ru"), (("ja",), "en"), ((), "en"), ((None,), "en"),
])
def test_a_locales_language_decides_and_the_first_we_write_wins(candidates, locale):
    assert resolve_locale(*candidates) == locale


@pytest.mark.parametrize("header, locale", [
    ("en;q=0.3, de", "de"),  # the most wanted first, not the first written
    ("fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7", "de"),
    ("uk-UA,uk;q=0.9,en-US;q=0.8,en;q=0.7", "uk"),
    ("de;q=0, ru;q=0.1", "ru"),  # q=0: not acceptable
    ("*, de;q=0.5", "de"),
    ("ru;q=abc, en;q=0.5", "en"),  # a malformed part is left out
    ("ru;q=2, en;q=0.5", "en"),
    (";;;,,, ;q=", "en"),
])
def test_accept_language_counts_by_q_value(header, locale):
    assert resolve_locale(None, header, None) == locale


def test_a_page_asks_lang_then_the_customer_then_the_browser_then_the_shop():
    assert resolve_locale("uk", "de", "en;q=0.9", "ru") == "uk"
    assert resolve_locale(None, "de", "uk", "ru") == "de"
    assert resolve_locale(None, None, "fr, uk;q=0.5", "ru") == "uk"
    assert resolve_locale(None, None, "fr", "ru") == "ru"


def test_accepted_languages_orders_ties_as_written_and_bounds_its_work():
    assert accepted_languages("de, en-GB;q=0.8, ru;q=0.8, uk") == ["de", "uk", "en-GB", "ru"]
    assert len(accepted_languages(",".join(["de"] * 10_000))) == 50


@pytest.mark.parametrize("candidate, locale", [
    ("uk", "uk"), ("de-DE", "de"), ("ja", "en"),
    ("fr-CH, fr;q=0.9, it;q=0.8, es;q=0.7, pt;q=0.6, nl;q=0.5, de;q=0.4, en;q=0.3", "de"),  # past the kept length
])
def test_a_resolved_locale_is_the_same_the_second_time(candidate, locale):
    assert resolve_locale(candidate) == resolve_locale(candidate) == locale
