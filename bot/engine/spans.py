"""Answer spans: the candidate record and the measures every extractor shares.

A candidate is a span of an evidence sentence; its score adds the sentence's relevance to how close
the span stands to the question's words (rare words count more) and how well its type fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.engine.evidence import Sentence
from bot.engine.question import Question
from bot.language.chunks import DETERMINERS, POSSESSIVES
from bot.language.quantities import NUMBER_WORDS, Quantity
from bot.language.tokens import Token


@dataclass
class Candidate:
    """A possible answer: a span of an evidence sentence."""

    text: str
    start: int
    end: int
    sentence: Sentence
    score: float
    kind: str  # quantity | name | phrase | yesno
    quantity: Quantity | None = None


def anchors(q: Question, s: Sentence) -> list[int]:
    """Indices of the sentence's tokens that match a question term (or a word related to one)."""
    keys = q.all_keys
    return [i for i, t in enumerate(s.parsed.tokens) if t.content and t.key in keys]


def proximity(i: int, j: int, where: list[int], q: Question | None = None, s: Sentence | None = None) -> float:
    """Closeness of a span to the question's words; rare words (by weight) count more when known."""
    if not where:
        return 0.0
    if q is None or s is None or not q.weights:
        d = min(min(abs(a - i), abs(a - (j - 1))) for a in where)
        return 1.0 / (1.0 + d / 3.0)
    toks = s.parsed.tokens
    nearest: dict[str, int] = {}
    for a in where:
        if i <= a < j:
            continue
        k = toks[a].key
        d = min(abs(a - i), abs(a - (j - 1)))
        nearest[k] = min(nearest.get(k, d), d)
    if not nearest:
        return 0.0
    total = sum(q.weights.get(k, 0.5) for k in nearest)
    return sum(q.weights.get(k, 0.5) / (1.0 + d / 3.0) for k, d in nearest.items()) / total


def span(s: Sentence, i: int, j: int) -> tuple[str, int, int]:
    """The text and offsets of tokens ``i`` to ``j`` of a sentence."""
    toks = s.parsed.tokens
    start, end = toks[i].start, toks[j - 1].end
    return s.record.text[start - s.record.start : end - s.record.start], start, end


# -- quantities ---------------------------------------------------------------------------------------


def aliases(s: Sentence, name: object) -> set[str]:
    """Other names for a name given right after it in parentheses ("... Alliance (HIMA)")."""
    toks = s.parsed.tokens
    j = getattr(name, "j", 0)
    if j + 2 < len(toks) and toks[j].text == "(" and toks[j + 2].text == ")":
        return {toks[j + 1].low}
    return set()


# -- names ------------------------------------------------------------------------------------------


def overlaps_question(q: Question, tokens: list[Token]) -> float:
    """Share of a span's content words that the question already says."""
    words = [t for t in tokens if t.content]
    if not words:
        return 1.0
    return sum(t.key in q.keys for t in words) / len(words)


# -- widening the chosen answer ---------------------------------------------------------------------

_QUOTED = re.compile(r"[\"“]([^\"“”]{2,80}?)[\"”]")
MAX_QUOTED_WORDS = 10
"""Longest quoted title an answer is widened to."""


def widen(c: Candidate, place: bool = False) -> Candidate:
    """The whole of what an answer span is part of.

    A quoted title ("Take Me" -> "Take Me Home"), and for a place its region after a comma
    ("Springfield" -> "Springfield, Illinois").
    """
    s = c.sentence
    text, base = s.record.text, s.record.start
    a, b = c.start - base, c.end - base
    for m in _QUOTED.finditer(text):
        inner_a, inner_b = m.start(1), m.end(1)
        if inner_a <= a and b <= inner_b and (inner_a, inner_b) != (a, b):
            inner = m.group(1).strip(" ,.;:")
            if len(inner.split()) <= MAX_QUOTED_WORDS:
                start = base + inner_a + m.group(1).index(inner)
                return replace(c, text=inner, start=start, end=start + len(inner))
    named = _NAMED_BY_QUOTE.match(text, b) if c.kind == "phrase" and re.search(r"\b[a-z]+$", text[a:b]) else None
    if named and len(named.group(1).split()) <= MAX_QUOTED_WORDS:
        end = named.end()  # 'the term "the slow harvest"', not 'the term'
        return replace(c, text=text[a:end], end=base + end)
    if place and c.kind in ("name", "phrase"):
        m = re.match(r", ((?:[A-Z][\w.’'-]*)(?: [A-Z][\w.’'-]*){0,2})(?=[,.;)]|\s+[a-z]|$)", text[b:])
        rest = text[b + m.end() : b + m.end() + 12] if m else ""
        if m and not re.match(r",\s*(?:(?:and|or)\s+)?[A-Z]|\s+(?:and|or|&)\s+[A-Z]", rest):  # not a list
            end = b + m.end() - (1 if m.group(1).endswith(".") and m.group(1).count(".") == 1 else 0)
            return replace(c, text=text[a:end], end=base + end)
    return c


