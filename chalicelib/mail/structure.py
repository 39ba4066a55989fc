"""The tags of an MJML source, read in one linear pass: structure limits and tag balance.

mjml-python (MRML, Rust) recurses once per nesting level and has no limit of its own:
about 2,000 nested sections, or 10,000 unclosed ``<div>`` in an ``mj-raw``, overflow its
stack and the process dies with SIGSEGV (no exception to catch: the request's connection
drops, the Lambda instance is gone). So every source is scanned first for its nesting
depth and its number of elements (``check_structure``), and MRML is called only when the
source is far inside what it handles. MRML's own errors say nothing of where; the same
scan finds the MJML tag that is unknown or does not nest (``mjml_problem``).

The scan reads tags the way MRML does: a start tag opens an element (HTML void elements
like ``<br>`` and self-closed ``<x/>`` do not), any end tag closes the innermost one (MRML
pairs them by count, not by name), comments and ``<![CDATA[…]]>`` hold no tags, and quoted
attribute values and Jinja tags (``{{ }}``, ``{% %}``, ``{# #}``) inside a tag may hold
``>``. Unclosed tags count as nested, so 30,000 unclosed ``<div>`` are 30,000 levels deep.
It is not an HTML parser (Python's ``html.parser`` takes minutes on some 100 KB inputs): one
regular expression without backtracking finds the tags, and nothing builds a tree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, NamedTuple, Optional

MAX_DEPTH = 100        # the default templates nest at most 10 deep (layout included); MRML dies near 2,000
MAX_ELEMENTS = 3_000   # the default templates have at most 110 elements (layout included)

MJML_TAGS = frozenset({
    "mjml", "mj-head", "mj-body", "mj-include", "mj-attributes", "mj-all", "mj-class", "mj-breakpoint", "mj-font",
    "mj-html-attributes", "mj-html-attribute", "mj-selector", "mj-preview", "mj-style", "mj-title",
    "mj-accordion", "mj-accordion-element", "mj-accordion-text", "mj-accordion-title", "mj-button", "mj-carousel",
    "mj-carousel-image", "mj-column", "mj-divider", "mj-group", "mj-hero", "mj-image", "mj-navbar",
    "mj-navbar-link", "mj-raw", "mj-section", "mj-social", "mj-social-element", "mj-spacer", "mj-table",
    "mj-text", "mj-wrapper",
})
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
})
# One token: a comment, CDATA or declaration (skipped), or a tag. Inside a tag, quoted values
# and Jinja tags may hold '>'. Whatever is unterminated runs to the end of the source, so
# every character is read once; possessive quantifiers never backtrack, however hostile the source.
_TOKEN = re.compile(r"""
    <!--.*?(?:-->|\Z)
  | <!\[CDATA\[.*?(?:\]\]>|\Z)
  | <[!?][^>]*>?
  | <(?P<closing>/?)(?P<name>[A-Za-z][A-Za-z0-9:._-]*)
    (?:[^>"'{/]++ | "[^"]*+"? | '[^']*+'? | \{\{.*?(?:\}\}|\Z) | \{%.*?(?:%\}|\Z) | \{\#.*?(?:\#\}|\Z)
       | \{ | /(?!>))*+
    (?P<end>/?>|\Z)
""", re.S | re.X)


class StructureError(ValueError):
    """The MJML is over a structure limit; ``line`` (1-based) is where it went over."""

    def __init__(self, message: str, line: Optional[int]):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Structure:
    """How deep the source nests and how many elements it has."""

    depth: int
    elements: int


class Tag(NamedTuple):
    name: str          # lower case
    position: int      # of its '<'
    closing: bool      # </name>
    self_closed: bool  # <name/>


def tags(source: str) -> Iterator[Tag]:
    """The start and end tags of ``source`` in order (comments, CDATA, declarations skipped)."""
    for match in _TOKEN.finditer(source):
        name = match.group("name")
        if name is not None:
            yield Tag(name.lower(), match.start(), match.group("closing") == "/", match.group("end") == "/>")


def check_structure(source: str, *, max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS) -> Structure:
    """The depth and element count of ``source``; raises ``StructureError`` naming the limit
    it is over (``nested 3001 levels deep, the limit is 100``).

    Tags that do not balance are left to MRML, which refuses them with an error (see
    ``mjml_problem`` for where): within these limits it does so without crashing."""
    depth = deepest = deepest_at = elements = 0
    too_many_at = None
    for match in _TOKEN.finditer(source):  # tags() without a tuple per tag: this runs on every compile
        name = match.group("name")
        if name is None:
            continue
        if match.group("closing"):
            depth = max(depth - 1, 0)
            continue
        elements += 1
        if elements > max_elements and too_many_at is None:
            too_many_at = match.start()
        if match.group("end") != "/>" and name.lower() not in _VOID:
            depth += 1
            if depth > deepest:
                deepest, deepest_at = depth, match.start()
    if deepest > max_depth:
        raise StructureError(f"nested {deepest} levels deep, the limit is {max_depth}", _line(source, deepest_at))
    if too_many_at is not None:
        raise StructureError(f"{elements} elements, the limit is {max_elements}", _line(source, too_many_at))
    return Structure(deepest, elements)


def mjml_problem(source: str) -> Optional[tuple[int, str]]:
    """(line, what) of the first unknown or badly nested MJML tag (``mj-*``) of a file, or
    None: ``unknown MJML tag <mj-textt>``, ``</mj-column> closes <mj-text> opened on line 3``,
    ``</mj-text> closes nothing``, ``<mj-section> is never closed``."""
    lines = _Lines(source)
    open_tags: list[tuple[str, int]] = []
    for tag in tags(source):
        if not tag.name.startswith("mj"):
            continue
        line = lines.at(tag.position)
        if not tag.closing:
            if tag.name not in MJML_TAGS:
                return line, f"unknown MJML tag <{tag.name}>"
            if not tag.self_closed:
                open_tags.append((tag.name, line))
        elif not open_tags:
            return line, f"</{tag.name}> closes nothing"
        elif open_tags[-1][0] != tag.name:
            opened, at = open_tags[-1]
            return line, f"</{tag.name}> closes <{opened}> opened on line {at}"
        else:
            open_tags.pop()
    if open_tags:
        name, line = open_tags[-1]
        return line, f"<{name}> is never closed"
    return None


def _line(source: str, position: int) -> int:
    return source.count("\n", 0, position) + 1


class _Lines:
    """Line numbers of positions given in increasing order, counted incrementally."""

    def __init__(self, source: str):
        self._source, self._position, self._line = source, 0, 1

    def at(self, position: int) -> int:
        self._line += self._source.count("\n", self._position, position)
        self._position = position
        return self._line
