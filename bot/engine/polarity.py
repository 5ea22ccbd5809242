"""Yes/no as a claim: "yes" needs a sentence that states what was asked, "no" one that contradicts it.

A yes/no question makes a claim ("Is the plant in Ohio?"). The evidence sentence either

* **states** it - the question's own words (names and light verbs aside) are in the sentence or the one
  before it, with the same polarity: yes;
* **contradicts** it - it states it with a negation the question does not have (or the reverse), uses an
  antonym of one of the question's words ("illegal" for "legal", "closed" for "open"), or gives another
  value where the question names one ("founded in 1985" for "founded in 1990?"): no;
* or **neither** - words are missing, so the sentence does not settle the question: no verdict. Missing
  words are not a "no"; the engine then abstains and quotes the passage.

The antonym pairs and negating prefixes are data at the top of this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.evidence import Sentence
from bot.engine.question import Question
from bot.engine.spans import anchors
from bot.language.tokens import NEGATIONS, key

LIGHT_VERBS = frozenset({"be", "do", "have", "say", "get", "go", "make", "take", "come", "ever", "still", "also"})
STATED = 0.75
"""Share of the question's own words (weighted by rarity) the sentence must state for it to state the claim."""
RELATED = 0.4
"""... and the share for a sentence to be about the claim at all (so an antonym or another value contradicts it)."""
_ANTONYM_TEXT = """
open:closed open:shut alive:dead legal:illegal true:false win:lose won:lost increase:decrease rise:fall
more:less more:fewer higher:lower high:low before:after same:different public:private male:female
possible:impossible able:unable allowed:banned allow:ban allow:forbid permitted:prohibited legal:banned
first:last major:minor old:new older:newer older:younger young:old large:small big:small long:short
north:south east:west inside:outside above:below accept:reject pass:fail include:exclude present:absent
always:never success:failure successful:unsuccessful guilty:innocent native:foreign rich:poor full:empty
odd:even real:fictional real:fake fiction:nonfiction natural:artificial wild:domestic mandatory:optional
required:optional same:opposite start:end begin:end hot:cold wet:dry early:late light:heavy light:dark
"""
ANTONYMS: dict[str, frozenset[str]] = {}
for _pair in _ANTONYM_TEXT.split():
    _a, _b = _pair.split(":")
    ANTONYMS.setdefault(key(_a), frozenset())
    ANTONYMS.setdefault(key(_b), frozenset())
    ANTONYMS[key(_a)] |= {key(_b)}
    ANTONYMS[key(_b)] |= {key(_a)}
CLAIM_WORDS = frozenset(
    "same different identical only more less fewer most least before after first last all every never always "
    "again still better worse best worst left any".split()
)
"""Function words that carry the claim itself ("the same", "still", "any left"): the sentence must say them too."""
NEGATING_PREFIXES = ("un", "in", "il", "im", "ir", "non", "dis")
"""A sentence word that is a question word with one of these in front negates it ("unlawful" for "lawful")."""


@dataclass(frozen=True)
class Polarity:
    """What the evidence says of a yes/no question: ``yes`` True/False, or None when it does not settle it."""

    yes: bool | None
    stated: float  # weighted share of the question's own words the sentence (or the one before) states
    how: str  # stated | negation | antonym | other value | missing words


def _opposed(question_keys: set[str], said: set[str]) -> bool:
    """Whether the sentence uses an antonym, or a prefixed negation, of a question word it does not use."""
    for k in question_keys - said:
        if ANTONYMS.get(k, frozenset()) & said:
            return True
        if any(p + k in said for p in NEGATING_PREFIXES) or any(
            k.startswith(p) and k[len(p) :] in said for p in NEGATING_PREFIXES if len(k) - len(p) >= 4
        ):
            return True
    return False


def _other_value(q: Question, s: Sentence) -> bool:
    """Whether the question names a number the sentence lacks while the sentence gives another of that kind."""
    asked = [t for t in q.tokens if t.kind == "num"]
    if not asked:
        return False
    said = {t.low for t in s.parsed.tokens if t.kind == "num"}
    return any(t.low not in said for t in asked) and bool(said)


def statement(sentences: list[Sentence]) -> Sentence | None:
    """The best sentence that can state a claim: not a bare title or heading ("Leaning Tower of Pisa")."""
    for s in sentences:
        words = [t for t in s.parsed.tokens if t.kind == "word"]
        if len(words) >= 5 and any(t.verb or "VERB" in t.pos or t.low in ("is", "was", "are", "were") for t in words):
            return s
    return None


def polarity(q: Question, s: Sentence, before: Sentence | None = None) -> Polarity:
    """Whether the best sentence states, contradicts or does not settle a yes/no question."""
    toks = s.parsed.tokens
    where = anchors(q, s)
    lo, hi = (min(where), max(where)) if where else (0, len(toks))
    window = toks[max(0, lo - 3) : hi + 3]
    negated = any(t.low in NEGATIONS for t in window)
    said = s.parsed.keys | (before.parsed.keys if before is not None else set())
    asked = [t for t in q.terms if not t.name and not t.related and t.key not in {key(v) for v in LIGHT_VERBS}]
    weights = q.weights or {}
    total = sum(weights.get(t.key, 1.0) for t in asked)
    stated = sum(weights.get(t.key, 1.0) for t in asked if t.key in said) / total if total else 1.0
    lows = {t.low for t in s.parsed.tokens}
    critical = {t.low for t in q.tokens} & CLAIM_WORDS
    if critical - lows and stated >= STATED:  # "Are A and B the same?" met by a sentence that never says so
        stated = min(stated, (STATED + RELATED) / 2)
    qkeys = {t.key for t in asked}
    if stated >= RELATED and _opposed(qkeys, said):
        return Polarity(q.negated, stated, "antonym")
    if stated >= STATED:
        if negated != q.negated:
            return Polarity(False, stated, "negation")
        if _other_value(q, s):
            return Polarity(q.negated, stated, "other value")
        return Polarity(True, stated, "stated")
    if stated >= RELATED and _other_value(q, s):
        return Polarity(q.negated, stated, "other value")
    return Polarity(None, stated, "missing words")
