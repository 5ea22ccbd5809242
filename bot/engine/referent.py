"""Referents: who "It" or "He" is when the best sentence opens on a pronoun.

"What replaced the guild?" is answered by "It was created in 1921 to replace the old guild" only
through the sentence before it, which names "it" ("The Harbour Board is the port's governing body.").
The referent is the name that opens that sentence, found with one bounded read.
"""

from __future__ import annotations

from bot.engine.evidence import Evidence, Sentence, adjacent
from bot.engine.index import IndexView
from bot.engine.question import Question
from bot.engine.spans import Candidate, anchors, span
from bot.language.tokens import AUXILIARIES

PRONOUN_TYPES = {
    "it": ("entity", "name", "other"), "he": ("person",), "she": ("person",),
    "they": ("entity", "name", "person", "other"),
}  # fmt: skip
"""Subject pronouns, and the question types whose answer each may stand for."""
OPENING = 4
"""A referent must stand within this many tokens of its sentence's start (it is that sentence's subject)."""


def preceding(index: IndexView, ev: Evidence, s: Sentence) -> Sentence | None:
    """The sentence right before ``s`` in its document."""
    return adjacent(index, ev, s, -1)


def opens_on_pronoun(q: Question, s: Sentence) -> bool:
    """Whether a sentence's subject is a pronoun that could stand for what a subject question asks."""
    toks = s.parsed.tokens
    if not toks or not q.subject_wh:
        return False
    fits = PRONOUN_TYPES.get(toks[0].low, ())
    if len(toks) < 2 or not (toks[1].low in AUXILIARIES or "VERB" in toks[1].pos):
        return False  # "It was established ...": the pronoun is the subject
    where = anchors(q, s)
    return q.atype in fits and bool(where) and len(where) >= max(1, len(q.keys) // 2)


def referent(q: Question, s: Sentence, before: Sentence) -> Candidate | None:
    """The name opening the sentence before ``s``, as the answer that ``s``'s pronoun stands for."""
    asked = q.name_keys | q.keys
    for nm in before.parsed.names:
        if nm.i >= OPENING:
            break
        if {t.key for t in before.parsed.tokens[nm.i : nm.j]} & asked:
            continue
        text, start, end = span(before, nm.i, nm.j)
        return Candidate(text, start, end, before, s.score, "name")
    return None
