"""E-mail rendering: MJML compiled once, Jinja per recipient, texts from per-locale catalogs.

    emails = TemplateSet.default()                       # or .with_overrides({name: (version, mjml)})
    context = build_context("post_purchase", shop=shop, account=account, data=data,
                            links={"unsubscribe": ..., "preferences": ...}, now=now)
    email = emails.render("post_purchase", context["locale"], context)
    email.subject, email.preheader, email.html, email.text

Per template there are two sources in ``templates/``:

* ``<name>.mjml``: the HTML body, placed by ``layout.mjml`` between the shared header and
  footer partials. Compiled with ``mjml2html`` once per (template, version, locale) and
  cached in the process (see ``compiler``); a shop's override replaces only this file.
* ``text/<name>.txt``: a Jinja text template with three blocks: ``subject``,
  ``preheader`` and ``body`` (the plain-text part, not html2text of the HTML).

Texts come from ``templates/locales/<locale>.json`` through ``t('key', **values)``; the
helpers ``money``, ``number``, ``date``, ``date_range``, ``percent`` and ``points`` format
with Babel for the locale and the shop's currency and time zone (see ``formatting``).
A missing variable, a None where a value is shown, an unknown text key or a template
error raises ``TemplateError`` naming the template, the locale, the file and the line.
"""
from __future__ import annotations

import html as html_lib
import re
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Optional

from jinja2 import BaseLoader, TemplateNotFound, TemplateSyntaxError

from chalicelib.mail.base import (
    LOCALES, MARKETING_TEMPLATES, TEMPLATES, TEMPLATES_DIR, TRANSACTIONAL_TEMPLATES, ContextError, RenderedEmail,
    TemplateError, TemplateLimitError, resolve_locale,
)
from chalicelib.mail.catalog import catalog
from chalicelib.mail.compiler import Source, compiled_html, make_environment
from chalicelib.domain.shops.brand import Brand
from chalicelib.mail.contexts import brand_values, build_context, sample_context
from chalicelib.mail.formatting import formatter
from chalicelib.mail.plain_text import text_template_from_html
from chalicelib.mail.texts import NO_PATCH, CatalogPatch
from chalicelib.mail.sandbox import DEFAULT_BUDGET, BudgetExceeded, MailSandbox, RenderBudget, metering

__all__ = [
    "TEMPLATES", "MARKETING_TEMPLATES", "TRANSACTIONAL_TEMPLATES", "LOCALES", "RenderedEmail", "TemplateError",
    "TemplateLimitError", "RenderBudget",
    "ContextError", "TemplateSet", "build_context", "sample_context", "render_all",
]

DEFAULT_VERSION = "default"
_VERSION = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_TEXT_ROOT = str(TEMPLATES_DIR / "text")
_STATIC_TEXT = re.compile(r"\{\{-?\s*t\(\s*'([A-Za-z0-9_.]+)'\s*\)\s*-?\}\}")


class _LocalizedTextLoader(BaseLoader):
    """``uk/text/post_purchase.txt`` → ``templates/text/post_purchase.txt`` with the argument-less
    ``{{ t('key') }}`` of the locale already filled in (like the HTML's compile step). Line
    numbers stay those of the file."""

    prefill = True

    def get_source(self, environment, template):
        locale, _, name = template.partition("/")
        path = TEMPLATES_DIR / name
        if locale not in LOCALES or not name.startswith("text/") or ".." in name or not path.is_file():
            raise TemplateNotFound(template)
        if not self.prefill:
            return path.read_text(encoding="utf-8"), str(path), lambda: True
        texts = catalog(locale)

        def fill(match: re.Match) -> str:
            text = texts.get(match.group(1))
            # unknown or plural keys stay calls, to fail at render time with their line
            return text if isinstance(text, str) and "{" not in text and "\n" not in text else match.group(0)

        return _STATIC_TEXT.sub(fill, path.read_text(encoding="utf-8")), str(path), lambda: True


