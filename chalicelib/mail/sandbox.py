"""The Jinja environment every e-mail template runs in: a sandbox with a render budget.

A shop's template is hostile input: its author can type any Jinja. The environment is
Jinja's ``ImmutableSandboxedEnvironment`` (no ``_``/``__`` attributes, no mutation of lists
and dicts, ``str.format`` sandboxed) with these changes:

* no globals that lead to Python internals: ``lipsum``, ``cycler``, ``joiner`` and
  ``namespace`` are gone (their ``__globals__`` reach ``os``); ``range`` is bounded;
* calls are allowed only to what an e-mail needs (the render's helpers ``t``, ``money`` …,
  macros, blocks, ``loop``, ``range``, ``dict`` and a list of harmless methods of ``str``,
  ``dict``, ``list`` and ``tuple``); anything else is a ``SecurityError`` naming the call;
* a **budget per recipient** (``RenderBudget``), checked *before* a value is built where its
  size can be known (``'x' * n``, ``'%9999999s'``, ``'{:>9999999}'``, ``center(n)``, joins,
  concatenations, integer powers) and counted as the render runs: every loop iteration and
  every call is a step, every string built counts towards the characters produced, and the
  rendering thread's CPU time is checked every 16 steps. Going over raises ``BudgetExceeded``: the render fails
  with a readable message instead of stalling a send or exhausting the Lambda's memory.

The budget is counted by a ``Meter`` that ``metering()`` makes current for one recipient
(subject, preheader, text and HTML together). Loops are metered by the code generator: each
``{% for %}`` iterates through ``environment.metered(...)``, so a loop whose body calls
nothing (``{% for a in range(n) %}{% for b in range(n) %}x{% endfor %}{% endfor %}``) is
stopped all the same. Nothing runs on another thread: the check happens in the render itself.
"""
from __future__ import annotations

import re
import time
import types
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time as time_of_day
from decimal import Decimal
from functools import wraps
from string import Formatter
from typing import Any, Callable, Iterable, Iterator, Optional

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.environment import Template
from jinja2.filters import make_attrgetter
from jinja2.runtime import BlockReference, LoopContext, Macro, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter, SecurityError
from jinja2.utils import _PassArg
from markupsafe import Markup


class BudgetExceeded(Exception):
    """A render went over its budget; the message says which limit, in words a marketer reads."""


@dataclass(frozen=True)
class RenderBudget:
    """What one recipient's render (subject, preheader, text and HTML) may cost.

    An e-mail is a few tens of kilobytes (Gmail clips at 102 KB) and renders in about a
    millisecond: every limit is far above a real template and far below what hurts."""

    seconds: float = 1.0               # CPU time of the whole render (the rendering thread's)
    steps: int = 1_000_000             # loop iterations and calls
    output_chars: int = 1_000_000      # each rendered part (HTML, text, subject, preheader)
    value_chars: int = 1_000_000       # any one string a template builds or prints
    produced_chars: int = 10_000_000   # all strings built during the render (memory)
    items: int = 100_000               # a list a template builds, a range
    int_bits: int = 4_096              # an integer a template computes (money needs 64)


DEFAULT_BUDGET = RenderBudget()


# The time budget counts the rendering thread's CPU time, not the wall's: a template that loops
# burns CPU and is stopped all the same, while a benign one on a loaded machine (or a Lambda
# sharing its vCPU) is not refused for time it spent waiting. Reading that clock costs ~0.5 µs,
# so it is read every 16th step; the step limit is checked on every one.
_CLOCK_MASK = 15


class Meter:
    """The budget of one render as it is spent."""

    __slots__ = ("budget", "deadline", "steps", "produced", "_timer", "_max_steps", "_max_value", "_max_produced")

    def __init__(self, budget: RenderBudget, timer: Callable[[], float] = time.thread_time):
        self.budget = budget
        self._timer = timer
        self.deadline = timer() + budget.seconds
        self.steps = 0
        self.produced = 0
        self._max_steps, self._max_value, self._max_produced = budget.steps, budget.value_chars, budget.produced_chars

    def step(self) -> None:
        """One loop iteration or call (``MailSandbox.call`` has this inlined)."""
        self.steps += 1
        if self.steps > self._max_steps or (not self.steps & _CLOCK_MASK and self._timer() > self.deadline):
            self.overrun()

    def overrun(self) -> None:
        if self.steps > self._max_steps:
            raise BudgetExceeded(f"the render took more than {self.budget.steps:,} loop iterations and calls; "
                                 "is a loop too long?")
        raise BudgetExceeded(f"the render took longer than {self.budget.seconds:g} s")

    def produce(self, chars: int) -> None:
        """Count a string of ``chars`` characters the template built (inlined in the hot paths)."""
        self.produced += chars
        if chars > self._max_value or self.produced > self._max_produced:
            self.overproduced(chars)

    def overproduced(self, chars: int) -> None:
        if chars > self._max_value:
            raise BudgetExceeded(f"a value of {chars:,} characters; the limit is {self._max_value:,}")
        raise BudgetExceeded(f"the render built more than {self._max_produced:,} characters of text")


