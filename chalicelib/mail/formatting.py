"""Locale-aware formatting bound to one render: money, numbers, dates, points, texts.

A ``Formatter`` is built once per (locale, currency, exponent, time zone) and cached; the
render passes its bound methods to Jinja as ``money``, ``number``, ``date``, ``percent``,
``points`` and ``t`` (and as filters of the same names). Money is integer minor units,
turned into a ``Decimal`` with the shop's currency exponent: never a float. ``money(minor,
"USD")`` shows an amount in another currency (an order the customer paid in theirs), with that
currency's own minor unit.
"""
from __future__ import annotations

import re
import reprlib
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Optional
from zoneinfo import ZoneInfo

from babel import Locale
from babel.localedata import locale_identifiers
from babel.dates import format_date, format_interval
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_precision, get_currency_symbol

from chalicelib.domain.money import from_minor
from chalicelib.mail.catalog import catalog
from chalicelib.mail.texts import NO_PATCH, CatalogPatch


class FormatError(ValueError):
    """A helper got a value it cannot show (None, a float for money, an unknown key)."""


# A shop's template may pass anything: an error names the value without printing all of it.
_brief = reprlib.Repr()
_brief.maxstring = _brief.maxother = 40
_shown = _brief.repr
_PERCENT_TEXT_CHARS = 40
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


@lru_cache(maxsize=None)
def currency_symbol(currency: str, locale: str) -> str:
    """The symbol a reader of ``locale`` knows the currency by. CLDR gives some locales only the
    ISO code ("EUR" in Ukrainian, "UAH" in English: "UAH3,799.00"); then the symbol of the
    currency's own country ("₴" from uk_UA), else the English one ("€"), is used."""
    symbol = get_currency_symbol(currency, locale)
    if symbol != currency:
        return symbol
    home = sorted(identifier for identifier in locale_identifiers() if identifier.endswith("_" + currency[:2]))
    for candidate in [*home, "en"]:
        symbol = get_currency_symbol(currency, candidate)
        if symbol != currency:
            return symbol
    return currency