class _TextEnvironment(MailSandbox):
    def join_path(self, template: str, parent: str) -> str:
        """``{% extends/include "text/x.txt" %}`` inside ``uk/...`` loads ``uk/text/x.txt``."""
        return f"{parent.partition('/')[0]}/{template}"


class _UnfilledTextLoader(_LocalizedTextLoader):
    """The text templates as written: every ``t()`` at render time, through a formatter that
    knows a shop's own words (the prefilled ones hold the defaults)."""

    prefill = False


TEXT_ENV = make_environment(autoescape=False, loader=_LocalizedTextLoader(), trim_blocks=True, lstrip_blocks=True,
                            keep_trailing_newline=True, environment_class=_TextEnvironment)
_GENERATED_TEXT_ENV = TEXT_ENV.overlay(trim_blocks=False, lstrip_blocks=False)
TEXT_ENV_UNFILLED = make_environment(autoescape=False, loader=_UnfilledTextLoader(), trim_blocks=True,
                                     lstrip_blocks=True, keep_trailing_newline=True,
                                     environment_class=_TextEnvironment)


class TemplateSet:
    """Default templates from templates/, optionally with a shop's overrides."""

    def __init__(self, overrides: Optional[Mapping[str, tuple[str, Source]]] = None,
                 budget: RenderBudget = DEFAULT_BUDGET, parts: Optional[Mapping[str, dict]] = None,
                 texts: Optional[Mapping[tuple[str, str], CatalogPatch]] = None):
        self._overrides: dict[str, tuple[str, Source]] = dict(overrides or {})
        # An override's own subject, preheader and text (Jinja, like the text templates' blocks).
        self._parts: dict[str, dict] = dict(parts or {})
        self.budget = budget
        # a shop's own words: (template, locale) → its checked replacements (mail/texts.py)
        self._texts: dict[tuple[str, str], CatalogPatch] = {key: patch for key, patch in (texts or {}).items() if patch}

    @classmethod
    def default(cls) -> "TemplateSet":
        return _DEFAULT

    def with_overrides(self, overrides: dict[str, tuple]) -> "TemplateSet":
        """name → (version, MJML source of the message body, or a whole ``<mjml>`` document)
        or (version, MJML, parts): ``parts`` may give the override's own ``subject``,
        ``preheader`` and ``text`` (Jinja text with the same context).

        A body is placed in the default layout (header, footer with the unsubscribe link).
        The plain-text part says what the override's HTML says: its own ``text``, else made
        from the compiled HTML once per version and locale (``plain_text``); subject and
        preheader are the override's when given, else the defaults. A new version compiles anew.
        """
        merged = dict(self._overrides)
        merged_parts = dict(self._parts)
        for name, value in overrides.items():
            if name not in TEMPLATES:
                raise TemplateError(name, None, None, f"unknown template; known: {', '.join(TEMPLATES)}")
            try:
                version, source, *rest = value
                parts = rest[0] if rest else None
                if len(rest) > 1 or (parts is not None and not isinstance(parts, dict)):
                    raise ValueError
            except (TypeError, ValueError):
                raise TemplateError(name, None, None, "an override is a (version, mjml_source[, parts]) tuple") from None
            if not isinstance(version, str) or not _VERSION.match(version) or version == DEFAULT_VERSION:
                raise TemplateError(name, None, None, f"bad override version {version!r}: 1-64 of A-Z a-z 0-9 . _ : -, "
                                                      f"not {DEFAULT_VERSION!r}")
            if not isinstance(source, str) or not source.strip():
                raise TemplateError(name, None, None, "the override's MJML source is empty")
            merged[name] = (version, Source(f"override {name}@{version}", source))
            merged_parts[name] = {key: text for key, text in (parts or {}).items()
                                  if key in OVERRIDE_PARTS and isinstance(text, str) and text.strip()}
        return TemplateSet(merged, self.budget, merged_parts, self._texts)

    def with_budget(self, budget: RenderBudget) -> "TemplateSet":
        """The same templates rendered under another budget (per recipient)."""
        return TemplateSet(self._overrides, budget, self._parts, self._texts)

    def parts(self, template: str) -> dict:
        """The override's own subject, preheader and text, as given (empty for a default)."""
        return dict(self._parts.get(template) or {})

    def _override_texts(self, template: str, locale: str) -> Optional[dict]:
        """The compiled Jinja of an override's text part (given, or made from its HTML) and of
        its own subject and preheader: once per version and locale."""
        if template not in self._overrides:
            return None
        version, source = self._overrides[template]
        parts = self._parts.get(template) or {}
        key = (template, version, source.digest, locale, tuple(sorted(parts.items())), self.texts(template, locale).digest)
        found = _override_text_cache.get(key)
        if found is None:
            compiled = self._compiled(template, locale)
            texts = {"text": (parts["text"], TEXT_ENV)} if parts.get("text") else {}
            texts.update({name: (parts[name], TEXT_ENV) for name in ("subject", "preheader") if parts.get(name)})
            found = {}
            if not parts.get("text"):
                found["text"] = _generated_text(template, version, locale, compiled)
            for name, (text, environment) in texts.items():
                try:
                    found[name] = environment.from_string(text)
                except TemplateSyntaxError as exc:
                    raise TemplateError(template, locale, exc.lineno, f"Jinja: {exc.message}",
                                        source=f"override {template}@{version} {name}") from None
            if len(_override_text_cache) > 512:
                _override_text_cache.clear()
            _override_text_cache[key] = found
        return found

    def with_texts(self, texts: Mapping[tuple[str, str], CatalogPatch]) -> "TemplateSet":
        """The same templates with a shop's own words: (template, locale) → CatalogPatch."""
        merged = dict(self._texts)
        merged.update(texts)
        return TemplateSet(self._overrides, self.budget, self._parts, merged)

    def texts(self, template: str, locale: str) -> CatalogPatch:
        return self._texts.get((template, locale), NO_PATCH)

    def version(self, template: str) -> str:
        return self._overrides[template][0] if template in self._overrides else DEFAULT_VERSION

    def compile(self, template: str, locale: str) -> None:
        """Compile (or find in the cache) the HTML of a template; raises TemplateError."""
        self._compiled(template, resolve_locale(locale))

    def validate(self) -> None:
        """Compile every overridden template in every locale: call it before saving overrides."""
        for template in self._overrides:
            for locale in LOCALES:
                self.compile(template, locale)

    def render(self, template: str, locale: str, context: dict) -> RenderedEmail:
        """One recipient's e-mail, rendered within ``self.budget`` (compiling is not counted)."""
        resolved = self._locale(template, locale, context)
        compiled = self._compiled(template, resolved)
        _text_template(template, resolved, bool(self.texts(template, resolved)))  # compiled once, outside budgets
        shop = context["shop"]
        try:  # Babel's locale data loads once per process: outside every budget too
            warm = formatter(resolved, shop["currency"], int(shop["currency_exponent"]), shop["timezone"],
                             self.texts(template, resolved))
            order = context.get("order")
            if isinstance(order, dict) and order.get("currency"):  # an order paid in another currency
                warm.money(0, order["currency"])
        except Exception:  # noqa: BLE001 - prepare() reports a bad shop setting as the context error
            pass
        with metering(self.budget):
            locale, values = self.prepare(template, locale, context)
            try:
                html = _render_part(compiled.template, compiled.template.root_render_func,
                                    compiled.template.new_context(values), "HTML")
            except Exception as exc:  # noqa: BLE001 - every failure becomes a located TemplateError
                label, line = compiled.locate(exc)
                raise _render_error(exc, template, locale, line, label) from exc
        return RenderedEmail(subject=values["subject"], preheader=values["preheader"], html=html,
                             text=values["text"])

    def _locale(self, template: str, locale: str, context: dict) -> str:
        if template not in TEMPLATES:
            raise TemplateError(template, locale, None, f"unknown template; known: {', '.join(TEMPLATES)}")
        shop = context.get("shop") if isinstance(context, dict) else None
        if not isinstance(shop, dict):
            raise ContextError(template, locale, None, "the context has no 'shop' (use build_context)")
        return resolve_locale(locale, shop.get("default_locale"))

    def prepare(self, template: str, locale: str, context: dict) -> tuple[str, dict]:
        """The resolved locale and the values the HTML is rendered with: the context, the
        bound helpers, ``greeting``, and the rendered ``subject``, ``preheader`` and ``text``."""
        locale = self._locale(template, locale, context)
        shop = context["shop"]
        patch = self.texts(template, locale)
        text_template = _text_template(template, locale, bool(patch))
        try:
            fmt = formatter(locale, shop["currency"], int(shop["currency_exponent"]), shop["timezone"], patch)
        except Exception as exc:  # noqa: BLE001 - any bad shop setting is the caller's context error
            raise ContextError(template, locale, None, f"context.shop needs currency, currency_exponent and "
                                                       f"timezone: {type(exc).__name__}: {exc}") from None
        override = self._override_texts(template, locale)  # compiled outside the render budget
        customer = context.get("customer") or {}
        values = dict(context)
        if "brand" not in values:  # a context made by hand (not build_context): the default look
            values["brand"] = brand_values(Brand(), shop.get("logo_url"), shop.get("address"))
        values.update(
            locale=locale, t=fmt.t, money=fmt.money, number=fmt.number, date=fmt.date, date_range=fmt.date_range,
            percent=fmt.percent, points=fmt.points,
        )
        try:
            with metering(self.budget):
                values["greeting"] = fmt.greeting(customer.get("first_name"))
                jinja_context = text_template.new_context(values)
                subject = " ".join(_render_part(text_template, text_template.blocks["subject"], jinja_context,
                                                "subject").split())
                preheader = " ".join(_render_part(text_template, text_template.blocks["preheader"], jinja_context,
                                                  "preheader").split())
                text = _tidy(_render_part(text_template, text_template.root_render_func, jinja_context, "text"))
                if override:
                    values.update(subject=subject, preheader=preheader)
                    own = self._render_own(template, locale, override, values)
                    text = _tidy(own["text"])
                    subject = " ".join(own.get("subject", subject).split())
                    preheader = " ".join(own.get("preheader", preheader).split())
        except TemplateError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a located TemplateError
            label, line = _text_location(exc)
            raise _render_error(exc, template, locale, line, label) from exc
        copy = context.get("copy") or {}
        # The campaign's own words, when it gives them, for this locale (contexts.localized_text).
        subject = " ".join(str(copy.get("subject") or "").split()) or subject
        preheader = " ".join(str(copy.get("preheader") or "").split()) or preheader
        copy = context.get("variant_copy")
        if isinstance(copy, dict):  # an A/B test variant's own words (plain text, never a template)
            subject = " ".join(str(copy.get("subject") or subject).split())
            preheader = " ".join(str(copy.get("preheader") or preheader).split())
        if not subject:
            raise TemplateError(template, locale, None, "the subject is empty", source=f"text/{template}.txt")
        if len(subject) > MAX_SUBJECT_CHARS:
            # A 300-byte subject part could print 1,000,000 characters (``{{ 'x' * 999999 }}``) into
            # the Subject header of every mail.
            source = (f"override {template}@{self._overrides[template][0]} subject"
                      if override and "subject" in override else f"text/{template}.txt")
            raise TemplateLimitError(template, locale, None, f"the subject is {len(subject):,} characters; the "
                                     f"limit is {MAX_SUBJECT_CHARS:,}", source=source)
        values.update(subject=subject, preheader=preheader, text=text)
        return locale, values

    def _render_own(self, template: str, locale: str, override: dict, values: dict) -> dict:
        """The override's text part, subject and preheader for one recipient; an error is located
        in the part that has it (the text made from the HTML: in the override's MJML)."""
        own = {}
        for name, part in override.items():
            try:
                own[name] = _render_part(part, part.root_render_func, part.new_context(values), name)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a located TemplateError
                if isinstance(part, _LocatedText):  # made from the HTML: its markers name the MJML line
                    label, line = part.locator.locate(exc)
                    raise _render_error(exc, template, locale, line, label) from exc
                version = self._overrides[template][0]
                raise _render_error(exc, template, locale, _text_location(exc)[1],
                                    f"override {template}@{version} {name}") from exc
        return own

    def source(self, template: str) -> tuple[str, Source]:
        """(version, MJML source) of the message body this set renders for ``template``."""
        if template not in TEMPLATES:
            raise TemplateError(template, None, None, f"unknown template; known: {', '.join(TEMPLATES)}")
        if template in self._overrides:
            return self._overrides[template]
        return DEFAULT_VERSION, _default_source(template)

    def _compiled(self, template: str, locale: str):
        version, source = self.source(template)
        return compiled_html(template, version, locale, source, marketing=template in MARKETING_TEMPLATES,
                             patch=self.texts(template, locale))