_NAMED_BY_QUOTE = re.compile(r'\s+["“]([^"“”]+?)[,.]?["”]')
"""A quoted name right after a noun that it names (the term "X", the song "Y")."""


WHERE_PREPOSITIONS = frozenset("in at on near to from inside outside under behind beside across into onto by".split())
"""Prepositions kept before a place answer: "Where?" - "On the doorstep", "At the gate"."""


def with_preposition(c: Candidate) -> Candidate:
    """A place answer with the preposition that places it ("In Ostby"), when the sentence has one."""
    toks = c.sentence.parsed.tokens
    at = next((k for k, t in enumerate(toks) if t.start == c.start), None)
    if not at:
        return c
    k = at - 1
    if toks[k].low in ("the", "a", "an", "his", "her", "their", "its") and k > 0:
        k -= 1  # "at the gate" when the span is "gate"
    if toks[k].low not in WHERE_PREPOSITIONS:
        return c
    text = c.sentence.record.text
    base = c.sentence.record.start
    start = toks[k].start
    return replace(c, text=text[start - base : c.end - base], start=start)


_DATE_RANGE = re.compile(
    r"\b(?:from|between)\s+(?:(?:early|late|mid-?)\s*)?[\w,]+(?:\s+\d{4})?\s+(?:to|and|until|through)\s+"
    r"(?:(?:early|late|mid-?)\s*)?\w+(?:\s+\d{1,2},?)?(?:\s+\d{4})?",
    re.IGNORECASE,
)


def date_range(c: Candidate) -> Candidate:
    """A date answer widened to the range it opens or closes ("2006" -> "from 1998 to 2006")."""
    text, base = c.sentence.record.text, c.sentence.record.start
    a, b = c.start - base, c.end - base
    for m in _DATE_RANGE.finditer(text):
        if m.start() <= a and b <= m.end() and (m.end() - m.start()) <= 60 and any(ch.isdigit() for ch in m.group(0)):
            end = m.end()
            while end > b and not text[end - 1].isalnum():
                end -= 1
            return replace(c, text=text[m.start() : end], start=base + m.start(), end=base + end)
    return c


_RANGE_WORDS = "|".join(sorted((w for w in NUMBER_WORDS if w.isalpha()), key=len, reverse=True))
_RANGE_HEAD = re.compile(rf"(?<!from )\b(?:\d[\d,.]*|{_RANGE_WORDS})\s*(?:to|or|-|–)\s*$", re.IGNORECASE)


def number_range(c: Candidate) -> Candidate:
    """A quantity answer with the lower end of the range it closes ("nine months" -> "six to nine months")."""
    text, base = c.sentence.record.text, c.sentence.record.start
    a = c.start - base
    m = _RANGE_HEAD.search(text[max(0, a - 30) : a])
    if m is None:
        return c
    start = max(0, a - 30) + m.start()
    return replace(c, text=text[start : c.end - base], start=base + start)


def after_stranded(q: Question, toks: list[Token], i: int) -> bool:
    """Whether the span starting at ``i`` is the object of the question's stranded preposition.

    The question ends with a preposition (``Question.stranded``) that stands right before the span (past articles
    and possessives), with one of the question's words a few tokens before it ("rented a flat, near Pratt Institute"
    answers "What was the flat near?").
    """
    prep = q.stranded
    if prep is None:
        return False
    b = i - 1
    while b > 0 and toks[b].low in _DETERMINERS:
        b -= 1
    if b < 1 or toks[b].low != prep:
        return False
    return any(toks[k].key in q.keys for k in range(max(0, b - STRANDED_REACH), b))


_DETERMINERS = DETERMINERS | POSSESSIVES
STRANDED_REACH = 8
"""Tokens before the preposition in which one of the question's words must stand."""
STRANDED_BONUS = 0.2
"""Score added to the object of the question's stranded preposition."""
