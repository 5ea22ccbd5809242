"""Operands: the number (or date) a phrase of the question refers to, located in the evidence.

Shared by the arithmetic (:mod:`bot.engine.compute`) and the derived figures
(:mod:`bot.engine.derived`): :func:`locate` finds the quantity of the right kind standing closest to
a phrase's words, in the evidence sentence that shares most of them; :func:`record` runs a formula
through :func:`bot.calculate.calculate` and keeps it as a tool call, so the numeric guard sees where
every computed number came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.calculate import calculate
from bot.engine.evidence import Sentence
from bot.engine.phrase import finish
from bot.language.quantities import Quantity
from bot.language.tokens import tokenize
from bot.models import ToolCall

if TYPE_CHECKING:
    from bot.engine.work import Work
    from bot.models import Answer

READ = 10
"""Evidence sentences searched for operands."""
MIN_OPERAND = 0.45
"""An operand must share at least this (weighted) share of its phrase's words with its sentence."""
NUMERIC = ("count", "money", "percent")
UNNAMED_YEAR = 2001
"""Year given to dates that name none: a common year (no 29 February), so only months and days count."""


@dataclass
class Found:
    """An operand located in the evidence."""

    quantity: Quantity
    sentence: Sentence
    score: float

    @property
    def value(self) -> float | None:
        """The operand's value (a range gives None)."""
        return self.quantity.value


def _phrase_keys(w: Work, phrase: str) -> dict[str, float]:
    keys: dict[str, float] = {}
    for t in tokenize(phrase):
        if t.content:
            keys[t.key] = max(w.index.idf(t.key), 0.3) if t.kind == "word" else 1.5
    return keys


def locate(
    w: Work,
    phrase: str,
    sentences: list[Sentence],
    kinds: tuple[str, ...],
    exclude: tuple[Quantity, ...] = (),
    context: str = "",
) -> Found | None:
    """The quantity the phrase refers to: of one of ``kinds``, nearest the phrase's own words.

    ``context`` words (shared by every operand, "of people in 1991") help choose the sentence but not
    the number: in "34.5% White, 3.4% Mixed Race" the share of "Mixed Race" is the one next to it.
    """
    focus = _phrase_keys(w, phrase)
    keys = {**_phrase_keys(w, context), **focus} if context else focus
    total = sum(keys.values())
    if not total:
        return None
    phrase_numbers = {k for k in keys if k[:1].isdigit()}
    best: Found | None = None
    for s in sentences:
        toks = s.parsed.tokens
        pos = [i for i, t in enumerate(toks) if t.content and t.key in keys]
        overlap = sum(keys[k] for k in {toks[i].key for i in pos}) / total
        if overlap < MIN_OPERAND:
            continue
        pos = [i for i in pos if toks[i].key in focus] or pos
        for qt in s.parsed.quantities:
            if qt.kind not in kinds or any(qt.start == x.start and qt.end == x.end for x in exclude):
                continue
            if any(t.key in phrase_numbers for t in qt.tokens):
                continue  # the number the phrase itself names ("in 1907") is a condition, not the operand
            inside = [p for p in pos if not (qt.i <= p < qt.j)]
            if not inside:
                continue
            d = min(min(abs(p - qt.i), abs(p - (qt.j - 1))) for p in inside)
            seg = segment_of(toks)
            same_clause = sum(seg[p] == seg[qt.i] for p in inside) / len(inside)
            score = overlap + 0.6 / (1 + d / 2) + 0.3 * same_clause + 0.15 * s.score
            if best is None or score > best.score:
                best = Found(qt, s, score)
    return best


def segment_of(toks: list) -> list[int]:
    """For each token, the number of the comma-separated stretch it stands in."""
    out, k = [], 0
    for t in toks:
        if t.text in (",", ";", ":"):
            k += 1
        out.append(k)
    return out


def places(like: list[Found]) -> int:
    """Decimal places the operands are written with (a result is shown as precisely as they are)."""
    return max((len(m.group(1)) for f in like for m in _DECIMALS.finditer(f.quantity.text)), default=0)


_DECIMALS = re.compile(r"\d\.(\d+)")


def fmt_like(value: float, like: list[Found]) -> str:
    """A result in the style of its operands: "$27.2 billion" from "$31 billion" and "$3.8 billion"."""
    texts = [f.quantity.text for f in like]
    scale = next((word for word, _ in _SCALE_WORDS if all(word in t.lower() for t in texts)), None)
    symbol = next((c for c in "$€£¥" if all(t.lstrip().startswith(c) for t in texts)), "")
    if scale is None:
        return f"{symbol}{fmt(value, places(like))}"
    factor = dict(_SCALE_WORDS)[scale]
    return f"{symbol}{fmt(round(value / factor, 6), places(like))} {scale}"


_SCALE_WORDS = (("trillion", 1e12), ("billion", 1e9), ("million", 1e6), ("thousand", 1e3))


def fmt(value: float, decimals: int = 0) -> str:
    """A number as people write it: thousands separators, at most two decimals, no trailing zeros.

    ``decimals``: write at least this many places (``9.9 − 8.9`` is ``1.0``, as precise as its operands).
    """
    scaled = value * 10**decimals
    if 0 < decimals <= 3 and abs(scaled - round(scaled)) < 1e-6:
        return f"{value:,.{decimals}f}"
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def record(w: Work, expression: str) -> float | None:
    """Evaluate a formula with the safe calculator and keep it as a tool call; None if it fails."""
    result = calculate(expression)
    w.tool_calls.append(ToolCall(name="calculate", args={"expression": expression}, result=result.model_dump()))
    return result.value if result.ok else None


def answer(w: Work, result: float, unit: str, formula: str, found: list[Found]) -> Answer:
    """The computed answer: the result first, then its formula, then the operands' citations."""
    marks = w.cites.marks([f.sentence for f in found])
    unit_text = f" {unit}" if unit else ""
    shown = fmt_like(result, found) if not unit else fmt(result, places(found))
    return w.answer(finish(f"{shown}{unit_text}: {formula}", marks), kind="derived")
