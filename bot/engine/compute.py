"""Compute stage: arithmetic over numbers found in the evidence, with the formula shown.

For each operand phrase of an :class:`~bot.engine.operations.Operation` the number (or date) it refers
to is located in the evidence: the quantity of the right kind standing closest to the phrase's words
in the sentence that shares most of them. The result is computed by :func:`bot.calculate.calculate`
(recorded as a tool call, so the numeric guard sees where it came from) and phrased with its formula:
``4 days: 12 January 1919 − 8 January 1919 [1]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine import derived
from bot.engine.evidence import Sentence, gather
from bot.engine.operands import NUMERIC, READ, UNNAMED_YEAR, Found, answer, fmt, locate, record
from bot.engine.operations import Operation, parse_operation
from bot.language.quantities import Quantity, date_ordinal
from bot.language.tokens import NEGATIONS, tokenize

if TYPE_CHECKING:
    from bot.engine.spans import Candidate
    from bot.engine.work import Work
    from bot.models import Answer


# -- time between two events -------------------------------------------------------------------------
def _year(q: Quantity, s: Sentence) -> int | None:
    year = q.date[0] if q.date else None
    if year is None:
        years = [x.date[0] for x in s.parsed.quantities if x.date and x.date[0] is not None]
        year = years[0] if years else None
    if year is not None:
        toks = s.parsed.tokens
        if q.j < len(toks) and toks[q.j].low.rstrip(".") in ("bc", "bce", "b.c"):
            year = -year
    return year


def _dated(f: Found, year: int | None) -> tuple[int, int | None, int | None]:
    date = f.quantity.date or (None, None, None)
    return (year if year is not None else 0, date[1], date[2])


def _between(w: Work, op: Operation, sentences: list[Sentence]) -> Answer | None:
    unit = op.unit or "year"
    kinds = ("year", "date") if unit in ("year", "decade", "century") else ("date",)
    a = locate(w, op.a, sentences, kinds)
    same_value = tuple(q for s in sentences for q in s.parsed.quantities if a and q.date and q.date == a.quantity.date)
    b = locate(w, op.b, sentences, kinds, exclude=(a.quantity, *same_value) if a else ())
    if a is None or b is None:
        return None
    ya, yb = _year(a.quantity, a.sentence), _year(b.quantity, b.sentence)
    ya = ya if ya is not None else yb
    yb = yb if yb is not None else ya
    da, db = _dated(a, ya), _dated(b, yb)
    if unit in ("year", "decade", "century"):
        if ya is None or yb is None:
            return None
        expression = f"abs({yb} - ({ya}))"
        per = {"decade": 10, "century": 100}.get(unit, 1)
        if per > 1:
            expression = f"abs({yb} - ({ya})) / {per}"
    elif unit == "month":
        if da[1] is None or db[1] is None:
            return None
        expression = f"abs(({db[0]} * 12 + {db[1]}) - ({da[0]} * 12 + {da[1]}))"
    else:
        if ya is None and yb is None:  # "on 3 May" and "on 20 May": one unnamed year, days apart all the same
            da, db = (UNNAMED_YEAR, da[1], da[2]), (UNNAMED_YEAR, db[1], db[2])
        oa = date_ordinal(_with_year(a.quantity, da[0]))
        ob = date_ordinal(_with_year(b.quantity, db[0]))
        if oa is None or ob is None or da[2] is None or db[2] is None:
            return None
        per = {"week": 7, "hour": 1 / 24}.get(unit, 1)
        expression = f"abs({ob:.0f} - {oa:.0f}) / {per}" if per != 1 else f"abs({ob:.0f} - {oa:.0f})"
    result = record(w, expression)
    if result is None or (result == 0 and op.kind in ("after", "before")):
        return None  # "N years after" is never 0: the two dates were read wrongly
    first, second = sorted((a, b), key=lambda f: (f.sentence.record.start, f.quantity.start))
    formula = f"{second.quantity.text} − {first.quantity.text}"
    return answer(w, result, unit + ("s" if result != 1 else ""), formula, [first, second])


def _with_year(q: Quantity, year: int) -> Quantity:
    from dataclasses import replace

    d = q.date or (None, None, None)
    return replace(q, date=(year, d[1], d[2]))


def _span(w: Work, op: Operation, sentences: list[Sentence]) -> Answer | None:
    """How long something lasted: a range of years beside the phrase, or two dates in its sentence."""
    unit = op.unit or "year"
    best = locate(w, op.a, sentences, ("count", "year", "date"))
    if best is None:
        return None
    q, s = best.quantity, best.sentence
    if q.is_range and q.low is not None and q.high is not None and unit == "year":
        bc = q.j < len(s.parsed.tokens) and s.parsed.tokens[q.j].low.rstrip(".") in ("bc", "bce")
        expression = f"abs({q.high:.0f} - {q.low:.0f})"
        result = record(w, expression)
        if result is None:
            return None
        formula = f"{fmt(q.low)} − {fmt(q.high)}" if bc else f"{fmt(q.high)} − {fmt(q.low)}"
        return answer(w, result, "years" if result != 1 else "year", formula, [best])
    dates = [x for x in s.parsed.quantities if x.kind in ("year", "date")]
    if len(dates) >= 2:
        a, b = Found(dates[0], s, 0), Found(dates[1], s, 0)
        op2 = Operation("between", "", "", unit=unit)
        del op2
        return _two_dates(w, a, b, unit)
    return None


def _two_dates(w: Work, a: Found, b: Found, unit: str) -> Answer | None:
    ya, yb = _year(a.quantity, a.sentence), _year(b.quantity, b.sentence)
    if ya is None or yb is None:
        return None
    if unit == "year":
        expression = f"abs({yb} - ({ya}))"
    else:
        oa, ob = date_ordinal(_with_year(a.quantity, ya)), date_ordinal(_with_year(b.quantity, yb))
        if oa is None or ob is None:
            return None
        expression = f"abs({ob:.0f} - {oa:.0f})"
    result = record(w, expression)
    if result is None:
        return None
    return answer(w, result, unit + ("s" if result != 1 else ""), f"{b.quantity.text} − {a.quantity.text}", [a, b])


def _same_unit(a: Quantity, b: Quantity) -> bool:
    """Whether two quantities count the same thing (either may leave it unsaid: "8.6 million head" and "6 million")."""
    if a.kind != b.kind:
        return False
    if a.kind == "money":
        return a.currency == b.currency or None in (a.currency, b.currency)
    return a.unit is None or b.unit is None or a.unit == b.unit or a.unit.rstrip("s") == b.unit.rstrip("s")


# -- differences, sums, complements ---------------------------------------------------------------------
def _borrow(phrase: str, other: str) -> str:
    """A bare operand ("in 1904", "cattle") borrows the other operand's words it lacks."""
    own = [t for t in tokenize(phrase) if t.content and t.kind == "word"]
    if len(own) >= 2:
        return phrase
    words = [t.text for t in tokenize(other) if t.content and t.kind == "word"]
    return f"{phrase} {' '.join(words)}"