# The longest subject a mail gets: RFC 5322's longest line, far past what any mail client shows.
MAX_SUBJECT_CHARS = 998


class _LocatedText:
    """The text part made from an override's compiled HTML, with what locates its errors in the
    override's MJML (the compile markers ``{#@file:line#}`` travel into the text)."""

    def __init__(self, template, locator):
        self.template, self.locator = template, locator
        self.root_render_func, self.new_context, self.environment = (template.root_render_func, template.new_context,
                                                                     template.environment)


def _generated_text(template: str, version: str, locale: str, compiled) -> "_LocatedText":
    from chalicelib.mail.compiler import CompiledHtml

    # Made from HTML, its line breaks are the blocks': Jinja must not trim them.
    text = text_template_from_html("\n".join(compiled.lines))
    key = f"{template}@{version}/{locale}.txt"
    try:
        code = _GENERATED_TEXT_ENV.compile(text, name=key, filename=key)
    except TemplateSyntaxError as exc:
        raise TemplateError(template, locale, exc.lineno, f"Jinja: {exc.message}",
                            source=f"override {template}@{version} text") from None
    jinja_template = _GENERATED_TEXT_ENV.template_class.from_code(
        _GENERATED_TEXT_ENV, code, _GENERATED_TEXT_ENV.make_globals(None), None)
    return _LocatedText(jinja_template, CompiledHtml(key, jinja_template, text.split("\n"), compiled.labels))


