"""MJML → HTML once per (template, version, locale); a Jinja template per recipient.

The compile step, per template, version and locale:

1. assemble the MJML: ``layout.mjml`` with its ``<mj-include path="partials/…"/>`` partials
   and ``<mj-include path="content"/>`` replaced by the message (``<name>.mjml`` or a shop's
   override). The includes are expanded here, not by MRML: MRML renders included sections
   without the body's width.
2. check each file: a ``<`` or a double quote inside a Jinja tag (both break the MJML
   parser), and the Jinja syntax, with the file's own line numbers;
3. substitute what is static for the locale: ``{{ t('key') }}`` with no arguments becomes
   the escaped catalog text, ``{{ locale }}`` the locale. Every other Jinja tag gets a
   marker comment ``{#@file:line#}`` after it: MJML keeps it, Jinja drops it at compile
   time, and an error in the compiled HTML is reported at the MJML file and line;
4. ``mjml2html`` (the only call of it), then ``Environment.compile`` of the HTML with
   ``autoescape=True`` and ``StrictUndefined``.

The result is kept in a process-wide LRU keyed by (template, version, source digest,
locale): a shop's override compiles once per version however many TemplateSets are made.
"""
from __future__ import annotations

import hashlib
import html
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from html.parser import HTMLParser
from typing import Optional

from jinja2 import Environment, StrictUndefined, TemplateSyntaxError, pass_context
from jinja2.runtime import Context
from mjml import mjml2html

from chalicelib.mail.base import TEMPLATES_DIR, TemplateError
from chalicelib.mail.catalog import catalog
from chalicelib.mail.formatting import FormatError, Formatter

CACHE_SIZE = 512
LAYOUT = "layout.mjml"

_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_STATIC_TEXT = re.compile(r"^\{\{-?\s*t\(\s*'([A-Za-z0-9_.]+)'\s*\)\s*-?\}\}$")
_LOCALE = re.compile(r"^\{\{\s*locale\s*\}\}$")
_MARKER = re.compile(r"\{#@(\d+):(\d+)#\}")
_INCLUDE = re.compile(r'<mj-include\s+path="([^"]*)"\s*/>')
_PARTIAL = re.compile(r"^partials/[a-z0-9_-]+\.mjml$")
_UNDEFINED_NAME = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined|has no attribute '([A-Za-z_][A-Za-z0-9_]*)'"
                             r"|no element '?([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Source:
    label: str  # where a line number points: "post_purchase.mjml", "override post_purchase@v2"
    text: str

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]


@dataclass
class CompiledHtml:
    key: str
    template: object  # jinja2.Template
    lines: list[str]
    labels: list[str]

    def locate(self, exc: BaseException) -> tuple[Optional[str], Optional[int]]:
        """(file, line) in the MJML sources of an error raised while rendering this HTML."""
        lineno = template_line(exc, self.key)
        if lineno is None:
            return None, None
        return self.locate_line(lineno, _hint(exc))

    def locate_line(self, lineno: int, hint: Optional[str]) -> tuple[Optional[str], Optional[int]]:
        for index in range(min(lineno, len(self.lines)) - 1, -1, -1):
            text = self.lines[index]
            markers = list(_MARKER.finditer(text))
            if index != lineno - 1:
                markers = markers[-1:]  # the closest tag before the failing line
            if not markers:
                continue
            chosen = markers[0]
            if hint:
                pattern = re.compile(rf"\b{re.escape(hint)}\b")
                for marker in markers:
                    start = max(text.rfind("{{", 0, marker.start()), text.rfind("{%", 0, marker.start()))
                    if start >= 0 and pattern.search(text, start, marker.start()):
                        chosen = marker
                        break
            return self.labels[int(chosen.group(1))], int(chosen.group(2))
        return f"compiled {self.key}", lineno


def _refuse_none(value):
    if value is None:
        raise FormatError("a value is None: the e-mail would show a blank")
    return value


def _bound(name: str):
    @pass_context
    def apply(context, value, *args, **kwargs):
        return context[name](value, *args, **kwargs)
    apply.__name__ = name
    return apply


# The bound helpers of a render (formatter.money, .t, ...) are plain functions: Jinja's
# generic call path (pass_context checks) costs about 1 µs a call, a tenth of a render.
_PLAIN_HELPERS = frozenset(getattr(Formatter, name) for name in Formatter.TEMPLATE_HELPERS)


