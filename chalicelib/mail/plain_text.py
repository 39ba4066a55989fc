"""The plain-text part of a shop's own template, made from its compiled HTML once per version.

A shop's override replaces the HTML body; its text part must say the same (a default text
part kept a sample code the new body did not offer). The compiled HTML still carries its
Jinja (``{{ offer.code }}``, ``{% if %}``), so turning it into text once per template version
and locale gives a Jinja *text* template, rendered per recipient with the same context as the
HTML: no HTML-to-text conversion per e-mail.

Kept: text in reading order, a line per block, table cells side by side, links as
"label: URL". Dropped: ``<head>``, styles, the hidden preheader, images and comments (MSO
conditionals).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "li", "ul", "ol", "section",
                     "hr", "blockquote"})
_VOID = frozenset({"br", "img", "meta", "hr", "input", "link", "area", "base", "col", "source", "wbr"})
_SKIPPED = frozenset({"head", "style", "script", "title"})
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)
_STATEMENT = re.compile(r"\{%-?.*?-?%\}", re.S)
_JINJA_STATEMENT = re.compile(r"^\s*\{%-?.*?-?%\}\s*$")


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hides its content)
        self.links: list[tuple[str, list[str]]] = []

    @property
    def hidden(self) -> bool:
        return any(hides for _, hides in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in _VOID:
            if tag in ("br", "hr") and not self.hidden:
                self._write("\n")
            return
        hides = tag in _SKIPPED or bool(_HIDDEN.search(attributes.get("style") or ""))
        self.stack.append((tag, hides))
        if self.hidden:
            return
        if tag in _BLOCKS:
            self._write("\n")
        elif tag in ("td", "th"):
            self._write(" ")
        elif tag == "a":
            self.links.append((attributes.get("href") or "", []))

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        while self.stack:  # MRML's output is well formed; a stray end tag closes to its match
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break
        if self.hidden or tag in _SKIPPED:
            return
        if tag == "a" and self.links:
            href, parts = self.links.pop()
            label = " ".join("".join(parts).split())
            if label and href and label != href:
                self._write(f"{label}: {href}")
            elif label:
                self._write(label)
        elif tag in _BLOCKS:
            self._write("\n")

    def handle_comment(self, data):
        # MJML puts ``mj-raw`` between sections inside Outlook's conditional comments: the
        # Jinja statements there ({% if offer %} … {% endif %}) belong to the text too.
        if not self.hidden:
            for statement in _STATEMENT.findall(data):
                self._write(statement)

    def handle_data(self, data):
        if self.hidden:
            return
        if self.links:
            self.links[-1][1].append(data)
        else:
            self._write(data)

    def _write(self, text: str) -> None:
        if self.links and text != "\n":
            self.links[-1][1].append(text)
        else:
            self.out.append(text)


def text_template_from_html(compiled_html: str) -> str:
    """The Jinja text template that says what ``compiled_html`` (MJML output with Jinja) says."""
    collector = _Collector()
    collector.feed(compiled_html)
    collector.close()
    lines = []
    for raw in "".join(collector.out).split("\n"):
        line = " ".join(raw.split())
        lines.append(line)
    text = "\n".join(lines)
    # a Jinja statement alone on a line leaves no empty line behind when it renders to nothing
    text = "\n".join(line for line in text.split("\n") if not _JINJA_STATEMENT.match(line) or line.strip())
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def jinja_expressions(source: str) -> set[str]:
    """The ``{{ … }}`` expressions of a template, whitespace-normalised (``t(…)`` texts aside):
    what one part shows that the other may not."""
    found = set()
    for match in re.finditer(r"\{\{-?\s*(.*?)\s*-?\}\}", source, re.S):
        expression = " ".join(match.group(1).split())
        if not expression.startswith("t("):
            found.add(expression)
    return found