_DEFAULT = TemplateSet()
OVERRIDE_PARTS = ("subject", "preheader", "text")
_override_text_cache: dict = {}


@lru_cache(maxsize=None)
def _default_source(template: str) -> Source:
    path = f"{template}.mjml"
    return Source(path, (TEMPLATES_DIR / path).read_text(encoding="utf-8"))


_text_cache: dict = {}


def _text_template(template: str, locale: str, unfilled: bool = False):
    found = _text_cache.get((template, locale, unfilled))
    if found is None:
        name = f"text/{template}.txt"
        try:
            found = (TEXT_ENV_UNFILLED if unfilled else TEXT_ENV).get_template(f"{locale}/{name}")
        except TemplateNotFound as exc:
            raise TemplateError(template, locale, None, f"missing text template {exc.name.partition('/')[2]}") from None
        except TemplateSyntaxError as exc:
            raise TemplateError(template, locale, exc.lineno, f"Jinja: {exc.message}",
                                source=_relative(exc.filename) or name) from None
        for block in ("subject", "preheader", "body"):
            if block not in found.blocks:
                raise TemplateError(template, locale, None, f"needs a {{% block {block} %}}", source=name)
        _text_cache[(template, locale, unfilled)] = found
    return found


def _render_part(template, render_func, context, what: str) -> str:
    """One part (HTML, text, a block) of the e-mail, refused past the budget's output size."""
    try:
        return template.environment.checked_output(render_func(context), what)
    except Exception:  # noqa: BLE001 - rewritten to template lines, then re-raised
        template.environment.handle_exception()