class MailContext(Context):
    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        if getattr(__obj, "__func__", None) in _PLAIN_HELPERS:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            return __obj(*args, **kwargs)
        return Context.call(__self, __obj, *args, **kwargs)


class MailEnvironment(Environment):
    """``a.b`` on a dict reads the key first: no AttributeError raised and caught per access
    (a third of a render's time), and ``order.items`` is the key, not ``dict.items``."""

    context_class = MailContext

    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return Environment.getattr(self, obj, attribute)


def make_environment(environment_class=MailEnvironment, **options) -> Environment:
    env = environment_class(undefined=StrictUndefined, finalize=_refuse_none, auto_reload=False, **options)
    # The helpers come with each render's context; the filters are the same helpers.
    for name in ("money", "number", "date", "percent", "points"):
        env.filters[name] = _bound(name)
    return env


HTML_ENV = make_environment(autoescape=True, cache_size=0)

_cache: "OrderedDict[tuple, CompiledHtml]" = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def compile_mjml(source: str) -> str:
    """The one place MJML is compiled (tests count its calls)."""
    return mjml2html(source, disable_comments=True, fonts={})


def compiled_html(template: str, version: str, locale: str, content: Source, *, marketing: bool) -> CompiledHtml:
    key = (template, version, content.digest, locale)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    built = _compile(template, version, locale, content, marketing)
    with _lock:
        _cache[key] = built
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def assemble(template: str, locale: str, content: Source, *, marketing: bool) -> tuple[str, list[str]]:
    """The MJML to compile (layout, partials and content, static texts in) and the file labels
    its ``{#@index:line#}`` markers refer to. Raises TemplateError at the file and line."""
    labels: list[str] = []
    texts = catalog(locale)

    def fail(source: Source, line: Optional[int], message: str) -> TemplateError:
        return TemplateError(template, locale, line, message, source=source.label)

    def prepare(source: Source, depth: int = 0) -> str:
        if depth > 4:
            raise fail(source, None, "includes nest too deep")
        _check(source, fail)
        index = len(labels)
        labels.append(source.label)
        out: list[str] = []
        position, counted, line = 0, 0, 1
        for match in _JINJA_TAG.finditer(source.text):
            line += source.text.count("\n", counted, match.start())
            counted = match.start()
            out.append(source.text[position:match.start()])
            tag = match.group(0)
            static = _STATIC_TEXT.match(tag)
            if tag.startswith("{#"):
                pass
            elif static:
                text = texts.get(static.group(1))
                if not isinstance(text, str):
                    problem = "has plural forms: pass count=" if text else f"is not in the {locale} catalog"
                    raise fail(source, line, f"text {static.group(1)!r} {problem}")
                escaped = html.escape(text)
                out.append("{% raw %}" + escaped + "{% endraw %}" if "{" in escaped else escaped)
            elif _LOCALE.match(tag):
                out.append(locale)
            else:
                out.append(f"{tag}{{#@{index}:{line}#}}")
            position = match.end()
        out.append(source.text[position:])
        annotated = "".join(out)

        def include(match: re.Match) -> str:
            path = match.group(1)
            if path == "content" and depth == 0 and source is not content:
                return prepare(content, depth + 1)
            if not _PARTIAL.match(path):
                line_no = annotated.count("\n", 0, match.start()) + 1
                raise fail(source, line_no, f'mj-include path="{path}": only partials/<name>.mjml can be included')
            return prepare(Source(path, _read(path)), depth + 1)

        return _INCLUDE.sub(include, annotated)

    is_document = content.text.lstrip().startswith("<mjml")
    root = content if is_document else Source(LAYOUT, _read(LAYOUT))
    mjml_source = prepare(root)
    if marketing and is_document and "links.unsubscribe" not in mjml_source:
        raise fail(content, None, "a marketing e-mail must link {{ links.unsubscribe }} "
                                  "(include partials/footer.mjml)")
    return mjml_source, labels


def _compile(template: str, version: str, locale: str, content: Source, marketing: bool) -> CompiledHtml:
    mjml_source, labels = assemble(template, locale, content, marketing=marketing)
    try:
        compiled = compile_mjml(mjml_source)
    except Exception as exc:  # mjml-python raises terse ValueErrors without a line
        problem = mjml_problem(content.text)
        line, detail = problem if problem else (None, "")
        raise TemplateError(template, locale, line, f"MJML could not be compiled: {exc}"
                            + (f" ({detail})" if detail else ""), source=content.label) from None

    key = f"{template}@{version}/{locale}.html"
    result = CompiledHtml(key, None, compiled.split("\n"), labels)
    try:
        code = HTML_ENV.compile(compiled, name=key, filename=key)
    except TemplateSyntaxError as exc:
        label, line = result.locate_line(exc.lineno or 1, None)
        raise TemplateError(template, locale, line, f"Jinja: {exc.message}", source=label) from None
    result.template = HTML_ENV.template_class.from_code(HTML_ENV, code, HTML_ENV.make_globals(None), None)
    return result


