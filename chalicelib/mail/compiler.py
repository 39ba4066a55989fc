"""MJML → HTML once per (template, version, locale); a Jinja template per recipient.

The compile step, per template, version and locale:

1. assemble the MJML: ``layout.mjml`` with its ``<mj-include path="partials/…"/>`` partials
   and ``<mj-include path="content"/>`` replaced by the message (``<name>.mjml`` or a shop's
   override). The includes are expanded here, not by MRML: MRML renders included sections
   without the body's width.
2. check each file: its nesting depth and element count (``structure``: MRML crashes the
   process on very deep MJML), a ``<`` or a double quote inside a Jinja tag (both break the
   MJML parser), and the Jinja syntax, with the file's own line numbers;
3. substitute what is static for the locale: ``{{ t('key') }}`` with no arguments becomes
   the escaped catalog text, ``{{ locale }}`` the locale. Every other Jinja tag gets a
   marker comment ``{#@file:line#}`` after it: MJML keeps it, Jinja drops it at compile
   time, and an error in the compiled HTML is reported at the MJML file and line;
4. ``mjml2html`` (the only call of it, behind the structure check of the whole e-mail),
   then the compile of the HTML in the sandboxed environment of ``sandbox`` with
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
from typing import Optional

from jinja2 import StrictUndefined, TemplateSyntaxError, pass_context
from mjml import mjml2html

from chalicelib.mail.base import TEMPLATES_DIR, TemplateError, TemplateLimitError
from chalicelib.mail.catalog import catalog
from chalicelib.mail.formatting import FormatError, Formatter
from chalicelib.mail.sandbox import MailSandbox, guarded_filter
from chalicelib.mail.texts import NO_PATCH, CatalogPatch
from chalicelib.mail.structure import StructureError, check_structure, mjml_problem

CACHE_SIZE = 512
# Jinja compiles about 15,000 tokens a second here, and a save compiles every locale twice:
# 200 KB of Jinja would hold a request for minutes. Per file; the default templates have at
# most 33 tags and 1,131 characters of Jinja.
MAX_JINJA_TAGS = 2_000
MAX_JINJA_CHARS = 16_000
_JINJA_TOO_DEEP = "Jinja expressions or tags nested too deep to compile"
LAYOUT = "layout.mjml"

_JINJA_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_STATIC_TEXT = re.compile(r"^\{\{-?\s*t\(\s*'([A-Za-z0-9_.]+)'\s*\)\s*-?\}\}$")
_LOCALE = re.compile(r"^\{\{\s*locale\s*\}\}$")
_MARKER = re.compile(r"\{#@(\d+):(\d+)#\}")
_INCLUDE = re.compile(r'<mj-include\s+path="([^"]*)"\s*/>')
_PARTIAL = re.compile(r"^partials/[a-z0-9_-]+\.mjml$")
_UNDEFINED_NAME = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined|has no attribute '([A-Za-z_][A-Za-z0-9_]*)'"
                             r"|no element '?([A-Za-z_][A-Za-z0-9_]*)|access to attribute '([A-Za-z_][A-Za-z0-9_]*)'"
                             r"|([A-Za-z_][A-Za-z0-9_]*)\(\) cannot be called")


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
            chosen = None
            if hint:
                pattern = re.compile(rf"\b{re.escape(hint)}\b")
                for marker in markers:
                    start = max(text.rfind("{{", 0, marker.start()), text.rfind("{%", 0, marker.start()))
                    if start >= 0 and pattern.search(text, start, marker.start()):
                        chosen = marker
                        break
            if chosen is None:
                # Nothing names the tag (a budget or sandbox error): the shared layout and
                # partials are tested with every render, a shop's own source is not.
                chosen = next((marker for marker in markers
                               if self.labels[int(marker.group(1))].startswith("override")), markers[0])
            return self.labels[int(chosen.group(1))], int(chosen.group(2))
        return f"compiled {self.key}", lineno


def _none_shown() -> FormatError:
    return FormatError("a value is None: the e-mail would show a blank")


def _bound(name: str):
    @pass_context
    def apply(context, value, *args, **kwargs):
        return context[name](value, *args, **kwargs)
    apply.__name__ = name
    return apply


# The bound helpers of a render (formatter.money, .t, ...) are trusted plain functions: the
# sandbox calls them without Jinja's generic call path (about 1 µs a call, a tenth of a render).
_PLAIN_HELPERS = frozenset(getattr(Formatter, name) for name in Formatter.TEMPLATE_HELPERS)


def make_environment(environment_class=MailSandbox, **options) -> MailSandbox:
    """A sandboxed environment (see ``sandbox``) with StrictUndefined and no None shown."""
    env = environment_class(undefined=StrictUndefined, none_error=_none_shown, auto_reload=False,
                            helpers=_PLAIN_HELPERS, **options)
    # The helpers come with each render's context; the filters are the same helpers.
    for name in ("money", "number", "date", "percent", "points"):
        env.filters[name] = guarded_filter(name, _bound(name))
    return env


HTML_ENV = make_environment(autoescape=True, cache_size=0)

_cache: "OrderedDict[tuple, CompiledHtml]" = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def compile_mjml(source: str) -> str:
    """The one place MJML is compiled (tests count its calls). The structure is checked
    first: MRML crashes the process (SIGSEGV) on very deep MJML (see ``structure``)."""
    check_structure(source)
    try:
        return mjml2html(source, disable_comments=True, fonts={})
    except BaseException as error:
        # MRML's Rust panics (a character cut at a byte that is not its boundary) reach Python as
        # pyo3's PanicException, a BaseException: left alone it answers 500 or ends a worker.
        if type(error).__name__ != "PanicException":
            raise
        raise ValueError(f"the MJML could not be compiled ({str(error)[:200]})") from None


def compiled_html(template: str, version: str, locale: str, content: Source, *, marketing: bool,
                  patch: CatalogPatch = NO_PATCH) -> CompiledHtml:
    key = (template, version, content.digest, locale, patch.digest)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    built = _compile(template, version, locale, content, marketing, patch)
    with _lock:
        _cache[key] = built
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def assemble(template: str, locale: str, content: Source, *, marketing: bool,
             patch: CatalogPatch = NO_PATCH) -> tuple[str, list[str]]:
    """The MJML to compile (layout, partials and content, static texts in) and the file labels
    its ``{#@index:line#}`` markers refer to. Raises TemplateError at the file and line."""
    labels: list[str] = []
    texts = patch.applied_to(catalog(locale)) if patch else catalog(locale)

    def fail(source: Source, line: Optional[int], message: str, limit: bool = False) -> TemplateError:
        error_class = TemplateLimitError if limit else TemplateError
        return error_class(template, locale, line, message, source=source.label)

    def prepare(source: Source, depth: int = 0) -> str:
        if depth > 4:
            raise fail(source, None, "includes nest too deep")
        if source is content or (source.label, source.text) not in _FILES_CHECKED:
            _check(source, fail)
            if source is not content:
                _FILES_CHECKED.add((source.label, source.text))
        index = len(labels)
        labels.append(source.label)
        out: list[str] = []
        position, counted, line = 0, 0, 1
        for start, end in jinja_tags(source.text):
            line += source.text.count("\n", counted, start)
            counted = start
            out.append(source.text[position:start])
            tag = source.text[start:end]
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
            position = end
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


def _compile(template: str, version: str, locale: str, content: Source, marketing: bool,
             patch: CatalogPatch = NO_PATCH) -> CompiledHtml:
    mjml_source, labels = assemble(template, locale, content, marketing=marketing, patch=patch)
    try:
        compiled = compile_mjml(mjml_source)
    except StructureError as exc:  # each file was inside the limits; the assembled e-mail is not
        raise TemplateLimitError(template, locale, None, f"MJML with the layout {exc.message}",
                                 source=content.label) from None
    except Exception as exc:  # mjml-python raises terse ValueErrors without a line
        problem = mjml_problem(content.text)
        line, detail = problem if problem else (None, "")
        raise TemplateError(template, locale, line, f"MJML could not be compiled: {exc}"
                            + (f" ({detail})" if detail else ""), source=content.label) from None

    key = f"{template}@{version}/{locale}{'+' + patch.digest if patch else ''}.html"
    result = CompiledHtml(key, None, compiled.split("\n"), labels)
    try:
        code = HTML_ENV.compile(compiled, name=key, filename=key)
    except TemplateSyntaxError as exc:
        label, line = result.locate_line(exc.lineno or 1, None)
        raise TemplateError(template, locale, line, f"Jinja: {exc.message}", source=label) from None
    except RecursionError:
        raise TemplateLimitError(template, locale, None, _JINJA_TOO_DEEP, source=content.label) from None
    result.template = HTML_ENV.template_class.from_code(HTML_ENV, code, HTML_ENV.make_globals(None), None)
    return result


def _check(source: Source, fail) -> None:
    """The structure limits, the MJML/Jinja pitfalls and the Jinja syntax of one file, at its
    own line numbers."""
    try:
        check_structure(source.text)
    except StructureError as exc:
        raise fail(source, exc.line, f"MJML {exc.message}", limit=True) from None
    jinja_chars = 0
    for count, (start, end) in enumerate(jinja_tags(source.text), 1):
        jinja_chars += end - start
        if count > MAX_JINJA_TAGS or jinja_chars > MAX_JINJA_CHARS:
            what = f"over {MAX_JINJA_TAGS} Jinja tags, the limit is {MAX_JINJA_TAGS}" if count > MAX_JINJA_TAGS \
                else f"over {MAX_JINJA_CHARS} characters of Jinja, the limit is {MAX_JINJA_CHARS}"
            raise fail(source, _line_at(source.text, start), what, limit=True)
        tag = source.text[start:end]
        if tag.startswith("{#"):
            continue  # comments are dropped before MJML sees the source
        if "<" in tag:
            raise fail(source, _line_at(source.text, start), f"'<' inside the Jinja tag {tag!r} breaks the MJML "
                                                             "parser: turn the comparison around ('b > a')")
        if '"' in tag:
            raise fail(source, _line_at(source.text, start), f"double quotes inside the Jinja tag {tag!r} break "
                                                             "MJML attributes: use single quotes")
    try:
        HTML_ENV.parse(source.text)
    except TemplateSyntaxError as exc:
        raise fail(source, exc.lineno, f"Jinja: {exc.message}") from None
    except RecursionError:
        raise fail(source, None, _JINJA_TOO_DEEP, limit=True) from None
    problem = mjml_problem(source.text)
    if problem and problem[1].startswith("unknown"):
        raise fail(source, problem[0], problem[1])  # MRML would silently drop it


def jinja_tags(text: str):
    """(start, end) of each ``{{ }}``, ``{% %}`` and ``{# #}`` in ``text``, in one linear pass.

    (A regular expression with ``.*?`` is quadratic here: 60,000 unclosed ``{{`` in a
    template took two minutes to scan.) Once a kind of tag has no closer left, its later
    openers are not looked at again."""
    position, unclosed = 0, set()
    while True:
        start = text.find("{", position)
        if start < 0:
            return
        opener = text[start:start + 2]
        closer = _JINJA_CLOSERS.get(opener)
        if closer is None or opener in unclosed:
            position = start + 1
            continue
        end = text.find(closer, start + 2)
        if end < 0:
            unclosed.add(opener)
            position = start + 1
            continue
        yield start, end + 2
        position = end + 2


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


# The layout and partials (files of the project, the same for every shop) that passed ``_check``,
# with the text they had: each compile (every template, version and locale) included them and
# checked them again, a third of compiling an override. Content is always checked.
_FILES_CHECKED: set[tuple[str, str]] = set()


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
