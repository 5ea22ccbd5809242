"""A safe arithmetic evaluator whose results remember which document facts fed them.

:func:`calculate` parses an expression with :mod:`ast` and walks the tree itself; nothing is
ever passed to ``eval``/``exec``, and only numbers, fact ids, ``+ - * / // **``, parentheses
and a few whitelisted functions are accepted. Every failure (unknown fact id, syntax error,
division by zero, overflow, attribute access, ...) comes back as ``CalcResult(ok=False,
error=...)``; the function never raises.

Accepted number spellings: ``1,234.5``, ``2.5 billion`` (thousand/million/billion/trillion,
bn/mn/k), ``10%`` or ``10 percent`` (= 0.10; ``%`` is always percent, never modulo). A comma
is a thousands separator only when followed by exactly three digits and no space (``sum(1, 2)``
has two arguments).

Functions: ``sum``, ``min``, ``max``, ``mean``, ``abs``, ``round(x, ndigits)``,
``pct_change(old, new)`` (percent, e.g. 40.0 for 5 -> 7), ``low(fact)`` / ``high(fact)``
(the ends of a range fact).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from bot.models import Fact

MAX_EXPRESSION_CHARS = 500
MAX_MAGNITUDE = 1e18
MAX_EXPONENT = 64
MAX_NODES = 200

_FACT_ID_RE = re.compile(r"\bf-[0-9a-f]{6,40}\b")
_SCALE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(thousand|million|billion|trillion|bn|mn|k)\b", re.IGNORECASE)
_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s+cent\b)", re.IGNORECASE)
_THOUSANDS_RE = re.compile(r"\b\d{1,3}(?:,\d{3})+(?![\d,])")
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
}


class FactRef(BaseModel):
    """Provenance of one fact used in a calculation."""

    id: str
    source: str
    text: str
    start: int
    end: int
    sentence: str
    value_used: float | None = Field(None, description="The number the calculation took from the fact.")


class CalcResult(BaseModel):
    """Outcome of :func:`calculate`; ``ok`` is False with ``error`` set when it failed."""

    ok: bool
    expression: str
    value: float | None = None
    display: str | None = Field(None, description="The value formatted for people, e.g. '115,000,000,000'.")
    error: str | None = None
    facts_used: list[FactRef] = Field(default_factory=list)
    normalized_expression: str | None = Field(None, description="The expression after number spelling rewrites.")


class CalcError(Exception):
    """Internal signal for a failed evaluation; never escapes :func:`calculate`."""


def calculate(expression: str, facts: dict[str, Fact] | None = None) -> CalcResult:
    """Evaluate an arithmetic expression safely, with fact ids as variables.

    Args:
        expression: E.g. ``"f-49bc9db333 / f-97afdd778e"``, ``"2.5 billion / 10%"``,
            ``"pct_change(5, 7)"``.
        facts: Facts the expression may refer to, by id.

    Returns:
        A :class:`CalcResult`; on failure ``ok`` is False and ``error`` says why.

    Example:
        >>> calculate("2.5 billion / 10%").value
        25000000000.0

    """
    expression = expression if isinstance(expression, str) else str(expression)
    try:
        return _calculate(expression, facts or {})
    except CalcError as exc:
        return CalcResult(ok=False, expression=expression, error=str(exc))
    except (ArithmeticError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        return CalcResult(ok=False, expression=expression, error=f"cannot compute: {type(exc).__name__}: {exc}")


def _calculate(expression: str, facts: dict[str, Fact]) -> CalcResult:
    if not expression.strip():
        raise CalcError("empty expression")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalcError(f"expression too long ({len(expression)} characters, limit {MAX_EXPRESSION_CHARS})")
    text, names = _rewrite(expression, facts)
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise CalcError(f"not a valid arithmetic expression: {getattr(exc, 'msg', exc)}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalcError(f"expression too complex (more than {MAX_NODES} parts)")
    used: dict[str, float | None] = {}
    value = _Evaluator(names, used).visit(tree.body)
    if not isinstance(value, float):
        raise CalcError("the result must be a single number, not a list")
    refs = [_ref(names[n], used[n]) for n in names if n in used]
    return CalcResult(
        ok=True,
        expression=expression,
        value=value,
        display=_display(value),
        facts_used=refs,
        normalized_expression=text,
    )


def _rewrite(expression: str, facts: dict[str, Fact]) -> tuple[str, dict[str, Fact]]:
    """Replace fact ids by placeholder names and spelled numbers by plain ones."""
    names: dict[str, Fact] = {}
    by_id: dict[str, str] = {}

    def fact_name(m: re.Match[str]) -> str:
        fid = m.group()
        if fid not in facts:
            raise CalcError(f"unknown fact id: {fid}")
        if fid not in by_id:
            by_id[fid] = f"_fact{len(by_id)}"
            names[by_id[fid]] = facts[fid]
        return by_id[fid]

    text = _FACT_ID_RE.sub(fact_name, expression)
    text = text.replace("×", "*").replace("÷", "/").replace("−", "-").replace("^", "**")
    text = _THOUSANDS_RE.sub(lambda m: m.group().replace(",", ""), text)
    text = _SCALE_RE.sub(lambda m: f"({m.group(1)}*{_SCALES[m.group(2).lower()]:g})", text)
    text = _PERCENT_RE.sub(lambda m: f"({m.group(1)}/100)", text)
    return text, names


def _ref(fact: Fact, value: float | None) -> FactRef:
    return FactRef(
        id=fact.id,
        source=fact.source,
        text=fact.text,
        start=fact.start,
        end=fact.end,
        sentence=fact.sentence,
        value_used=value,
    )


def _display(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e16:
        return f"{int(value):,}"
    return f"{value:,.6g}" if abs(value) >= 1e6 or abs(value) < 1e-3 else f"{round(value, 6):,}"


def _check(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalcError("only numbers can be computed")
    value = float(value)
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise CalcError(f"number too large (limit {MAX_MAGNITUDE:g})")
    return value


class _Evaluator:
    """Walks a parsed expression, allowing only arithmetic on numbers and fact values."""

    def __init__(self, names: dict[str, Fact], used: dict[str, float | None]) -> None:
        self.names = names
        self.used = used
        self.functions: dict[str, Callable[..., float]] = {
            "sum": lambda *a: math.fsum(_flatten(a)),
            "min": lambda *a: min(_flatten(a)),
            "max": lambda *a: max(_flatten(a)),
            "mean": lambda *a: math.fsum(_flatten(a)) / len(_flatten(a)),
            "avg": lambda *a: math.fsum(_flatten(a)) / len(_flatten(a)),
            "abs": abs,
            "round": _round,
            "pct_change": _pct_change,
        }

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise CalcError(f"not allowed in a calculation: {type(node).__name__}")
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> float:
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CalcError(f"only numbers are allowed, not {type(node.value).__name__}")
        return _check(node.value)

    def visit_Name(self, node: ast.Name) -> float:
        fact = self.names.get(node.id)
        if fact is None:
            raise CalcError(f"unknown name: {node.id!r} (use numbers or fact ids like f-1a2b3c4d5e)")
        if fact.value is None:
            raise CalcError(
                f"fact {fact.id} ({fact.quantity_text!r}) is a range or has no single value; use low({fact.id}) "
                f"or high({fact.id})"
            )
        # A percent fact stores its points (10 for "10 percent"), as written; in arithmetic it is a
        # share, like the literal "10%" (0.10), so "price / stake" is a valuation.
        value = fact.value / 100 if fact.kind == "percent" else fact.value
        self.used[node.id] = value
        return _check(value)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> float:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return value
        raise CalcError(f"operator not allowed: {type(node.op).__name__}")

    def visit_BinOp(self, node: ast.BinOp) -> float:
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Pow):
            return _power(left, right)
        op = _BINARY.get(type(node.op))
        if op is None:
            raise CalcError(f"operator not allowed: {type(node.op).__name__}")
        if right == 0 and isinstance(node.op, ast.Div | ast.FloorDiv):
            raise CalcError("division by zero")
        return _check(op(left, right))

    def visit_List(self, node: ast.List) -> list[float]:
        return [self.visit(e) for e in node.elts]

    visit_Tuple = visit_List

    def visit_Call(self, node: ast.Call) -> float:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise CalcError("only simple calls like sum(a, b) are allowed")
        name = node.func.id
        if name in {"low", "high"}:
            return self._range_end(name, node.args)
        func = self.functions.get(name)
        if func is None:
            allowed = ", ".join(sorted([*self.functions, "low", "high"]))
            raise CalcError(f"unknown function: {name!r} (allowed: {allowed})")
        args = [self.visit(a) for a in node.args]
        if not args:
            raise CalcError(f"{name}() needs at least one argument")
        return _check(func(*args))

    def _range_end(self, name: str, args: list[ast.expr]) -> float:
        if len(args) != 1 or not isinstance(args[0], ast.Name) or args[0].id not in self.names:
            raise CalcError(f"{name}() takes one fact id")
        fact = self.names[args[0].id]
        value = getattr(fact, name) if getattr(fact, name) is not None else fact.value
        if value is None:
            raise CalcError(f"fact {fact.id} has no {name} value")
        self.used[args[0].id] = value
        return _check(value)


def _flatten(args: tuple[Any, ...]) -> list[float]:
    out: list[float] = []
    for a in args:
        out.extend(_flatten(tuple(a)) if isinstance(a, list | tuple) else [a])
    if not out:
        raise CalcError("no numbers given")
    return out


def _power(base: float, exponent: float) -> float:
    if abs(exponent) > MAX_EXPONENT:
        raise CalcError(f"exponent too large (limit {MAX_EXPONENT})")
    try:
        return _check(math.pow(base, exponent))
    except (OverflowError, ValueError) as exc:
        raise CalcError(f"cannot compute power: {exc}") from None


def _round(value: float, ndigits: float = 0) -> float:
    if not float(ndigits).is_integer() or not 0 <= ndigits <= 12:
        raise CalcError("round() digits must be a whole number from 0 to 12")
    return round(value, int(ndigits))


def _pct_change(old: float, new: float) -> float:
    if old == 0:
        raise CalcError("pct_change from zero is undefined")
    return (new - old) / abs(old) * 100.0