class Formatter:
    # the methods a render passes to Jinja under the same names (see rendering.TemplateSet.prepare)
    TEMPLATE_HELPERS = ("money", "number", "percent", "date", "date_range", "t", "points")

    def __init__(self, locale: str, currency: str, exponent: int, tz: str, patch: CatalogPatch = NO_PATCH):
        self.locale = locale
        self.currency = currency
        self.exponent = exponent
        self.tz = ZoneInfo(tz)
        self._babel = Locale.parse(locale)
        self._plural_rule = self._babel.plural_form
        self._plurals: dict[int, str] = {}
        # a shop's own words for this e-mail (mail/texts.py) over the defaults
        self._catalog = patch.applied_to(catalog(locale)) if patch else catalog(locale)
        self._memo: dict = {}
        # t()'s texts by key and values: an e-mail asks for the same ones in its subject, text
        # and HTML (``points(balance)`` three times), and every recipient for the shop's own
        self._texts_memo: dict = {}
        # money() and number() of exact ints, as shown
        self._amounts: dict[int, str] = {}
        self._numbers: dict[int, str] = {}
        # Babel's formatting takes ~50 µs a call; an e-mail has dozens. The same output,
        # built from Babel's own pattern data, is checked against Babel here and used only
        # when it matches for every probe (else every call goes to Babel).
        self._symbol = currency_symbol(currency, locale)
        self._fast_money = _fast_integer_format(
            self._babel, self._babel.currency_formats["standard"], exponent, self._symbol, self._babel_money)
        self._fast_number = _fast_integer_format(
            self._babel, self._babel.decimal_formats[None], 0, None,
            lambda n: format_decimal(n, locale=self._babel))

    # -- numbers and money -------------------------------------------------
    def money(self, minor, currency: Optional[str] = None) -> str:
        if currency is not None and currency != self.currency:
            return self._in(currency).money(minor)
        if type(minor) is int:  # an e-mail shows its amounts in the text and again in the HTML
            found = self._amounts.get(minor)
            if found is not None:
                return found
        elif isinstance(minor, bool) or not isinstance(minor, int):
            raise FormatError(f"money() takes integer minor units, got {_shown(minor)}")
        text = self._fast_money(minor) if self._fast_money and minor >= 0 else self._babel_money(minor)
        if type(minor) is int:
            _keep(self._amounts, minor, text)
        return text

    def _in(self, currency) -> "Formatter":
        """This render's formatter for amounts in ``currency`` (an ISO 4217 code)."""
        if not isinstance(currency, str) or not _CURRENCY_CODE.fullmatch(currency):
            raise FormatError(f"money() takes an ISO 4217 currency code, got {_shown(currency)}")
        return formatter(self.locale, currency, get_currency_precision(currency), self.tz.key)

    def _babel_money(self, minor: int) -> str:
        text = format_currency(from_minor(minor, self.exponent), self.currency, locale=self._babel)
        if self._symbol != self.currency:
            text = text.replace(self.currency, self._symbol)
        if self._symbol[:1].isalpha() or self._symbol[-1:].isalpha():
            # CLDR's currency spacing: a symbol of letters never touches the digits ("CHF 3,799.00").
            symbol = re.escape(self._symbol)
            text = re.sub(rf"(?<=\d){symbol}", "\xa0" + self._symbol, re.sub(rf"{symbol}(?=\d)", self._symbol + "\xa0", text))
        return text

    def number(self, value) -> str:
        if type(value) is int:
            found = self._numbers.get(value)
            if found is not None:
                return found
        elif isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise FormatError(f"number() takes an int or Decimal, got {_shown(value)}")
        if self._fast_number and isinstance(value, int) and value >= 0:
            text = self._fast_number(value)
        else:
            text = format_decimal(value, locale=self._babel)
        if type(value) is int:
            _keep(self._numbers, value, text)
        return text

    def percent(self, value) -> str:
        """A percentage given as the number of percent: 5 → "5 %" (de), "5%" (en)."""
        if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)) or \
                isinstance(value, str) and len(value) > _PERCENT_TEXT_CHARS:
            raise FormatError(f"percent() takes an int, a short str or a Decimal, got {_shown(value)}")
        key = ("percent", str(value))
        found = self._memo.get(key)
        if found is None:
            found = format_percent(Decimal(str(value)) / 100, locale=self._babel, decimal_quantization=False)
            _keep(self._memo, key, found)
        return found

    def date(self, value) -> str:
        """A day, long form ("30 червня 2025 р.", "30. Juni 2025"), in the shop's time zone."""
        day = self._day(value)
        found = self._memo.get(day)
        if found is None:
            found = format_date(day, "long", locale=self._babel)
            _keep(self._memo, day, found)
        return found

    def date_range(self, start, end) -> str:
        """Two days as one interval ("12–14 черв. 2025 р.", "12.–14. Juni 2025")."""
        first, last = self._day(start), self._day(end)
        if first == last:
            return format_date(first, "long", locale=self._babel)
        return format_interval(first, last, "yMMMMd", locale=self._babel)

    def _day(self, value) -> date:
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            return moment.astimezone(self.tz).date()
        if isinstance(value, date):
            return value
        raise FormatError(f"date() takes a date or datetime, got {_shown(value)}")

    # -- texts ---------------------------------------------------------------
    def t(self, key: str, **values) -> str:
        """The catalog text ``key``, its ``{placeholders}`` filled; plural entries need ``count``."""
        memo_key = _text_memo_key(key, values) if values else None
        if memo_key is not None:
            found = self._texts_memo.get(memo_key)
            if found is not None:
                return found
        entry = self._catalog.get(key)
        if entry is None:
            raise FormatError(f"no text {_shown(key)} in the {self.locale} catalog")
        if isinstance(entry, dict):
            if "count" not in values:
                raise FormatError(f"text {key!r} has plural forms: pass count=")
            count = values["count"]
            if count is None or isinstance(count, (bool, float)):
                raise FormatError(f"text {key!r}: count must be an int or Decimal, got {_shown(count)}")
            entry = entry.get(self.plural(count)) or entry["other"]
        if not values and "{" not in entry and "}" not in entry:
            return entry  # what format_map gives a text without fields
        args = {name: self._argument(key, name, value) for name, value in values.items()}
        try:
            text = entry.format_map(args)
        except (KeyError, IndexError) as exc:
            raise FormatError(f"text {key!r} needs a value for {exc}") from None
        if memo_key is not None:
            _keep(self._texts_memo, memo_key, text)
        return text

    def plural(self, count) -> str:
        """The CLDR plural category of ``count`` in this locale ("one", "few", "many", "other")."""
        if isinstance(count, int):
            found = self._plurals.get(count)
            if found is None:
                found = self._plural_rule(count)
                if len(self._plurals) < 100_000:
                    self._plurals[count] = found
            return found
        return self._plural_rule(count)


    def points(self, count) -> str:
        """ "1 бал", "2 бали", "5 балів", "21 бал" (uk); "1 point", "5 points" (en)."""
        return self.t("common.points", count=count)

    def greeting(self, first_name: Optional[str]) -> str:
        name = (first_name or "").strip()
        if not name:
            return self.t("common.hello")
        if self.locale == "uk":
            name = ukrainian_vocative(name)
        return self.t("common.hello_name", name=name)

    def _argument(self, key: str, name: str, value) -> str:
        if value is None:
            raise FormatError(f"text {key!r}: {name} is None")
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, (int, Decimal)):
            return self.number(value)
        if isinstance(value, float):
            raise FormatError(f"text {key!r}: {name} is a float; pass an int, a Decimal or formatted text")
        if not isinstance(value, str):  # str() of a list or dict from a template could be any size
            raise FormatError(f"text {key!r}: {name} is a {type(value).__name__}; pass text or a number")
        return value