_current: ContextVar[Optional[Meter]] = ContextVar("mail_render_meter", default=None)


@contextmanager
def metering(budget: RenderBudget = DEFAULT_BUDGET, timer: Callable[[], float] = time.thread_time) -> Iterator[Meter]:
    """Make a meter current for one recipient's render; inside one already, keep that one."""
    active = _current.get()
    if active is not None:
        yield active
        return
    meter = Meter(budget, timer)
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)


def _unmetered() -> Meter:
    raise RuntimeError("a mail template was rendered outside sandbox.metering()")


def _budget() -> RenderBudget:
    meter = _current.get()
    return meter.budget if meter is not None else DEFAULT_BUDGET


def _produce(value: Any) -> Any:
    """Count a string the template built against the budget; return it."""
    if isinstance(value, str):
        meter = _current.get()
        if meter is not None:
            meter.produce(len(value))
        elif len(value) > DEFAULT_BUDGET.value_chars:
            raise BudgetExceeded(f"a value of {len(value):,} characters; the limit is {DEFAULT_BUDGET.value_chars:,}")
    return value


# -- sizes -----------------------------------------------------------------------------
_CONTAINERS = (list, tuple, set, frozenset, dict)
_FLAT = frozenset({str, Markup, int, bool, float, Decimal, type(None), date, datetime})


class _TooBig(Exception):
    pass


class _NotDuringCompile(Exception):
    pass


def printed_size(value: Any, limit: int) -> int:
    """About how many characters ``str(value)`` would take, counted without building it.

    A list holding the same big string many times prints it each time: shared parts are
    measured once and counted as often as they occur. Raises ``_TooBig`` past ``limit``."""
    seen: dict[int, int] = {}

    def size(item: Any) -> int:
        kind = type(item)
        if kind is str or isinstance(item, str):
            return len(item)
        if kind is int:
            return item.bit_length() * 30103 // 100000 + 2
        if kind not in _CONTAINERS and not isinstance(item, _CONTAINERS):
            return 8
        key = id(item)
        if key in seen:
            return seen[key]
        total = 2
        pairs = item.items() if isinstance(item, dict) else ((element, None) for element in item)
        for element, mapped in pairs:
            total += size(element) + 2 + (size(mapped) + 2 if mapped is not None else 0)
            if total > limit:
                raise _TooBig
        seen[key] = total
        return total

    return size(value)


def _check_printable(value: Any, what: str) -> None:
    """A list, tuple, set or dict about to be turned into text must fit the value limit."""
    if isinstance(value, _CONTAINERS):
        limit = _budget().value_chars
        try:
            printed_size(value, limit)
        except _TooBig:
            raise BudgetExceeded(f"{what} would print more than {limit:,} characters") from None


def _check_length(chars: int, what: str) -> None:
    limit = _budget().value_chars
    if chars > limit:
        raise BudgetExceeded(f"{what} would be {chars:,} characters; the limit is {limit:,}")


def _check_items(count: int, what: str) -> None:
    limit = _budget().items
    if count > limit:
        raise BudgetExceeded(f"{what} would have {count:,} items; the limit is {limit:,}")


def _sequence_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    try:
        return printed_size(value, _budget().value_chars)
    except _TooBig:
        return _budget().value_chars + 1


def bounded_range(*args: int) -> range:
    """``range`` for templates: at most ``RenderBudget.items`` numbers."""
    numbers = range(*args)
    _check_items(len(numbers), f"range{args}")
    return numbers


