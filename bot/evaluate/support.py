"""Citation support: every number of an answer backed by a cited quote, the question or a tool call."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.evaluate.matching import close, parse_numbers
from bot.guard import iter_values

DERIVED_REL_TOL = 0.005
"""Tighter relative tolerance for numbers derived in one arithmetic step."""


def _numbers_in(value: Any) -> Iterable[float]:
    """Numbers in a tool call's arguments or result (nested dicts/lists, numeric strings)."""
    for item in iter_values(value):
        if isinstance(item, str):
            yield from (n.value for n in parse_numbers(item, words=True))
        else:
            yield item


def one_step(values: Sequence[float]) -> set[float]:
    """Everything one arithmetic step makes of two of the values (sums, differences, products, ratios, percents)."""
    out: set[float] = set()
    vals = sorted(set(values))
    for i, a in enumerate(vals):
        for b in vals[i:]:
            out.update((a + b, abs(a - b), a * b, a * b / 100))
            for x, y in ((a, b), (b, a)):
                if y:
                    out.update((x / y, x / y * 100, (x - y) / y * 100, abs(x - y) / y * 100))
    return out


def unsupported_numbers(answer_text: str, quotes: Sequence[str], given: Iterable[float] = ()) -> list[str]:
    """Numbers of an answer that its citations do not support.

    A number is supported when it agrees (:func:`close`) with a number in a cited quote or in ``given``
    (the question, history, the answer's facts and tool calls), or - within the tighter
    :data:`DERIVED_REL_TOL` - with one arithmetic step over two of those (:func:`one_step`). Derivations
    of more steps (e.g. a currency conversion through a rate) must show up in the answer's tool calls.

    Args:
        answer_text: The answer, with ``[n]`` markers.
        quotes: The cited quotes.
        given: Other numbers the answer may use.

    Returns:
        The unsupported numbers as written in the answer.

    """
    wanted = parse_numbers(answer_text)
    if not wanted:
        return []
    base = [n.value for q in quotes for n in parse_numbers(q, words=True)] + [float(v) for v in given]
    derived: set[float] | None = None
    bad = []
    for n in wanted:
        if any(close(n, b) for b in base):
            continue
        if derived is None:
            derived = one_step(base)
        if not any(close(n, d, DERIVED_REL_TOL) for d in derived):
            bad.append(n.text)
    return bad


def source_matches(cited: str, expected: str) -> bool:
    """Whether a cited source is the expected file (same path, same name, or a path ending in it)."""
    cited_p, expected_p = cited.replace("\\", "/"), expected.replace("\\", "/")
    return cited_p == expected_p or cited_p.endswith("/" + expected_p) or Path(cited_p).name == expected_p


def retrieval_rank(cited_sources: Sequence[str], expected: Sequence[str]) -> int | None:
    """1-based rank of the first expected source among the distinct cited sources (in citation order)."""
    distinct = list(dict.fromkeys(cited_sources))
    for rank, src in enumerate(distinct, 1):
        if any(source_matches(src, e) for e in expected):
            return rank
    return None