# Only values whose equality means the same text are remembered: exact str and int (True == 1 but
# shows as "True"; Decimals go to Babel each time), short strings and short texts (a template may
# pass any string or integer up to the render budget; the memos must not keep those).
_MEMO_SIZE = 1_024
_MEMO_VALUE_CHARS = 200
_MEMO_TEXT_CHARS = 400


def _text_memo_key(key: str, values: dict):
    for value in values.values():
        kind = type(value)
        if kind is int or kind is str and len(value) <= _MEMO_VALUE_CHARS:
            continue
        return None
    return (key, *values.items())


def _keep(memo: dict, key, text: str) -> None:
    """Remember ``text`` in one of a formatter's memos (texts, amounts, numbers, percents, days),
    each bounded alike: a long text is not kept, and a full memo starts again."""
    if len(text) > _MEMO_TEXT_CHARS:
        return
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = text


_PROBES = (0, 1, 7, 12, 99, 100, 999, 1000, 1234, 9999, 10000, 12345, 99999, 100000, 123456, 1000000, 1234567,
           987654321, 10**12 + 5, 10**15 + 123)


def _fast_integer_format(babel: Locale, pattern, exponent: int, symbol: Optional[str], reference):
    """A formatter of non-negative integers (minor units when ``exponent`` > 0) that gives
    exactly what ``reference`` (Babel) gives, or None when it cannot be made to."""
    symbols = babel.number_symbols.get(babel.default_numbering_system) or babel.number_symbols.get("latn")
    if not symbols or any(c not in "0#,." for c in pattern.pattern.split(";")[0].replace("¤", "").strip("\xa0 ")):
        return None
    group, decimal = symbols["group"], symbols["decimal"]
    first, rest = pattern.grouping
    prefix = pattern.prefix[0].replace("¤", symbol or "")
    suffix = pattern.suffix[0].replace("¤", symbol or "")
    scale = 10 ** exponent

    def fast(value: int) -> str:
        whole, fraction = divmod(value, scale)
        digits = str(whole)
        if len(digits) > first:
            head, parts = digits[:-first], [digits[-first:]]
            while len(head) > rest:
                parts.append(head[-rest:])
                head = head[:-rest]
            parts.append(head)
            digits = group.join(reversed(parts))
        if exponent:
            digits = f"{digits}{decimal}{fraction:0{exponent}d}"
        return f"{prefix}{digits}{suffix}"

    try:
        if all(fast(probe) == reference(probe) for probe in _PROBES):
            return fast
    except Exception:  # noqa: BLE001 - any surprise means: use Babel
        pass
    return None


@lru_cache(maxsize=256)
def formatter(locale: str, currency: str, exponent: int, tz: str, patch: CatalogPatch = NO_PATCH) -> Formatter:
    return Formatter(locale, currency, exponent, tz, patch)


# -- Ukrainian vocative ------------------------------------------------------------
# A Ukrainian greeting addresses the reader in the vocative case ("Вітаємо, Олено!"); the
# nominative there reads as a machine's mistake. Only the regular, unambiguous endings
# are declined; any other name (a Latin one, a diminutive, a surname) stays as written.
_CYRILLIC_NAME = re.compile(r"^[А-ЩЬЮЯҐЄІЇа-щьюяґєії'’ʼ-]+$")
_VOCATIVE_EXCEPTIONS = {"Ігор": "Ігорю", "Лев": "Леве", "Олег": "Олеже", "Кузьма": "Кузьмо"}
_VOCATIVE_RULES = (
    ("ія", "іє"),   # Марія → Маріє, Юлія → Юліє, Анастасія → Анастасіє
    ("ій", "ію"),   # Андрій → Андрію, Сергій → Сергію, Юрій → Юрію
    ("ль", "лю"),   # Василь → Василю
    ("а", "о"),     # Олена → Олено, Ольга → Ольго, Микола → Миколо
)
_HARD_CONSONANT_ADD_E = "бвдзлмнпрстф"  # Іван → Іване, Олександр → Олександре, Тарас → Тарасе


def ukrainian_vocative(name: str) -> str:
    if not _CYRILLIC_NAME.match(name) or len(name) < 3 or not name[0].isupper():
        return name
    if name in _VOCATIVE_EXCEPTIONS:
        return _VOCATIVE_EXCEPTIONS[name]
    for ending, vocative in _VOCATIVE_RULES:
        if name.endswith(ending):
            return name[: -len(ending)] + vocative
    if name[-1] in _HARD_CONSONANT_ADD_E:
        return name + "е"
    return name