# -- formats: '%5s' % x, '{:>5}'.format(x), '...'|format(x) ----------------------------------
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")
_FORMAT_SPEC = re.compile(r"^(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[_,]?(?:\.(\d+))?[a-zA-Z%]?$", re.S)
_TIME_FIELD_WIDTH = re.compile(r"%[-_0^#]*\d")


def _check_printf(template: str, args: Any) -> None:
    limit = _budget().value_chars
    for match in _PRINTF.finditer(template):
        width, precision = match.groups()
        if width == "*" or precision == "*":
            raise BudgetExceeded("'%*s' (a width taken from the arguments) is not supported in e-mail templates")
        for number in (width, precision):
            if number and int(number) > limit:
                raise BudgetExceeded(f"the format {match.group(0)!r} would be {int(number):,} characters wide; "
                                     f"the limit is {limit:,}")
    _check_printable(args, "the formatted values")


def _check_format_field(value: Any, spec: str) -> None:
    limit = _budget().value_chars
    match = _FORMAT_SPEC.match(spec)
    if match:
        for number in match.groups():
            if number and int(number) > limit:
                raise BudgetExceeded(f"the format spec {spec!r} would be {int(number):,} characters wide; "
                                     f"the limit is {limit:,}")
        if isinstance(value, Decimal) and value.is_finite() and spec[-1:] in ("f", "F", "%"):
            _check_length(abs(value.adjusted()) + int(match.group(2) or 0), f"{value!s} formatted as {spec!r}")
    elif isinstance(value, (date, datetime, time_of_day)) and _TIME_FIELD_WIDTH.search(spec):
        raise BudgetExceeded(f"a width in the date format {spec!r} is not supported in e-mail templates")
    _check_printable(value, "a formatted value")


class _BudgetFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_format_field(value, format_spec)
        return _produce(super().format_field(value, format_spec))


