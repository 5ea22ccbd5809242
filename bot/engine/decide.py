"""Decide stage: answer or refuse, and yes or no.

A refusal is calibrated on the evidence, not on word lists: the best sentence must be close enough to
the question, the names the question asks about must occur in the evidence, and for a typed question
(a number, a date, a name) a candidate of that type must exist and stand close to the question's
words. Thresholds are data at the top of this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.evidence import Evidence, Sentence
from bot.engine.extract import Candidate, anchors
from bot.engine.question import Question
from bot.language.tokens import NEGATIONS

MIN_SENTENCE = 0.30
"""A best sentence scoring below this does not support any answer."""
MIN_CANDIDATE = 0.42
"""A candidate scoring below this is not an answer."""
NAME_WINDOW = 5
"""Evidence sentences searched for the question's names."""


@dataclass
class Verdict:
    """Whether to answer, and if not, why (in words for the refusal)."""

    ok: bool
    why: str = ""
    missing: list[str] | None = None


def missing_names(q: Question, ev: Evidence, index_known: callable) -> list[str]:
    """Names of the question that the top evidence never mentions (and the index does not know)."""
    top = ev.top(NAME_WINDOW)
    lows = {t.low for s in top for t in s.parsed.tokens}
    out = []
    for name in q.names:
        words = [w.lower() for w in name.split() if len(w) > 1]
        if words and not any(w in lows for w in words) and not any(index_known(w) for w in words):
            out.append(name)
    return out


def judge(q: Question, ev: Evidence, best: Candidate | None, index_known: callable) -> Verdict:
    """Decide whether the evidence answers the question."""
    if not ev.sentences or ev.sentences[0].score < MIN_SENTENCE:
        return Verdict(False, "")
    missing = missing_names(q, ev, index_known)
    if missing:
        return Verdict(False, f"anything about {' or '.join(missing)}", missing)
    if q.atype in ("yesno", "choice", "summary"):
        return Verdict(True)
    if best is None or best.score < MIN_CANDIDATE:
        return Verdict(False, "")
    return Verdict(True)


def yes_or_no(q: Question, s: Sentence) -> bool:
    """Yes when the best sentence states what the question asks, no when it states the opposite.

    Negation decides: a sentence that negates the matched statement (or a negated question met by a
    positive sentence) means no.
    """
    toks = s.parsed.tokens
    where = anchors(q, s)
    lo, hi = (min(where), max(where)) if where else (0, len(toks))
    window = toks[max(0, lo - 3) : hi + 3]
    sentence_negated = any(t.low in NEGATIONS for t in window)
    return sentence_negated == q.negated
