"""The sandbox every e-mail template renders in: what a template may do, what it may not,
and the render budget that stops it (deterministically: steps, sizes and a fake timer)."""
from __future__ import annotations

import itertools
import time

import pytest

from chalicelib.mail.compiler import HTML_ENV
from chalicelib.mail.rendering import TemplateError, TemplateLimitError, TemplateSet, sample_context
from chalicelib.mail.sandbox import BudgetExceeded, Meter, RenderBudget, metering, printed_size

_versions = itertools.count()


def _render(body: str, budget: RenderBudget | None = None, locale: str = "en") -> str:
    """``body`` as the post-purchase message of a shop, rendered for the English sample customer."""
    templates = TemplateSet.default().with_overrides(
        {"post_purchase": (f"sandbox-{next(_versions)}", f"<mj-section><mj-column><mj-raw>{body}</mj-raw>"
                                                         "</mj-column></mj-section>")})
    if budget is not None:
        templates = templates.with_budget(budget)
    return templates.render("post_purchase", locale, sample_context("post_purchase", locale)).html


@pytest.mark.parametrize("body, shown", [
    ("{% for line in order.lines %}[{{ loop.index }}:{{ line.title|upper }}]{% endfor %}", "[1:ETHIOPIA"),
    ("{{ customer.first_name ~ '!' }} {{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ 2 ** 10 }}", "Emily! 7 3 1024"),
    ("{{ '%05d|%-4s|%.2f' % (42, 'ab', 3.14159) }}", "00042|ab  |3.14"),
    ("{{ '{:>6}|{:,}'.format('ab', 1234567) }} {{ '{name}'.format_map({'name': 'x'}) }}", "    ab|1,234,567 x"),
    ("{{ ['a', 'b', 'c']|join(', ') }} {{ 'abc'|center(7) }} {{ 'a-b'.replace('-', '+') }}", "a, b, c   abc   a+b"),
    ("{{ 'Hello World'.split()|reverse|join(' ') }} {{ 'x'.zfill(3) }} {{ 'ab' * 3 }}", "World Hello 00x ababab"),
    ("{% macro item(n) %}({{ n }}){% endmacro %}{% for n in range(3) %}{{ item(n) }}{% endfor %}", "(0)(1)(2)"),
    ("{{ order.lines[0].title ~ '&' }}", "Ethiopia Yirgacheffe coffee, 250 g&amp;"),
    ("{% set words %}{% for w in ['one', 'two'] %}{{ w|title }} {% endfor %}{% endset %}{{ words|trim }}",
     "One Two"),
    ("{% for k, v in {'a': 1}.items() %}{{ k }}={{ v }}{% endfor %} {{ dict(a=1)|length }}", "a=1 1"),
    ("{{ [3, 1, 2]|sort|map('string')|join }} {{ range(4)|sum }} {{ 'text'|truncate(9) }}", "123 6 text"),
    ("{{ points(2) }} {{ 2|points }} {{ percent(5) }}", "2 points 2 points 5%"),
])
def test_what_a_shop_template_may_do_still_renders(body, shown):
    assert shown in _render(body)