class _BudgetEscapeFormatter(SandboxedEscapeFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_format_field(value, format_spec)
        return _produce(super().format_field(value, format_spec))


class _CheckedFormat:
    """``'...'.format`` / ``.format_map`` of a template: sandboxed field access, checked widths."""

    __slots__ = ("_text", "_is_map", "_formatter", "__name__")

    def __init__(self, text: str, is_map: bool, formatter: Formatter):
        self._text, self._is_map, self._formatter = text, is_map, formatter
        self.__name__ = "format_map" if is_map else "format"

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        if self._is_map:
            if kwargs or len(args) != 1:
                raise TypeError("format_map() takes exactly one argument")
            args, kwargs = (), args[0]
        return _produce(type(self._text)(self._formatter.vformat(self._text, args, kwargs)))


# -- calls ----------------------------------------------------------------------------------
_STR_METHODS = frozenset({
    "capitalize", "casefold", "center", "count", "endswith", "expandtabs", "find", "index", "isalnum", "isalpha",
    "isascii", "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper", "join", "ljust",
    "lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust",
    "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper",
    "zfill", "striptags", "unescape",
})
_DICT_METHODS = frozenset({"get", "items", "keys", "values"})
_SEQUENCE_METHODS = frozenset({"count", "index"})
_LOOP_METHODS = frozenset({"cycle", "changed"})


def _describe(obj: Any) -> str:
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", None) or type(obj).__name__
    if owner is not None and not isinstance(owner, types.ModuleType):
        return f"{type(owner).__name__}.{name}()"
    return f"{name}()"


def _text_result_size(text: str, name: str, args: tuple, kwargs: dict) -> Optional[int]:
    """The length of ``text.<name>(*args)`` for the str methods that can grow a string."""
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        return max(len(text), width) if isinstance(width, int) else None
    if name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        return len(text) + text.count("\t") * size if isinstance(size, int) else None
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        old, new = args[0], args[1]
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        found = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            found = min(found, count)
        return len(text) + found * (len(new) - len(old))
    return None


class _MailCodeGenerator(CodeGenerator):
    """Sandboxed code, plus: every ``{% for %}`` iterates through ``environment.metered``
    and every ``a ~ b`` goes through ``environment.checked_concat``."""

    _loop_iterables: Optional[set] = None

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if self._loop_iterables is None:
            self._loop_iterables = set()
        self._loop_iterables.add(id(node.iter))  # Jinja allows no custom node types: marked by identity
        super().visit_For(node, frame)

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if self._loop_iterables and id(node) in self._loop_iterables:
            self._loop_iterables.discard(id(node))
            self.write("environment.metered(")
            super().visit(node, *args, **kwargs)
            self.write(")")
            return None
        return super().visit(node, *args, **kwargs)

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.checked_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class MailTemplate(Template):
    """``render``/``generate`` outside a recipient's budget get a budget of their own."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        with metering():
            context = self.new_context(dict(*args, **kwargs))
            try:
                return self.environment.checked_output(self.root_render_func(context), "output")
            except Exception:
                self.environment.handle_exception()

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        yield self.render(*args, **kwargs)


class MailSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the budget and the call allowlist of this module.

    ``helpers`` are the functions of the bound methods each render's context carries (the
    formatter's ``t``, ``money`` …): trusted, and called without Jinja's generic call path.
    ``none_error`` makes the exception raised when a template prints None."""

    code_generator_class = _MailCodeGenerator
    template_class = MailTemplate
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self, *args: Any, none_error: Optional[Callable[[], Exception]] = None,
                 helpers: Iterable[Callable] = (), **kwargs: Any):
        self._none_error = none_error
        super().__init__(*args, finalize=self._checked_finalize, **kwargs)
        for name in ("lipsum", "cycler", "joiner", "namespace"):
            self.globals.pop(name, None)
        self.globals["range"] = bounded_range
        self._helpers = frozenset(helpers)
        self._allowed_functions = frozenset({bounded_range, dict})
        self.filters = {name: guarded_filter(name, function) for name, function in self.filters.items()}

    # -- what reaches the output ------------------------------------------------------
    def _checked_finalize(self, value: Any) -> Any:
        if value is None and self._none_error is not None:
            raise self._none_error()
        if isinstance(value, str):
            meter = _current.get()
            if meter is not None:  # None: a constant, finalized when the template compiles
                size = len(value)
                meter.produced += size  # Meter.produce, inlined: this runs for every {{ }} printed
                if size > meter._max_value or meter.produced > meter._max_produced:
                    meter.overproduced(size)
        elif type(value) not in _FLAT:
            _check_printable(value, "a printed value")
        return value

    def concat(self, parts: Iterable[str]) -> str:  # a block, macro or {% set %} body
        parts = parts if isinstance(parts, list) else list(parts)
        _check_length(sum(map(len, parts)), "a block of the template")
        return _produce("".join(parts))

    def checked_output(self, parts: Iterable[str], what: str) -> str:
        """The whole of one rendered part, refused past ``output_chars``."""
        parts = list(parts)
        size, limit = sum(map(len, parts)), _budget().output_chars
        if size > limit:
            raise BudgetExceeded(f"the rendered {what} would be {size:,} characters; the limit is {limit:,}")
        return "".join(parts)

    def checked_concat(self, join: Callable[[Iterable[Any]], str], values: tuple) -> str:
        size = 0
        for value in values:
            size += len(value) if isinstance(value, str) else _sequence_size(value)
        _check_length(size, "a ~ concatenation")
        return _produce(join(values))

    def metered(self, iterable: Any) -> Any:
        return _metered(iterable, _current.get() or _unmetered())

    # -- operators ------------------------------------------------------------------------
    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "+":
            _check_add(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        return _produce(self.binop_table[operator](left, right))

    # -- attributes -------------------------------------------------------------------------
    def getattr(self, obj: Any, attribute: str) -> Any:
        # ``a.b`` on a dict reads the key first: no AttributeError raised and caught per
        # access (a third of a render's time), and ``order.items`` is the key, not dict.items.
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value: Any) -> Optional[Callable[..., str]]:
        if not isinstance(value, (types.MethodType, types.BuiltinMethodType)) or \
                value.__name__ not in ("format", "format_map") or not isinstance(value.__self__, str):
            return None
        text = value.__self__
        formatter = _BudgetEscapeFormatter(self, escape=text.escape) if isinstance(text, Markup) \
            else _BudgetFormatter(self)
        return _CheckedFormat(text, value.__name__ == "format_map", formatter)

    # -- calls ------------------------------------------------------------------------------
    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        meter = _current.get() or _unmetered()
        meter.steps += 1  # Meter.step, inlined: this runs for every call a template makes
        if meter.steps > meter._max_steps or (not meter.steps & _CLOCK_MASK and meter._timer() > meter.deadline):
            meter.overrun()
        if type(__obj) is types.MethodType and __obj.__func__ in __self._helpers:
            # the helpers refuse what they cannot show (a list, a dict) before turning it into text
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            result = __obj(*args, **kwargs)
        else:
            for value in args:
                if type(value) not in _FLAT and isinstance(value, _CONTAINERS):
                    _check_printable(value, f"an argument of {_describe(__obj)}")
            for name, value in kwargs.items():
                if type(value) not in _FLAT and isinstance(value, _CONTAINERS) and name[0] != "_":
                    _check_printable(value, f"the argument {name} of {_describe(__obj)}")
            __self._check_callable(__obj, args, kwargs)
            result = __context.call(__obj, *args, **kwargs)
        if isinstance(result, str):
            size = len(result)
            meter.produced += size
            if size > meter._max_value or meter.produced > meter._max_produced:
                meter.overproduced(size)
        return result

    def _check_callable(self, obj: Any, args: tuple, kwargs: dict) -> None:
        if isinstance(obj, (Macro, BlockReference, LoopContext, Undefined, _CheckedFormat)):
            return
        try:
            if obj in self._allowed_functions:
                return
        except TypeError:  # unhashable
            pass
        if isinstance(obj, (types.BuiltinMethodType, types.MethodType)):
            owner, name = obj.__self__, obj.__name__
            if isinstance(owner, str) and name in _STR_METHODS:
                if name == "join":
                    _check_join(owner, args[0] if args else kwargs.get("iterable", ()))
                else:
                    size = _text_result_size(owner, name, args, kwargs)
                    if size is not None:
                        _check_length(size, f"{_describe(obj)}")
                return
            if type(owner) is dict and name in _DICT_METHODS:
                return
            if type(owner) in (list, tuple) and name in _SEQUENCE_METHODS:
                return
            if isinstance(owner, LoopContext) and name in _LOOP_METHODS:
                return
        raise SecurityError(f"{_describe(obj)} cannot be called in an e-mail template")


