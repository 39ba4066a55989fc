"""The linear scan of MJML tags: depth and element limits checked before MRML, tag balance."""
from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.mail import compiler
from chalicelib.mail.rendering import TemplateError, TemplateLimitError, TemplateSet, sample_context
from chalicelib.mail.structure import MAX_DEPTH, StructureError, check_structure, mjml_problem
from tests.support.examples import examples

_NAMES = st.sampled_from(["mj-section", "mj-column", "mj-text", "div", "p", "span", "table", "td", "a"])
_ATTRIBUTES = st.sampled_from(["", ' class="a>b"', " title='x > y'", ' href="{{ links.shop }}"',
                               " data-x={{ 1 if a > b else 2 }}", ' style="{% if a > 1 %}color:red{% endif %}"'])
_TEXT = st.sampled_from(["", "text", "a > b", "<!-- <div> -->", "<![CDATA[<p>]]>", "<br>", "<img src='x'/>",
                         "{{ n > 1 }}", "&amp;"])


@st.composite
def trees(draw, depth=0):
    """(MJML source, its depth, its element count) of a random well-formed tree."""
    name = draw(_NAMES)
    children = draw(_children(depth))
    text = draw(_TEXT)
    source = f"<{name}{draw(_ATTRIBUTES)}>{text}" + "".join(c[0] for c in children) + f"</{name}>"
    inner = max((c[1] for c in children), default=0)
    elements = 1 + sum(c[2] for c in children) + text.count("<br>") + text.count("<img")
    return source, 1 + inner, elements


@functools.cache
def _children(depth: int):
    """A node's children at ``depth``: the same draws as a strategy made per node, made once per
    depth (hypothesis spent more on the strategies made per node than the test on its trees)."""
    return st.lists(trees(depth + 1), max_size=3 if depth < 6 else 0)


@pytest.mark.slow
@settings(max_examples=examples(200), deadline=None)
@given(trees())
def test_depth_and_elements_of_any_tree(tree):
    source, depth, elements = tree
    found = check_structure(source, max_depth=1_000)
    assert (found.depth, found.elements) == (depth, elements)
    assert mjml_problem(source) is None


@pytest.mark.parametrize("source, depth, elements", [
    ("<mj-raw><br><hr/><img src='a'><p>x</p></mj-raw>", 2, 5),
    ("<mj-raw><!-- <div><div> --><![CDATA[<div>]]><!DOCTYPE html><?xml x?></mj-raw>", 1, 1),
    ("<mj-text css-class='a>b' title=\"<div>\">x</mj-text>", 1, 1),
    ("<mj-text padding={{ a > b }}>{% if x %}y{% endif %}</mj-text>", 1, 1),
    ("a < b <3 <", 0, 0),
    ("</div></div><p></p>", 1, 1),  # stray closes never make the depth negative
])
def test_what_counts_as_a_tag(source, depth, elements):
    found = check_structure(source)
    assert (found.depth, found.elements) == (depth, elements)


def test_over_the_limits_names_the_limit_and_the_line():
    with pytest.raises(StructureError) as caught:
        check_structure("<mj-section>\n" + "<mj-wrapper>" * 3000 + "</mj-wrapper>" * 3000 + "</mj-section>")
    assert caught.value.message == "nested 3001 levels deep, the limit is 100" and caught.value.line == 2
    with pytest.raises(StructureError, match="nested 30001 levels deep, the limit is 100"):
        check_structure("<mj-raw>" + "<div>" * 30_000 + "</mj-raw>")  # never closed: all nested
    with pytest.raises(StructureError, match="3200 elements, the limit is 3000"):
        check_structure("<mj-raw>" + "<br>" * 3199 + "</mj-raw>")
    check_structure("<x>" * MAX_DEPTH + "</x>" * MAX_DEPTH)


@pytest.mark.parametrize("source, found", [
    ("<mj-section>\n<mj-column>\n<mj-text>Hi\n</mj-column>\n</mj-section>", (4, "</mj-column> closes <mj-text> "
                                                                              "opened on line 3")),
    ("<mj-section><mj-textt/></mj-section>", (1, "unknown MJML tag <mj-textt>")),
    ("<mj-section></mj-section>\n</mj-section>", (2, "</mj-section> closes nothing")),
    ("<mj-section>\n<mj-column>", (2, "<mj-column> is never closed")),
    ("<MJ-SECTION><div></MJ-SECTION>", None),  # only MJML tags are paired by name
])
def test_mjml_problem_says_which_tag_and_where(source, found):
    assert mjml_problem(source) == found


def test_a_deep_override_is_refused_before_the_compiler_sees_it(monkeypatch):
    def crash(*args, **kwargs):
        raise AssertionError("mjml2html was called with MJML over the limits")

    monkeypatch.setattr(compiler, "mjml2html", crash)
    deep = "<mj-section>\n<mj-column>\n<mj-raw>" + "<div>" * 30_000 + "</mj-raw></mj-column></mj-section>"
    templates = TemplateSet.default().with_overrides({"post_purchase": ("deep-1", deep)})
    with pytest.raises(TemplateLimitError) as caught:
        templates.render("post_purchase", "en", sample_context("post_purchase", "en"))
    assert "MJML nested 30003 levels deep, the limit is 100" in str(caught.value)
    assert caught.value.source == "override post_purchase@deep-1" and caught.value.line == 3


def test_the_whole_email_is_checked_with_its_layout(monkeypatch):
    """Each file inside the limit, the e-mail (layout + partials + body) over it: still refused."""
    monkeypatch.setattr(compiler, "mjml2html", lambda *a, **k: pytest.fail("mjml2html called"))
    body = "<mj-section><mj-column><mj-raw>" + "<div>" * 97 + "</div>" * 97 + "</mj-raw></mj-column></mj-section>"
    templates = TemplateSet.default().with_overrides({"post_purchase": ("deep-2", body)})
    with pytest.raises(TemplateLimitError, match=r"MJML with the layout nested 10\d levels deep, the limit is 100"):
        templates.render("post_purchase", "en", sample_context("post_purchase", "en"))


@pytest.mark.parametrize("body, words", [
    ("<mj-raw>" + "{{ 1 }}" * 2001 + "</mj-raw>", "over 2000 Jinja tags, the limit is 2000"),
    ("<mj-raw>{{ [" + "1, " * 6000 + "]|length }}</mj-raw>", "over 16000 characters of Jinja, the limit is 16000"),
    ("<mj-raw>{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}</mj-raw>", "nested too deep"),
    ("<mj-raw>" + "{{" * 60_000 + "</mj-raw>", "nested too deep"),  # a regex with .*? took minutes on this
])
def test_jinja_over_its_size_limits_is_refused(body, words):
    templates = TemplateSet.default().with_overrides({"post_purchase": (f"big-{len(body)}", body)})
    with pytest.raises(TemplateLimitError, match=words):
        templates.compile("post_purchase", "en")


def test_an_unbalanced_override_inside_the_limits_is_an_ordinary_error_with_its_line():
    body = "<mj-section>\n<mj-column>\n<mj-raw><div><div>x</div></mj-raw>\n</mj-column>\n</mj-section>"
    templates = TemplateSet.default().with_overrides({"post_purchase": ("unbalanced-1", body)})
    with pytest.raises(TemplateError) as caught:
        templates.compile("post_purchase", "en")
    assert not isinstance(caught.value, TemplateLimitError) and "could not be compiled" in str(caught.value)
