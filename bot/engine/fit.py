"""Fit stage: candidates that cannot be of the asked type are dropped or marked down.

A time phrase is no who/what, a clause ("ferries use LNG") or a greeting ("Howdy, Captain") is
nobody, a bare number is no occupation, and "A" in "not A but B" is denied.
"""

from __future__ import annotations

from bot.engine.extract_numbers import is_time_phrase
from bot.engine.question import Question
from bot.engine.spans import Candidate
from bot.engine.vocabulary import NUMERIC_NOUNS
from bot.language.names import INTERJECTIONS
from bot.language.tokens import NEGATIONS

MEASURE_NOUNS = frozenset("span length duration period time stretch gap size distance range".split())
"""Asked nouns (besides the numeric ones) that a number answers ("what time span": "15 months")."""


def fit(q: Question, out: list[Candidate]) -> list[Candidate]:
    """The candidates that can be of the asked type, with those that hardly can marked down."""
    if q.atype in ("person", "place", "name"):
        out = [c for c in out if c.kind != "phrase" or not (is_time_phrase(c.text) or _verb_edged(c))]
    elif q.atype in ("entity", "other", "action", "list"):
        out = [c for c in out if c.kind != "phrase" or not is_time_phrase(c.text)]  # "Wednesday" is not a what
    if q.atype in ("entity", "other", "person", "place", "name") and q.head not in NUMERIC_NOUNS | MEASURE_NOUNS:
        out = [c for c in out if c.kind != "phrase" or not _only_number(c)]  # "34" is no occupation
    for c in out:
        if _denied(c):
            c.score -= DENIED  # "did not take place in Harwick but in Ostby": Harwick is denied
        if q.atype in ("person", "name") and c.kind == "phrase" and _no_one(c):
            c.score -= DENIED  # "Oh", "Howdy, Captain": an exclamation or an adjective is nobody
    return out


def _verb_edged(c: Candidate) -> bool:
    """Whether a phrase has a verb at its edge ("murmured the Doctor") or inside ("ferries use LNG").

    Such a phrase is a clause, not the name of someone or somewhere.
    """
    p = c.sentence.parsed
    inside = _inside(c)
    return any(p.tags[k] == "VERB" for k in inside)


DENIED = 0.3
"""Penalty of a span the sentence denies in favour of another ("not A but B")."""


def _only_number(c: Candidate) -> bool:
    toks = [c.sentence.parsed.tokens[k] for k in _inside(c)]
    return bool(toks) and all(t.kind in ("num", "punct") for t in toks)


def _no_one(c: Candidate) -> bool:
    """Whether a phrase opens on an interjection, or is one word that is only an adjective."""
    toks = [c.sentence.parsed.tokens[k] for k in _inside(c)]
    if not toks:
        return False
    first = toks[0]
    return first.low in INTERJECTIONS or (len(toks) == 1 and first.pos == frozenset({"ADJ"}))


def _denied(c: Candidate) -> bool:
    toks = c.sentence.parsed.tokens
    inside = _inside(c)
    if not inside:
        return False
    a, b = inside[0], inside[-1] + 1
    after = [t.low for t in toks[b : b + 2]]
    before = [t.low for t in toks[max(0, a - 6) : a]]
    return "but" in after and any(w in NEGATIONS for w in before)


def _inside(c: Candidate) -> list[int]:
    """Indices of the sentence's tokens that a candidate spans."""
    return [k for k, t in enumerate(c.sentence.parsed.tokens) if c.start <= t.start and t.end <= c.end]
