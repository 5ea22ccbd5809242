"""Explanations: why, how, and "what role / what risk / what does X handle" questions.

The answer is the clause of the best evidence sentence that carries what the question does not
already say: the part after "because", "due to" or a colon for a why-question, otherwise the clause
with most new words next to the question's words (two clauses when the question asks two things).
A clause opening with "This"/"These" leans on the sentence before it, which is then read too.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from bot.engine.evidence import Evidence, Sentence, adjacent
from bot.engine.index import IndexView
from bot.engine.question import Question
from bot.engine.spans import Candidate, anchors
from bot.language.tokens import NEGATIONS

EXPLAIN_NOUNS = frozenset(
    "role difference advantage disadvantage benefit risk reason purpose goal aim strategy plan problem "
    "issue effect impact consequence result cause way method process approach pros cons meaning point "
    "idea".split()
)
MAX_WORDS = 32
"""Longest explanation, in words."""
_BREAK = re.compile(
    r"(?:;|:|\s[—–]\s|,\s+(?=(?:while|but|and|yet|which|whereas|although|so|because|as|since|with|leaving|making|"
    r"creating|enabling|allowing)\b)|\s(?=(?:because|since|so that|due to|in order to|while|whereas)\b))",
    re.IGNORECASE,
)
REASON_OPENERS = re.compile(r"^\W*(?:because|since|as|due to|owing to|thanks to|so that|in order to|to)\b", re.I)
_DISCOURSE = re.compile(
    r"^\W*(?:for instance|for example|however|moreover|meanwhile|in addition|instead|still|also|indeed|"
    r"at the same time|in turn|as a result)\s*,?\s*",
    re.IGNORECASE,
)
TWO_THINGS = re.compile(r"\band (?:what|how|why|who)\b", re.I)
"""A question that asks two things at once."""
_INSTEAD = re.compile(r"^\W*(?:instead|rather)\b\s*,?\s*", re.I)
_ANAPHOR = re.compile(r"^\W*(?:this|these|that|those|such|it|they)\b", re.I)


@dataclass
class Clause:
    """A clause of a sentence: ``text[a:b]`` in document coordinates."""

    sentence: Sentence
    start: int
    end: int

    @property
    def text(self) -> str:
        """The clause as written."""
        r = self.sentence.record
        return r.text[self.start - r.start : self.end - r.start]


def wants_explanation(q: Question) -> bool:
    """Whether a question asks for an explanation rather than a name, number or short phrase."""
    if q.atype in ("reason", "manner"):
        return True
    if q.atype == "action":
        return True
    if q.atype in ("entity", "other") and TWO_THINGS.search(q.text):
        return True  # "what does A handle and what does B bring?": one clause will not do
    return q.atype in ("entity", "other") and (q.head in EXPLAIN_NOUNS or any(t.key in {"pro", "con"} for t in q.terms))


def clauses(s: Sentence) -> list[Clause]:
    """The clauses of a sentence, cut at semicolons, colons, dashes and clause-opening conjunctions."""
    text, base = s.record.text, s.record.start
    cuts = [0] + [m.end() if m.group(0).strip() in (";", ":") else m.start() for m in _BREAK.finditer(text)]
    cuts.append(len(text))
    out = []
    for a, b in itertools.pairwise(cuts):
        seg = text[a:b]
        lead = len(seg) - len(seg.lstrip(" ,;:—–"))
        trail = len(seg) - len(seg.rstrip(" ,;:.—–"))
        if b - trail > a + lead:
            out.append(Clause(s, base + a + lead, base + b - trail))
    return out


def _new_words(q: Question, c: Clause) -> tuple[int, int]:
    """(content words the question does not say, question words) in a clause."""
    toks = [t for t in c.sentence.parsed.tokens if c.start <= t.start < c.end and t.content]
    new = sum(t.key not in q.all_keys for t in toks)
    return new, len(toks) - new


def explain(q: Question, ev: Evidence, top: list[Sentence]) -> Candidate | None:
    """The explaining clause(s) of the best sentence, as an answer candidate."""
    if not top:
        return None
    s = top[0]
    if not anchors(q, s):
        return None
    parts = clauses(s)
    if not parts:
        return None
    scored = []
    for k, c in enumerate(parts):
        new, old = _new_words(q, c)
        score = new + 0.8 * old
        if q.atype == "reason" and REASON_OPENERS.match(c.text):
            score += 4
        if k > 0 and parts[k - 1].end < c.start and s.record.text[parts[k - 1].end - s.record.start :].startswith(":"):
            score += 2  # what follows a colon explains what precedes it
        if new == 0:
            score -= 5
        scored.append((score, k))
    _, best = max(scored)
    chosen = [parts[best]]
    after_colon = best > 0 and s.record.text[parts[best - 1].end - s.record.start :].startswith(":")
    whole = after_colon or TWO_THINGS.search(q.text) is not None  # the rest of the sentence belongs to it
    words = len(chosen[0].text.split())
    k = best + 1
    while k < len(parts) and (whole or words < 6) and words + len(parts[k].text.split()) <= MAX_WORDS:
        chosen.append(parts[k])
        words += len(parts[k].text.split())
        k += 1
    start, end = chosen[0].start, chosen[-1].end
    text = s.record.text[start - s.record.start : end - s.record.start]
    lead = _DISCOURSE.match(text)
    if lead:
        start += lead.end()
        text = text[lead.end() :]
    if len(text.split()) > MAX_WORDS:
        cut = text.split()[:MAX_WORDS]
        text = " ".join(cut)
        end = start + len(text)
    return Candidate(text, start, end, s, s.score + 0.3, "phrase")


_CAUSE = re.compile(
    r"\b(?:attribut\w*|ascrib\w*)\s+(?:(?:the|this|that|it|its|their)\s+)?(?:\w+\s+){0,3}?to\s+"
    r"|\b(?:because of|because|due to|owing to|driven by|caused by|as a result of|the reason (?:was|is) (?:that )?)\s*",
    re.IGNORECASE,
)


def following(index: IndexView, ev: Evidence, s: Sentence) -> Sentence | None:
    """The sentence right after ``s`` in its document."""
    return adjacent(index, ev, s, 1)


def reason_in(s: Sentence, q: Question | None = None) -> Candidate | None:
    """The cause a sentence gives ("Bakers attribute the rise to [a poor harvest]"), or None.

    With ``q``: only a cause given after what the question asks about ("X fell because Y"), not one of
    another clause of the sentence ("... matters because Y, so X").
    """
    m = _CAUSE.search(s.text)
    if m is None:
        return None
    if q is not None:
        at = [s.parsed.tokens[i].start - s.record.start for i in anchors(q, s)]
        if not at or sum(a < m.start() for a in at) * 2 <= len(at):
            return None
    rest = s.text[m.end() :]
    cut = re.search(r"[.;:!?](?:\s|$)", rest)
    text = rest[: cut.start() if cut else len(rest)].strip(" ,")
    words = text.split()
    if not words or len(words) > MAX_WORDS:
        return None
    start = s.record.start + m.end() + rest.index(words[0])
    return Candidate(text, start, start + len(text), s, s.score, "phrase")


def instead(index: IndexView, ev: Evidence, c: Candidate) -> Candidate | None:
    """What the next sentence says happens instead, when an explanation only says what does not.

    "X will not rely on Y. Instead, it will use Z": the answer is "it will use Z".
    """
    if not any(t.low in NEGATIONS for t in c.sentence.parsed.tokens):
        return None
    nxt = following(index, ev, c.sentence)
    m = _INSTEAD.match(nxt.text) if nxt is not None else None
    if nxt is None or m is None:
        return None
    text = nxt.text[m.end() :].rstrip(" .")
    if not text or len(text.split()) > MAX_WORDS:
        return None
    start = nxt.record.start + m.end()
    return Candidate(text, start, start + len(text), nxt, nxt.score, "phrase")


def leans_on_previous(c: Candidate) -> bool:
    """Whether an explanation opens with "This ..."/"They ..." and needs the sentence before it."""
    return bool(_ANAPHOR.match(c.text))