def _render_error(exc: BaseException, template: str, locale: str, line: Optional[int],
                  label: Optional[str]) -> TemplateError:
    if isinstance(exc, BudgetExceeded):
        return TemplateLimitError(template, locale, line, f"over the render budget: {exc}", source=label)
    if isinstance(exc, RecursionError):
        return TemplateLimitError(template, locale, line, "over the render budget: macros or loops call themselves "
                                                          "too deep", source=label)
    return TemplateError(template, locale, line, _describe(exc), source=label)


def _text_location(exc: BaseException) -> tuple[Optional[str], Optional[int]]:
    if isinstance(exc, TemplateSyntaxError):
        return _relative(exc.filename), exc.lineno
    label = line = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(_TEXT_ROOT):
            label, line = _relative(filename), tb.tb_lineno
        tb = tb.tb_next
    return label, line


def _relative(filename: Optional[str]) -> Optional[str]:
    if not filename:
        return None
    try:
        return str(Path(filename).relative_to(TEMPLATES_DIR))
    except ValueError:
        return filename


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {message}"


_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")


def _tidy(text: str) -> str:
    return _BLANK_LINES.sub("\n\n", _TRAILING.sub("\n", text)).strip() + "\n"


# -- previews --------------------------------------------------------------------------
SAMPLE_LOGO = TEMPLATES_DIR / "preview" / "sample-logo.svg"