def _metered(iterable: Any, meter: Meter) -> Iterator[Any]:
    step = meter.step
    for item in iterable:
        step()
        yield item


def _check_repeat(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int) and not isinstance(left, bool) and \
            not isinstance(right, bool):
        bits = left.bit_length() + right.bit_length()
        if bits > _budget().int_bits:
            raise BudgetExceeded(f"a product of about {bits:,} bits; the limit is {_budget().int_bits:,}")
        return
    sequence, times = (left, right) if isinstance(right, int) else (right, left)
    if not isinstance(times, int) or not isinstance(sequence, (str, list, tuple)):
        return
    times = max(times, 0)
    if isinstance(sequence, str):
        _check_length(len(sequence) * times, "a repeated string")
    else:
        _check_items(len(sequence) * times, "a repeated list")
        _check_length(_sequence_size(sequence) * times, "a repeated list")


def _check_add(left: Any, right: Any) -> None:
    if isinstance(left, str) and isinstance(right, str):
        _check_length(len(left) + len(right), "a + concatenation")
    elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        _check_items(len(left) + len(right), "a + of lists")
        _check_length(_sequence_size(left) + _sequence_size(right), "a + of lists")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        bits = base.bit_length() * exponent
        if bits > _budget().int_bits:
            raise BudgetExceeded(f"{base}**{exponent} has about {bits:,} bits; the limit is {_budget().int_bits:,}")


def _check_join(separator: str, iterable: Any) -> None:
    items = iterable if isinstance(iterable, (list, tuple)) else None
    if items is None:
        return  # a generator is measured by the result check; its items are bounded by their source
    _check_items(len(items), "a join")
    size = len(separator) * max(len(items) - 1, 0)
    for item in items:
        size += len(item) if isinstance(item, str) else _sequence_size(item)
    _check_length(size, "a join")


# -- filters ----------------------------------------------------------------------------------
_LIST_BUILDING_FILTERS = frozenset({
    "list", "batch", "slice", "sort", "unique", "reverse", "map", "select", "reject", "selectattr", "rejectattr",
    "groupby", "dictsort", "items", "join", "sum", "tojson", "pprint",
})