@pytest.mark.parametrize("body, words", [
    ("{{ lipsum.__globals__['os'].popen('id').read() }}", "'lipsum' is undefined"),
    ("{{ cycler.__init__.__globals__.os.environ }}", "unsafe"),
    ("{{ joiner.__init__.__globals__ }}", "unsafe"),
    ("{{ namespace.__init__.__globals__ }}", "unsafe"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
    ("{{ self._TemplateReference__context }}", "unsafe"),
    ("{{ ()|attr('__class__')|attr('__base__')|attr('__subclasses__')() }}", "__subclasses__"),
    ("{{ '{0.__class__.__mro__}'.format(customer) }}", "unsafe"),
    ("{% set f = '{0.__class__}'.format %}{{ f(1) }}", "unsafe"),
    ("{{ t.__func__.__globals__ }}", "unsafe"),
    ("{{ money.__self__ }}", "unsafe"),
    ("{% set seen = [] %}{{ seen.append(1) }}", "unsafe"),
    ("{{ dict.fromkeys(range(10), 'x') }}", "cannot be called"),
    ("{{ 'x'.encode('utf-8') }}", "str.encode() cannot be called"),
    ("{{ t('common.hello_name', name=order.lines) }}", "pass text or a number"),
])
def test_what_reaches_python_internals_is_refused_with_its_line(body, words):
    with pytest.raises(TemplateError) as caught:
        _render(body)
    assert words in str(caught.value)
    assert caught.value.source.startswith("override post_purchase") and caught.value.line == 1
    assert "uid=" not in str(caught.value)


@pytest.mark.parametrize("body, words", [
    ("{% for a in range(10**6) %}x{% endfor %}", "would have 1,000,000 items; the limit is 100,000"),
    ("{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
     "more than 1,000,000 loop iterations and calls"),
    ("{% macro m() %}{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}{% endmacro %}"
     "{{ m() }}", "loop iterations"),
    ("{% for a in 'x' * 99999 %}{% for b in 'y' * 99999 %}{% endfor %}{% endfor %}", "loop iterations"),
    ("{{ 'x' * 10**9 }}", "a repeated string would be 1,000,000,000 characters"),
    ("{{ ['x'] * 10**9 }}", "a repeated list would have 1,000,000,000 items"),
    ("{{ 9 ** (9 ** 9) }}", "bits; the limit is 4,096"),
    ("{{ '%999999999s' % 'a' }}", "'%999999999s' would be 999,999,999 characters wide"),
    ("{{ '%.999999999f' % 1.5 }}", "characters wide"),
    ("{{ '{:>999999999}'.format('a') }}", "the format spec '>999999999'"),
    ("{{ '{:{w}}'.format('a', w=999999999) }}", "the format spec '999999999'"),
    ("{{ 'a'|center(999999999) }}", "|center would be 999,999,999 characters"),
    ("{{ 'a'.ljust(999999999) }}", "str.ljust() would be 999,999,999 characters"),
    ("{{ ('x' * 999999)|indent(99) }}", "|indent"),
    ("{{ ('a' * 1000).replace('a', 'b' * 1001) }}", "str.replace() would be 1,001,000 characters"),
    ("{% set a = 'x' * 999999 %}{{ a ~ a }}", "a ~ concatenation would be 1,999,998 characters"),
    ("{% set a = 'x' * 999999 %}{{ [a, a, a]|join }}", "the value of |join would print more than 1,000,000"),
    ("{% set a = 'x' * 999999 %}{{ ''.join([a, a, a]) }}", "an argument of str.join() would print more than"),
    ("{% set a = 'x' * 999999 %}{{ [a, a] }}", "a printed value would print more than 1,000,000 characters"),
    ("{% set a = 'x' * 999999 %}{% set b %}{% for i in range(20) %}{{ a }}{% endfor %}{% endset %}",
     "built more than 10,000,000 characters"),
    ("{% macro double(s) %}{{ double(s ~ s) }}{% endmacro %}{{ double('x') }}", "a ~ concatenation"),
    ("{% macro forever() %}{{ forever() }}{% endmacro %}{{ forever() }}", "call themselves too deep"),
    ("{{ range(10)|batch(10**9, 'x')|list }}", "|batch would have 1,000,000,000 items"),
    ("{{ [[1]]|sum(start=[]) }}", "adds numbers only"),
    ("{{ range(10)|list|tojson(indent=100000) }}", "|tojson(indent) is limited"),
])
def test_a_template_over_its_budget_fails_naming_the_limit(body, words):
    with pytest.raises(TemplateLimitError) as caught:
        _render(body, RenderBudget(seconds=3600))  # the time limit has its own test
    assert "over the render budget" in str(caught.value) and words in str(caught.value)
    assert caught.value.source.startswith("override post_purchase") and caught.value.line == 1


def test_the_step_budget_counts_loop_iterations_and_calls():
    loop = "{% for n in range(300) %}{{ t('common.hello_name', name=n|string) }}{% endfor %}"
    # 300 iterations and 300 calls, twice: the HTML and the text part made from it (issue 16)
    assert "Hi 299!" in _render(loop, RenderBudget(steps=1_300))
    with pytest.raises(TemplateLimitError, match="more than 500 loop iterations and calls"):
        _render(loop, RenderBudget(steps=500))


def test_the_time_budget_stops_a_loop_that_calls_nothing():
    ticks = itertools.count()

    def timer() -> float:  # a clock that moves a millisecond every time it is read
        return next(ticks) / 1000

    body = "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"
    with pytest.raises(TemplateLimitError, match=r"took longer than 0\.5 s") as caught:
        with metering(RenderBudget(seconds=0.5), timer=timer):
            _render(body)
    assert next(ticks) < 1_000  # stopped after ~500 steps, not 10**10
    assert caught.value.line == 1


def test_the_output_budget_holds_for_each_part():
    body = "{% for n in range(3000) %}{{ 'x' * 100 }}{% endfor %}"  # 300,000 characters of HTML
    assert len(_render(body)) > 300_000
    # the text part made from the override's HTML carries the same 300,000 characters (issue 16)
    with pytest.raises(TemplateLimitError, match="the rendered (HTML|text) would be"):
        _render(body, RenderBudget(output_chars=200_000))


def test_a_template_rendered_outside_a_recipient_budget_gets_its_own():
    runaway = HTML_ENV.from_string("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}")
    with pytest.raises(BudgetExceeded, match="loop iterations|took longer than"):
        runaway.render()
    assert HTML_ENV.from_string("{{ 'a'|center(5) }}").render() == "  a  "


def test_constant_filters_are_not_run_at_compile_time():
    """Jinja folds constant expressions while compiling: a filter must not build its value
    there, outside every budget (each '...' below would be 900 KB)."""
    many = " ~ ".join(["('x'|center(900000))"] * 30)
    template = HTML_ENV.from_string("{{ " + many + " }}")  # compiles without building 27 MB
    with pytest.raises(BudgetExceeded, match="built more than 10,000,000 characters"):
        template.render()


def test_printed_size_counts_shared_parts_as_often_as_they_print():
    big = "x" * 1000
    assert printed_size([big, big], 10_000) == 2 + 2 * (1000 + 2)
    nested = [[big] * 10] * 10
    with pytest.raises(Exception):
        printed_size(nested, 50_000)  # 100,000 characters from one string shared 100 times
    assert printed_size({"a": 1}, 100) < 20


def test_the_time_budget_counts_the_renders_cpu_not_time_spent_waiting():
    """A loaded machine makes a render wait for the CPU; only the CPU it burns counts."""
    meter = Meter(RenderBudget(seconds=0.05))
    time.sleep(0.2)  # four budgets of waiting
    for _ in range(64):
        meter.step()
    started = time.thread_time()
    while time.thread_time() - started < 0.1:  # two budgets of work
        pass
    with pytest.raises(BudgetExceeded, match="took longer than 0.05 s"):
        for _ in range(64):
            meter.step()