def _difference(w: Work, op: Operation, sentences: list[Sentence]) -> Answer | None:
    kinds = ("percent",) if "percent" in w.q.text.lower() or "percentage" in w.q.text.lower() else NUMERIC
    a = locate(w, op.a, sentences, kinds)
    if a is None or a.value is None:
        return None
    kinds = (a.quantity.kind,)  # the other operands are of the same kind: no count minus a percent
    if op.parts:
        found = [locate(w, p, sentences, kinds, exclude=(a.quantity,)) for p in op.parts]
        if any(f is None or f.value is None for f in found):
            return None
        parts = [f for f in found if f is not None]
        expression = f"{a.value:g} - ({' + '.join(f'{f.value:g}' for f in parts)})"
        result = record(w, expression)
        if result is None:
            return None
        formula = f"{a.quantity.text} − ({' + '.join(f.quantity.text for f in parts)})"
        return answer(w, abs(result), "", formula, [a, *parts])
    b = locate(w, _borrow(op.b, op.a), sentences, kinds, exclude=(a.quantity,))
    if b is None or b.value is None or b.quantity.kind != a.quantity.kind:
        return None
    big, small = (a, b) if a.value >= b.value else (b, a)
    result = record(w, f"{big.value:g} - {small.value:g}")
    if result is None:
        return None
    return answer(w, result, "", f"{big.quantity.text} − {small.quantity.text}", [big, small])


def _sum(w: Work, op: Operation, sentences: list[Sentence]) -> Answer | None:
    kinds = ("percent",) if "percent" in op.context.lower() or "percentage" in op.context.lower() else NUMERIC
    found: list[Found] = []
    for p in op.parts:
        f = locate(w, p, sentences, kinds, exclude=tuple(x.quantity for x in found), context=op.context)
        if f is None or f.value is None:
            return None
        found.append(f)
    if len(found) < 2 or len({f.quantity.kind for f in found}) > 1:
        return None
    result = record(w, " + ".join(f"{f.value:g}" for f in found))
    if result is None or (found[0].quantity.kind == "percent" and result > 100):
        return None  # shares of one whole cannot add up to more than all of it
    return answer(w, result, "", " + ".join(f.quantity.text for f in found), found)