def guarded_filter(name: str, function: Callable) -> Callable:
    """A filter that checks what it is given (widths, counts, sizes) and counts what it builds."""
    passes = _PassArg.from_obj(function) is not None
    checks = _FILTER_CHECKS.get(name)

    @wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _current.get() is None:
            # Jinja folds constant filter calls at compile time: a filter runs only in a
            # metered render, so '...'|center(n) ~ '...'|center(n) is never built unbudgeted.
            raise _NotDuringCompile(f"|{name} runs when the template is rendered")
        environment = getattr(args[0], "environment", args[0]) if passes else None
        user_args = args[1:] if passes else args
        if user_args:
            value = user_args[0]
            if name in _LIST_BUILDING_FILTERS and isinstance(value, _CONTAINERS) or \
                    name == "list" and isinstance(value, str):
                _check_items(len(value), f"|{name}")
        for value in user_args:
            if isinstance(value, _CONTAINERS):
                _check_printable(value, f"the value of |{name}")
        for key, value in kwargs.items():
            if isinstance(value, _CONTAINERS):
                _check_printable(value, f"the argument {key} of |{name}")
        if checks is not None and user_args:
            checks(environment, *user_args, **kwargs)
        result = function(*args, **kwargs)
        if isinstance(result, (list, tuple)):
            _check_items(len(result), f"|{name}")
        return _produce(result)

    return guarded


def _width_filter(what: str, width_position: int = 0, keyword: str = "width", default: int = 80):
    def check(environment, value, *args, **kwargs):
        width = args[width_position] if len(args) > width_position else kwargs.get(keyword, default)
        if isinstance(width, int):
            _check_length(max(width, len(str(value)) if isinstance(value, str) else 0), what)
    return check


def _check_indent_filter(environment, value, width=4, *args, **kwargs):
    width = kwargs.get("width", width)
    unit = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    text = value if isinstance(value, str) else ""
    _check_length(len(text) + (text.count("\n") + 1) * max(unit, 0), "|indent")


def _check_wordwrap_filter(environment, value, width=79, break_long_words=True, wrapstring=None, *args, **kwargs):
    width = kwargs.get("width", width)
    wrapstring = kwargs.get("wrapstring", wrapstring)
    text = value if isinstance(value, str) else ""
    glue = len(wrapstring) if isinstance(wrapstring, str) else 2
    lines = len(text) // max(width, 1) + text.count("\n") + 1 if isinstance(width, int) else 1
    _check_length(len(text) + lines * glue, "|wordwrap")


def _check_replace_filter(environment, value, old=None, new=None, count=None, *args, **kwargs):
    if isinstance(value, str) and isinstance(old, str) and isinstance(new, str):
        size = _text_result_size(value, "replace", (old, new, -1 if count is None else count), {})
        _check_length(size, "|replace")


def _check_count_filter(what: str, position: int, keyword: str):
    def check(environment, value, *args, **kwargs):
        count = args[position] if len(args) > position else kwargs.get(keyword)
        if isinstance(count, int):
            _check_items(count, what)
    return check


def _check_join_filter(environment, value, d="", attribute=None, *args, **kwargs):
    separator = kwargs.get("d", d)
    attribute = kwargs.get("attribute", attribute)
    if isinstance(value, (list, tuple)):
        items = value
        if attribute is not None:
            getter = make_attrgetter(environment, attribute)
            items = [getter(item) for item in value]
        _check_join(separator if isinstance(separator, str) else str(separator), items)


def _check_format_filter(environment, value, *args, **kwargs):
    if isinstance(value, str):
        _check_printf(value, kwargs or args)


def _check_tojson_filter(environment, value, indent=None, *args, **kwargs):
    indent = kwargs.get("indent", indent)
    if isinstance(indent, int) and indent > 16 or isinstance(indent, str) and len(indent) > 16:
        raise BudgetExceeded("|tojson(indent) is limited to 16")


def _check_sum_filter(environment, value, attribute=None, start=0, *args, **kwargs):
    start = kwargs.get("start", start)
    if not isinstance(start, (int, float, Decimal)):
        raise BudgetExceeded("|sum(start=...) adds numbers only")


_FILTER_CHECKS: dict[str, Callable] = {
    "center": _width_filter("|center"),
    "indent": _check_indent_filter,
    "wordwrap": _check_wordwrap_filter,
    "replace": _check_replace_filter,
    "batch": _check_count_filter("|batch", 0, "linecount"),
    "slice": _check_count_filter("|slice", 0, "slices"),
    "join": _check_join_filter,
    "format": _check_format_filter,
    "tojson": _check_tojson_filter,
    "sum": _check_sum_filter,
}
