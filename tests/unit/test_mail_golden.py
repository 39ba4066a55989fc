"""Every template in every locale renders to the same bytes as the golden digests recorded
from the code before the render's CPU cuts (docs/benchmarks.md, "CPU per e-mail, fifth round").

Cases: the default set; the default set with a shop's own words (the unfilled text templates,
every ``t()`` at render time); an override with its own parts and one whose text part is made
from its HTML. Subject, preheader, HTML and text are compared as SHA-256 of their UTF-8 bytes.

Regenerate (only when a change of the e-mails' content is intended):
``python -m tests.unit.test_mail_golden --write``.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from chalicelib.mail.base import LOCALES, TEMPLATES
from chalicelib.mail.contexts import sample_context
from chalicelib.mail.rendering import TemplateSet
from chalicelib.mail.texts import CatalogPatch

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "mail_golden.json"

_OWN_WORDS = {
    "en": {"common.hello_name": "Hello there, {name}!", "common.points": {"one": "{count} pt", "other": "{count} pts"}},
    "de": {"common.hello_name": "Servus, {name}!"},
    "ru": {"common.hello_name": "Здравствуйте, {name}!"},
    "uk": {"common.hello_name": "Доброго дня, {name}!"},
}
_BODY = ("<mj-section><mj-column><mj-text mj-class=\"h1\">{{ greeting }} {{ t('post_purchase.title') }}</mj-text>"
         "<mj-text>{{ points(points_earned) }} · {{ money(order.total_minor) }}"
         "{% for line in order.lines %} {{ line.title|upper }}{% endfor %}</mj-text></mj-column></mj-section>")
_PARTS = {"subject": "{{ greeting }} {{ points(points_earned) }}", "preheader": "{{ money(order.total_minor) }}",
          "text": "{{ greeting }}\n\n{{ t('post_purchase.title') }}\n{{ links.preferences }}\n"}


def _sets() -> dict[str, TemplateSet]:
    default = TemplateSet.default()
    own_words = default.with_texts({(template, locale): CatalogPatch.of(words)
                                    for template in TEMPLATES for locale, words in _OWN_WORDS.items()})
    return {
        "default": default,
        "own_words": own_words,
        "override_parts": default.with_overrides({"post_purchase": ("golden-parts", _BODY, _PARTS)}),
        "override_html_text": default.with_overrides({"post_purchase": ("golden-html", _BODY)}),
    }


def _cases():
    for name in ("default", "own_words"):
        for template in TEMPLATES:
            for locale in LOCALES:
                yield name, template, locale
    for name in ("override_parts", "override_html_text"):
        for locale in LOCALES:
            yield name, "post_purchase", locale


def _digests(templates: TemplateSet, template: str, locale: str) -> dict[str, str]:
    email = templates.render(template, locale, sample_context(template, locale))
    return {part: hashlib.sha256(getattr(email, part).encode("utf-8")).hexdigest()
            for part in ("subject", "preheader", "html", "text")}


@pytest.fixture(scope="module")
def sets():
    return _sets()


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", [f"{name}/{template}/{locale}" for name, template, locale in _cases()])
def test_every_email_renders_byte_equal_to_the_golden_digests(sets, golden, case):
    name, template, locale = case.split("/")
    assert _digests(sets[name], template, locale) == golden[case]


def test_the_golden_file_covers_every_case(golden):
    assert sorted(golden) == sorted(f"{name}/{template}/{locale}" for name, template, locale in _cases())


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    templates = _sets()
    GOLDEN.write_text(json.dumps({f"{name}/{template}/{locale}": _digests(templates[name], template, locale)
                                  for name, template, locale in _cases()}, indent=1, sort_keys=True) + "\n",
                      encoding="utf-8")
