"""A Jinja2 sandbox with bounded work: channel templates cannot exhaust CPU or memory.

Jinja's ``SandboxedEnvironment`` stops a template from reaching Python
internals, but not from doing unbounded work: ``range`` is capped at 100 000
items per call, not per template, so two nested loops run 10^10 times;
``'x' * 10**9``, ``'x' | center(10**9)``, ``'%0999999999d' | format(1)`` or a
string doubled with ``~`` twenty times allocate gigabytes. Rendering runs on
the server's event loop, so one hostile template (an administrator's key
suffices) would stall alerting, ingest and the API together.

``BoundedEnvironment`` (immutable sandbox: no ``append``/``extend`` doubling)
bounds every way a template does work:

* **iterations**: every ``{% for %}`` (the AST is rewritten to iterate through
  a counter), every ``loop(...)`` of a recursive loop and every ``range`` item
  draw on one budget per render (``MAX_STEPS``);
* **sizes**: ``*``, ``**``, ``+``, ``%`` and ``~`` refuse results longer than
  ``MAX_SIZE`` (or integers wider than ``MAX_BITS``); filters and method
  calls refuse integer arguments above ``MAX_ARGUMENT``, format specifications
  with a width of six digits or more, and results longer than ``MAX_SIZE``;
  ``replace`` is judged before it runs; ``lipsum`` is gone;
* **work**: what filters, calls and operators take in and give out is
  charged to a second budget (``MAX_WORK`` characters or items), so a loop
  cannot sort a long string ten thousand times;
* **output**: ``render_bounded`` stops once the output passes ``MAX_SIZE``.

Exceeding a bound raises ``SecurityError`` (a ``TemplateError``), so the
caller falls back to the built-in template as for any template error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from functools import wraps
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

__all__ = ["MAX_SIZE", "MAX_STEPS", "MAX_WORK", "BoundedEnvironment", "render_bounded"]

MAX_SIZE = 256 * 1024
"""Longest string or collection a template may build, and its longest output."""
MAX_STEPS = 10_000
"""Loop iterations and ``range`` items one render may use."""
MAX_WORK = 1_000_000
"""Characters and items filters, calls and operators may take in and give out in one render
(a ``sort`` of a long string costs a microsecond an item)."""
MAX_ARGUMENT = 100_000
"""Largest integer a filter or method call accepts (widths, counts)."""
MAX_BITS = 4096
"""Widest integer arithmetic may produce."""

_ITERATE = "_argus_bounded_iter"
_CONCAT = "_argus_bounded_concat"
_WIDE_SPEC = re.compile(r"[%:][^%:{}\s]{0,20}?\d{6,}")
_steps: ContextVar[list[int] | None] = ContextVar("argus_template_budget", default=None)
"""The render's budgets left: ``[loop steps, work]``."""


def _budget() -> list[int]:
    left = _steps.get()
    if left is None:
        raise SecurityError("a template runs only through render_bounded")
    return left


def _spend(count: int) -> None:
    left = _budget()
    left[0] -= count
    if left[0] < 0:
        raise SecurityError(f"the template ran more than {MAX_STEPS} loop steps")


def _work(*values: object) -> None:
    """Charge the sizes of ``values`` (the inputs or the result of an operation)."""
    size = sum(
        len(value) for value in values if isinstance(value, str | bytes | list | tuple | dict | set)
    )
    left = _budget()
    left[1] -= size
    if left[1] < 0:
        raise SecurityError(f"the template processed more than {MAX_WORK} characters or items")


def _iterate(items: Iterable[Any]) -> Iterator[Any]:
    for item in items:
        _spend(1)
        yield item


def _range(*args: int) -> range:
    for arg in args:
        _number(arg)
    steps = range(*args)
    _spend(len(steps))
    return steps


def _sized(value: object) -> object:
    if isinstance(value, str | bytes | list | tuple | dict | set) and len(value) > MAX_SIZE:
        raise SecurityError(f"the template built a value longer than {MAX_SIZE}")
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        raise SecurityError(f"the template built an integer wider than {MAX_BITS} bits")
    return value


