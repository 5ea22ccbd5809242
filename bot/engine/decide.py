"""Decide stage: answer or refuse, and yes or no.

A refusal is calibrated on the evidence, not on word lists: the best sentence must be close enough to
the question, the names the question asks about must occur in the evidence, and for a typed question
(a number, a date, a name) a candidate of that type must exist and stand close to the question's
words. Thresholds are data at the top of this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.engine.evidence import Evidence, Sentence
from bot.engine.question import Question
from bot.engine.spans import Candidate
from bot.language.quantities import CURRENCY_WORDS
from bot.language.tokens import TITLES, key

MIN_SENTENCE = 0.30
"""A best sentence scoring below this does not support any answer."""
MIN_CANDIDATE = 0.42
"""A candidate scoring below this is not an answer."""
DENSE_ALONE = 0.6
"""A best passage sharing no word with the question must be at least this close in meaning."""
DENSE_SURE = 0.75
"""... and this close when the noun the question asks about is one the documents never use."""


@dataclass
class Verdict:
    """Whether to answer, and if not, why (in words for the refusal)."""

    ok: bool
    why: str = ""
    missing: list[str] | None = None
    disclosed: bool = True


NOT_DISCLOSED = re.compile(
    r"\b(?:did|does|do|would|could|has|have|had|was|were|is|are)\s*(?:not|n't|never)\s+"
    r"(?:say|said|disclose|disclosed|reveal|revealed|give|given|provide|provided|specify|specified|comment|"
    r"confirm|confirmed|announce|announced|release|released|report|reported|name|named|state|stated)\b"
    r"|\b(?:undisclosed|not disclosed|declined to (?:say|comment|disclose))\b",
    re.IGNORECASE,
)
_JOINERS = frozenset({"of", "de", "the", "and", "&", "for"})
TYPE_NOUNS = frozenset(
    "person people man woman boy girl child name kind type thing reason way place city country town area "
    "time year date day month company firm group team".split()
)
ROLE_VERBS = frozenset({"run", "lead", "head", "manage", "chair", "own", "found", "direct", "coach"})
ROLE_NOUNS = frozenset(
    "ceo chief executive president chairman chairwoman chair director manager head leader founder owner "
    "boss coach captain mayor governor principal editor".split()
)
"""Roles a "who is the <role> of X?" question asks for: the documents must name the role to answer."""
"""Asked nouns that name a type of answer, not something the documents must mention."""


def missing_names(q: Question, ev: Evidence, index_known: Callable[[str], bool]) -> list[str]:
    """Names of the question with a word the index never uses (the documents do not talk about them)."""
    out = []
    for name in q.names:
        if q.modifier(name):
            continue  # a modifier ("EV startups", "US dollars"), not the subject asked about
        words = [w.lower().strip(".’'") for w in name.split() if len(w) > 1 and w.lower() not in _JOINERS]
        words = [w for w in words if w not in TITLES and w not in CURRENCY_WORDS]  # "in USD": a unit, not a subject
        if words and not any(index_known(w) or _demonym_of_known(w, index_known) for w in words):
            out.append(name)
    return out


_DEMONYM_ENDINGS = ("ans", "ns", "an", "n", "s")


def _demonym_of_known(word: str, index_known: Callable[[str], bool]) -> bool:
    """Whether a word is a demonym or plural of a word the index knows ("Kenyans" of "Kenya"): a few lookups."""
    return any(word.endswith(e) and len(word) - len(e) >= 4 and index_known(word[: -len(e)]) for e in _DEMONYM_ENDINGS)


def not_disclosed(q: Question, s: Sentence) -> bool:
    """Whether the best sentence says outright that the asked thing was not given ("X did not say how much")."""
    m = NOT_DISCLOSED.search(s.text)
    if not m:
        return False
    if key(m.group(0).split()[-1]) in q.keys:
        return False  # "did not report for duty" is what "how many did not report for duty?" asks about
    names = {w.lower() for n in q.names for w in n.split()}
    return not names or bool(names & {t.low for t in s.parsed.tokens})


def judge(
    q: Question, ev: Evidence, best: Candidate | None, index_known: Callable[[str], bool], followup: bool = False
) -> Verdict:
    """Decide whether the evidence answers the question."""
    if not ev.sentences or ev.sentences[0].score < MIN_SENTENCE:
        return Verdict(False, "")
    missing = [] if q.soft_names else missing_names(q, ev, index_known)
    if missing:
        return Verdict(False, f"anything about {' or '.join(missing)}", missing)
    top = ev.sentences[0]
    if not followup and q.atype != "summary" and not (top.matched & q.keys) and top.dense < DENSE_ALONE:
        return Verdict(False, "")  # no word of the question in the best passage, and not close in meaning
    if (
        not followup
        and q.head
        and (q.head in ROLE_NOUNS or q.head.upper() in {t.text for t in q.tokens})  # "the CEO", "the CFO"
        and not index_known(q.head)
        and not (top.matched & q.all_keys - q.name_keys)
        and top.dense < DENSE_SURE
    ):
        shown = next((t.text for t in q.tokens if t.lemma == q.head), q.head)
        return Verdict(False, f"anything about the {shown}")  # "Who is the CEO of X?" where no CEO is mentioned
    if q.numeric and not_disclosed(q, top):
        return Verdict(False, "", disclosed=False)
    if q.atype in ("yesno", "choice", "summary", "reason", "manner"):
        return Verdict(True)
    if best is None or best.score < MIN_CANDIDATE:
        return Verdict(False, "")
    role = q.head in ROLE_NOUNS or any(t.lemma in ROLE_VERBS for t in q.tokens)
    if q.atype in ("person", "name") and role and not followup and best.sentence.dense < DENSE_ALONE:
        said = best.sentence.parsed.keys
        if not (said & (q.all_keys - q.name_keys - {key(q.head or "")})) and len(q.keys - q.name_keys) > 0:
            return Verdict(False, "")  # "Who runs X?" met by a sentence that only names X: no role, no answer
    return Verdict(True)