def render_all(out_dir: Path) -> list[Path]:
    """Every template × locale with sample data → ``<template>.<locale>.html``/``.txt``, and
    ``index.html`` linking them all (last in the list). The sample logo is copied next to them."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE_LOGO, out / SAMPLE_LOGO.name)
    templates = TemplateSet.default()
    written: list[Path] = []
    rows = []
    for template in TEMPLATES:
        cells = []
        for locale in LOCALES:
            context = sample_context(template, locale)
            context["shop"]["logo_url"] = SAMPLE_LOGO.name
            email = templates.render(template, locale, context)
            stem = f"{template}.{locale}"
            (out / f"{stem}.html").write_text(email.html, encoding="utf-8")
            (out / f"{stem}.txt").write_text(
                f"Subject: {email.subject}\nPreheader: {email.preheader}\n\n{email.text}", encoding="utf-8")
            written += [out / f"{stem}.html", out / f"{stem}.txt"]
            cells.append(f'<td><a href="{stem}.html">{locale} HTML</a> · <a href="{stem}.txt">text</a>'
                         f'<div class="subject">{html_lib.escape(email.subject)}</div></td>')
        kind = "marketing" if template in MARKETING_TEMPLATES else "transactional"
        rows.append(f"<tr><th>{template}<div class=\"kind {kind}\">{kind}</div></th>{''.join(cells)}</tr>")
    index = out / "index.html"
    index.write_text(_INDEX.format(locales="".join(f"<th>{locale}</th>" for locale in LOCALES), rows="\n".join(rows)),
                     encoding="utf-8")
    written.append(index)
    return written


_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>E-mail previews</title>
<style>
body {{ font-family: -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; margin: 32px; color: #1f2933; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #e5e7eb; padding: 10px 12px; text-align: left; vertical-align: top; font-size: 14px; }}
thead th {{ background: #f4f1ec; }}
.subject {{ color: #6b7280; font-size: 12px; margin-top: 4px; }}
.kind {{ font-size: 11px; font-weight: 400; text-transform: uppercase; letter-spacing: .5px; margin-top: 4px; }}
.marketing {{ color: #a4275a; }} .transactional {{ color: #1f6f54; }}
</style></head>
<body><h1>E-mail previews</h1>
<p>Every template in every locale, rendered with sample data. Marketing e-mails need consent and carry the
unsubscribe link; transactional ones link the e-mail preferences.</p>
<table><thead><tr><th>template</th>{locales}</tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""