def _number(value: object) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ARGUMENT:
        raise SecurityError(f"{value} is larger than a template may pass ({MAX_ARGUMENT})")


def _spec(value: object) -> None:
    if isinstance(value, str) and _WIDE_SPEC.search(value):
        raise SecurityError("format widths of 100000 or more are refused")


def _arguments(args: Iterable[object], kwargs: Mapping[str, object]) -> None:
    for value in (*args, *kwargs.values()):
        _number(value)


def _replaced_size(text: object, old: object, new: object) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        hits = text.count(old) if old else len(text) + 1
        if len(text) + hits * len(new) > MAX_SIZE:
            raise SecurityError(f"the replacement would be longer than {MAX_SIZE}")


def _concat(*parts: object) -> str:
    texts = [str(part) for part in parts]
    if sum(len(text) for text in texts) > MAX_SIZE:
        raise SecurityError(f"the template built a string longer than {MAX_SIZE}")
    _work(*texts)
    return "".join(texts)


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _arguments(args, kwargs)
        texts = [a for a in args if isinstance(a, str)]
        if name == "format" and texts:
            _spec(texts[0])
        if name == "replace" and len(texts) >= 3:
            _replaced_size(texts[0], texts[1], texts[2])
        _work(*args, *kwargs.values())
        result = _sized(function(*args, **kwargs))
        _work(result)
        return result

    return bounded


class _Rewrite(NodeTransformer):
    """Routes every ``for`` through the step counter and every ``~`` through a bounded join."""

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802 (Jinja's visitor names)
        self.generic_visit(node)
        node.iter = nodes.Call(
            nodes.Name(_ITERATE, "load"), [node.iter], [], None, None, lineno=node.lineno
        )
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        return nodes.Call(
            nodes.Name(_CONCAT, "load"), list(node.nodes), [], None, None, lineno=node.lineno
        )


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """An immutable sandbox whose templates do bounded work (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _range
        self.globals[_ITERATE] = _iterate
        self.globals[_CONCAT] = _concat
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        rewritten = _Rewrite().visit(tree)
        assert isinstance(rewritten, nodes.Template)
        return rewritten

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """``*``, ``**``, ``+`` and ``%`` with their results' sizes judged first."""
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and max(abs(left).bit_length(), 1) * right > MAX_BITS
        ):
            raise SecurityError(f"the power would be wider than {MAX_BITS} bits")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(times, int)
                if sized and len(seq) * times > MAX_SIZE:
                    raise SecurityError(f"the repetition would be longer than {MAX_SIZE}")
        if operator == "%":
            _spec(left)
        _work(left, right)
        result = _sized(super().call_binop(context, operator, left, right))
        _work(result)
        return result

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """A call from the template, its arguments and result bounded."""
        _arguments(args, kwargs)
        if isinstance(__obj, LoopContext) and args:
            # ``loop(children)`` of a recursive loop iterates outside the rewritten ``for``.
            args = (_iterate(args[0]), *args[1:])
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):
            method = getattr(target, "__name__", "")
            if method in ("format", "format_map"):
                _spec(owner)
            if method == "replace" and len(args) >= 2:
                _replaced_size(owner, args[0], args[1])
        _work(owner, *args, *kwargs.values())
        result = _sized(super().call(__context, __obj, *args, **kwargs))
        _work(result)
        return result


def render_bounded(environment: BoundedEnvironment, source: str, context: Mapping[str, Any]) -> str:
    """``source`` rendered with ``context`` within the bounds.

    Raises:
        SecurityError: A bound was exceeded.
        TemplateError: The template is invalid or fails.
    """
    token = _steps.set([MAX_STEPS, MAX_WORK])
    try:
        chunks: list[str] = []
        size = 0
        for chunk in environment.from_string(source).generate(context):
            size += len(chunk)
            if size > MAX_SIZE:
                raise SecurityError(f"the rendered text is longer than {MAX_SIZE} characters")
            chunks.append(chunk)
        return "".join(chunks)
    finally:
        _steps.reset(token)