def _check(source: Source, fail) -> None:
    """The MJML/Jinja pitfalls and the Jinja syntax of one file, at its own line numbers."""
    for match in _JINJA_TAG.finditer(source.text):
        tag = match.group(0)
        if tag.startswith("{#"):
            continue  # comments are dropped before MJML sees the source
        line = source.text.count("\n", 0, match.start()) + 1
        if "<" in tag:
            raise fail(source, line, f"'<' inside the Jinja tag {tag!r} breaks the MJML parser: "
                                     "turn the comparison around ('b > a')")
        if '"' in tag:
            raise fail(source, line, f"double quotes inside the Jinja tag {tag!r} break MJML attributes: "
                                     "use single quotes")
    try:
        HTML_ENV.parse(source.text)
    except TemplateSyntaxError as exc:
        raise fail(source, exc.lineno, f"Jinja: {exc.message}") from None
    problem = mjml_problem(source.text)
    if problem and problem[1].startswith("unknown"):
        raise fail(source, problem[0], problem[1])  # MRML would silently drop it


def _read(path: str) -> str:
    return (TEMPLATES_DIR / path).read_text(encoding="utf-8")


def template_line(exc: BaseException, filename: str) -> Optional[int]:
    """The template line of the innermost frame of ``filename`` in a Jinja-rewritten traceback."""
    if isinstance(exc, TemplateSyntaxError) and exc.filename == filename:
        return exc.lineno
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _hint(exc: BaseException) -> Optional[str]:
    match = _UNDEFINED_NAME.search(str(exc))
    if not match:
        return None
    return next(group for group in match.groups() if group)


MJML_TAGS = frozenset({
    "mjml", "mj-head", "mj-body", "mj-include", "mj-attributes", "mj-all", "mj-class", "mj-breakpoint", "mj-font",
    "mj-html-attributes", "mj-html-attribute", "mj-selector", "mj-preview", "mj-style", "mj-title",
    "mj-accordion", "mj-accordion-element", "mj-accordion-text", "mj-accordion-title", "mj-button", "mj-carousel",
    "mj-carousel-image", "mj-column", "mj-divider", "mj-group", "mj-hero", "mj-image", "mj-navbar",
    "mj-navbar-link", "mj-raw", "mj-section", "mj-social", "mj-social-element", "mj-spacer", "mj-table",
    "mj-text", "mj-wrapper",
})


class _Balance(HTMLParser):
    """Where the MJML tags (mj-*) are unknown or do not nest: mjml-python does not say."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.problem: Optional[tuple[int, str]] = None

    def _report(self, line: int, message: str) -> None:
        if self.problem is None:
            self.problem = (line, message)

    def handle_starttag(self, tag, attrs):
        if tag.startswith("mj"):
            if tag not in MJML_TAGS:
                self._report(self.getpos()[0], f"unknown MJML tag <{tag}>")
            self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag, attrs):
        if tag.startswith("mj") and tag not in MJML_TAGS:
            self._report(self.getpos()[0], f"unknown MJML tag <{tag}>")

    def handle_endtag(self, tag):
        if not tag.startswith("mj"):
            return
        line = self.getpos()[0]
        if not self.stack:
            self._report(line, f"</{tag}> closes nothing")
        elif self.stack[-1][0] != tag:
            opened, at = self.stack[-1]
            self._report(line, f"</{tag}> closes <{opened}> opened on line {at}")
        else:
            self.stack.pop()


def mjml_problem(text: str) -> Optional[tuple[int, str]]:
    """(line, what) of the first unknown or badly nested MJML tag of a file, or None."""
    checker = _Balance()
    try:
        checker.feed(text)
        checker.close()
    except Exception:  # noqa: BLE001 - a best-effort locator only
        return None
    if checker.problem is None and checker.stack:
        tag, line = checker.stack[-1]
        checker.problem = (line, f"<{tag}> is never closed")
    return checker.problem