def _complement_pct(w: Work, op: Operation, sentences: list[Sentence]) -> Answer | None:
    found: list[Found] = []
    for p in op.parts or [op.a]:
        f = locate(w, p, sentences, ("percent",), exclude=tuple(x.quantity for x in found), context=op.context)
        if f is None or f.value is None:
            return None
        found.append(f)
    result = record(w, f"100 - ({' + '.join(f'{f.value:g}' for f in found)})")
    if result is None or result < 0:
        return None
    formula = f"100% − {' − '.join(f.quantity.text for f in found)}"
    return answer(w, result, "percent", formula, found)


def _complement(w: Work, op: Operation, sentences: list[Sentence]) -> Answer | None:
    whole = locate(w, op.context, sentences, ("count",))
    if whole is None or whole.value is None:
        return None
    parts: list[Found] = []
    for p in op.parts or [op.a]:
        f = locate(w, p, sentences, ("count",), exclude=(whole.quantity, *(x.quantity for x in parts)))
        if f is None or f.value is None or not _same_unit(whole.quantity, f.quantity):
            return None
        if _denied_after(f.sentence, f.quantity):
            return None  # "five of the 12 pilots did not report": the part is already those who did not
        parts.append(f)
    expression = f"{whole.value:g} - ({' + '.join(f'{f.value:g}' for f in parts)})"
    result = record(w, expression)
    if result is None or result < 0:
        return None
    formula = f"{whole.quantity.text} − {' − '.join(f.quantity.text for f in parts)}"
    return answer(w, result, "", formula, [whole, *parts])


def _out_of(w: Work, op: Operation, sentences: list[Sentence]) -> Answer | None:
    total = op.total or 0.0
    for s in sentences:
        anchor = next((x for x in s.parsed.quantities if x.value == total), None)
        if anchor is None:
            continue
        others = [x for x in s.parsed.quantities if x is not anchor and x.kind == "count" and x.value is not None]
        if not others:
            continue
        part = min(others, key=lambda x: abs(x.i - anchor.i))
        assert part.value is not None
        result = record(w, f"{total:g} - {part.value:g}")
        if result is None or result < 0:
            return None
        f = Found(part, s, 1.0)
        return answer(w, result, "", f"{fmt(total)} − {part.text}", [f])
    return None


def _denied_after(s: Sentence, qt: Quantity) -> bool:
    """Whether the sentence negates what it says after a quantity ("five of the 12 pilots did not report")."""
    return any(t.low in NEGATIONS for t in s.parsed.tokens[qt.i :])


def remainder_of_ratio(w: Work, c: Candidate) -> Answer | None:
    """What a part leaves of its whole, for a question about the rest: N - X of "X of the N".

    "In 2009 two of the 16 banks were taken into receivership" answers "How many banks were not taken into
    receivership?" with 16 − two. Only when the question is negated and the sentence is not: in "8,000 of the
    12,000 did not strike" the 8,000 are already the ones asked about. None when it does not apply.
    """
    qt = c.quantity
    if not w.q.negated or qt is None or qt.kind != "count" or qt.value is None or c.end <= qt.end:
        return None
    s = c.sentence
    whole = next((x for x in s.parsed.quantities if qt.end < x.start <= c.end and x.kind == "count"), None)
    if whole is None or whole.value is None or whole.value <= qt.value:
        return None
    if _denied_after(s, qt):
        return None  # the sentence counts those who did not: the part itself answers
    result = record(w, f"{whole.value:g} - {qt.value:g}")
    if result is None:
        return None
    return answer(w, result, "", f"{whole.text} − {qt.text}", [Found(qt, s, 1.0), Found(whole, s, 1.0)])


_HANDLERS = {
    "between": _between, "after": _between, "before": _between, "span": _span, "difference": _difference,
    "sum": _sum, "complement_pct": _complement_pct, "complement": _complement, "out_of": _out_of,
}  # fmt: skip


def try_compute(w: Work) -> Answer | None:
    """Answer by arithmetic over the evidence when the question asks for it (None when it does not)."""
    op = parse_operation(w.resolved.text)
    if op is None:
        return derived.try_derived(w)
    w.ev = gather(w.index, w.q, w.resolved.query, w.resolved.extra_terms, w.resolved.near, chunks=6)
    done = _HANDLERS[op.kind](w, op, w.ev.top(READ))
    if done is None and op.kind == "difference":
        return derived.try_derived(w)  # "how many more X now than before?" is a change over time
    return done
