"""Documents that disagree: different values (or names) for the same subject and measure.

When the best answer's sentence and a sentence of *another* document state the same thing about the
same subject - every word of the question that one sentence states, the other states too, the same
period, the same kind of quantity and unit - but give different values, the answer does not pick one:
``The documents disagree: 81,864 vehicles [1] and 42 vehicles [2].`` It is never said plainly (at
most ``likely``; see :func:`bot.verdict.tiers.disputed`), and the generative engines give way to it.

The rule is narrow on purpose. Two figures of one document are a change over time or two parts of a
whole, not a contradiction; a sentence that leaves out part of the question, names another period or
counts another unit is about something else; two figures within rounding of each other agree.
"""

from __future__ import annotations

from bot.engine.decide import MIN_CANDIDATE, ROLE_NOUNS
from bot.engine.evidence import Sentence
from bot.engine.phrase import join_list, span_answer
from bot.engine.question import Question
from bot.engine.spans import Candidate
from bot.engine.work import Work
from bot.language.quantities import Quantity
from bot.language.tokens import is_month, key
from bot.models import DISAGREEMENT, Answer

RIVAL_SHARE = 0.6
"""A rival candidate must score at least this share of the best one's score."""
SAME_VALUE = 0.01
"""Values this close (relative) agree; a hedged figure ("about 80,000") agrees within :data:`ROUGH_VALUE`."""
ROUGH_VALUE = 0.1
MAX_VALUES = 3
"""Most values listed."""


def rivals(q: Question, best: Candidate, found: list[Candidate]) -> list[Candidate]:
    """Candidates from other documents that give a different value for what the best one states.

    Args:
        q: The analysed question.
        best: The answer's candidate.
        found: Every candidate of the asked type, best first.

    Returns:
        One candidate per further value (at most ``MAX_VALUES - 1``), best first; empty when the
        documents agree or the rule does not apply.

    """
    if best.score < MIN_CANDIDATE or not q.name_keys or not _asks_one_value(q, best):
        return []
    out: list[Candidate] = []
    for c in found:
        if c is best or _sort(c) != _sort(best) or c.score < max(MIN_CANDIDATE, RIVAL_SHARE * best.score):
            continue
        if c.sentence.record.source == best.sentence.record.source:
            continue
        if any(c.sentence.record.source == o.sentence.record.source for o in out):
            continue
        if not _same_statement(q, best.sentence, c.sentence):
            continue
        if any(not _differ(c, o) for o in [best, *out]):
            continue
        out.append(c)
        if len(out) >= MAX_VALUES - 1:
            break
    return out


def _asks_one_value(q: Question, best: Candidate) -> bool:
    """A figure (one exact value with a unit) or, for "who is the <role> of X", a name."""
    if best.kind == "quantity":
        return _figure(best.quantity)
    return _sort(best) == "name" and q.atype in ("person", "name") and q.head in ROLE_NOUNS


def _sort(c: Candidate) -> str:
    """``quantity``, ``name`` (a name, or a phrase written as one: "Anna Berg") or ``other``."""
    if c.kind == "quantity":
        return "quantity"
    words = [w for w in c.text.split() if w.isalpha() and len(w) > 1]
    return "name" if c.kind in ("name", "phrase") and words and all(w[0].isupper() for w in words) else "other"


def _figure(x: Quantity | None) -> bool:
    return (
        x is not None and x.value is not None and x.bound is None and bool(x.unit or x.currency or x.kind == "percent")
    )


def _same_statement(q: Question, a: Sentence, b: Sentence) -> bool:
    """Whether two sentences state the same words of the question, its names among them, for the same period."""
    said_a, said_b = a.matched & q.keys, b.matched & q.keys
    if said_a != said_b or not q.name_keys <= said_a or len(said_a) < 2:
        return False
    if q.head and q.head in ROLE_NOUNS and key(q.head) not in said_a:
        return False
    return _period(a) == _period(b)


def _period(s: Sentence) -> frozenset[str]:
    """The months and dates a sentence names (two figures for different periods do not disagree)."""
    p = s.parsed
    months = {t.low for t in p.tokens if is_month(t.low)}
    dates = {str(x.date) for x in p.quantities if x.kind in ("date", "year") and x.date}
    return frozenset(months | dates)


def _differ(a: Candidate, b: Candidate) -> bool:
    """Whether two candidates give different values of the same measure (names: different names)."""
    if _sort(a) == "name":
        words_a, words_b = {key(w) for w in a.text.split()}, {key(w) for w in b.text.split()}
        return not (words_a & words_b)
    x, y = a.quantity, b.quantity
    if not (_figure(x) and _figure(y)) or x is None or y is None or x.kind != y.kind:
        return False
    if (x.unit and y.unit and key(x.unit) != key(y.unit)) or bool(x.unit) != bool(y.unit) or x.currency != y.currency:
        return False
    assert x.value is not None and y.value is not None
    tolerance = ROUGH_VALUE if x.approximate or y.approximate else SAME_VALUE
    return abs(x.value - y.value) > tolerance * max(abs(x.value), abs(y.value))


def disagreement(w: Work, best: Candidate, others: list[Candidate]) -> Answer:
    """The answer that reports the documents disagreeing, each value with its citation.

    The best candidate stays the answer's claim (the verdict rates it); each citation marks its own value.
    """
    parts = [span_answer(c.text, w.cites.marks([c.sentence])).rstrip(".") for c in [best, *others]]
    w.state(claim=best, path="span")
    answer = w.answer(f"The documents disagree: {join_list(parts)}.", kind=DISAGREEMENT)
    spans = {(c.sentence.record.source, c.sentence.record.start): c for c in others}
    citations = []
    for cit in answer.citations:
        c = spans.get((cit.source, cit.start))
        if c is not None and cit.start <= c.start < c.end <= cit.end:
            cit = cit.model_copy(update={"answer_start": c.start, "answer_end": c.end})
        citations.append(cit)
    return answer.model_copy(update={"citations": citations})
