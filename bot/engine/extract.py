"""Extract stage: candidate answers of the asked type, each a span of an evidence sentence.

The question's words are aligned with each evidence sentence; the answer is usually what the
sentence says *next to* those words that the question does not (``Who bought Wired News?`` against
``Condé Nast bought Wired News in 2006``). Candidates by type:

* quantities of the asked kind (counts with the asked noun, money, percents, durations, dates);
* names (people, organisations, places) that the question does not already name;
* phrases: the run of words beside the aligned words, cut at a clause boundary (what, how, why).

Each candidate is scored by the sentence's relevance, its distance to the aligned words and how well
its type fits; nothing is invented, every candidate is a span of its sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.evidence import Sentence
from bot.engine.question import PERSON_NOUNS, PLACE_NOUNS, Question
from bot.facts import clause_bounds, subject_of
from bot.language.quantities import Quantity
from bot.language.tokens import NEGATIONS, STOPWORDS, Token, is_month

MAX_PHRASE = 7
"""Longest phrase answer, in tokens."""
_BOUNDARY_WORDS = frozenset(
    "which who whom whose that because while although though when where whereas but so since after before "
    "unless until if as said says according".split()
)
_PLACE_PREPS = frozenset({"in", "at", "from", "near", "to", "across", "into", "outside", "inside", "throughout"})
_REASON_OPENERS = ("because of", "because", "due to", "owing to", "thanks to", "since", "so that", "in order to", "as")
_KIND_FOR = {
    "count": ("count",), "amount": ("count", "money"), "money": ("money",), "percent": ("percent",),
    "duration": ("duration",), "age": ("count",), "distance": ("count",), "size": ("count",),
    "frequency": ("count",), "speed": ("count",), "date": ("date", "year"), "time": ("time", "date"),
}  # fmt: skip


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
    """Indices of the sentence's tokens that match a question term."""
    keys = q.keys
    return [i for i, t in enumerate(s.parsed.tokens) if t.content and t.key in keys]


def _proximity(i: int, j: int, where: list[int]) -> float:
    if not where:
        return 0.0
    d = min(min(abs(a - i), abs(a - (j - 1))) for a in where)
    return 1.0 / (1.0 + d / 3.0)


def _overlaps_question(q: Question, tokens: list[Token]) -> float:
    words = [t for t in tokens if t.content]
    if not words:
        return 1.0
    return sum(t.key in q.keys for t in words) / len(words)


def _span(s: Sentence, i: int, j: int) -> tuple[str, int, int]:
    toks = s.parsed.tokens
    start, end = toks[i].start, toks[j - 1].end
    return s.record.text[start - s.record.start : end - s.record.start], start, end


# -- quantities ---------------------------------------------------------------------------------------
def quantity_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """Quantities of the asked kind in a sentence, scored by fit and closeness to the question's words."""
    kinds = _KIND_FOR.get(q.atype, ("count", "money", "percent", "duration"))
    toks, where = s.parsed.tokens, anchors(q, s)
    out = []
    question_numbers = {t.low for t in q.tokens if t.kind == "num"}
    for qt in s.parsed.quantities:
        if qt.kind not in kinds or any(t.low in question_numbers for t in qt.tokens if t.kind == "num"):
            continue
        score = s.score + 0.25 * _proximity(qt.i, qt.j, where)
        if q.head and qt.unit and (qt.unit == q.head or qt.unit.rstrip("s") == q.head.rstrip("s")):
            score += 0.3
        elif q.head and qt.unit and q.atype == "count":
            score -= 0.1
        if q.atype == "count" and qt.kind == "count" and qt.unit is None:
            score -= 0.05
        score += _subject_fit(q, s, qt)
        text, start, end = qt.text, qt.start, qt.end
        out.append(Candidate(text, start, end, s, score, "quantity", qt))
    del toks
    return out


def _subject_fit(q: Question, s: Sentence, qt: Quantity) -> float:
    """Bonus when the quantity's clause subject is a name the question asks about, penalty for another name."""
    if not q.names:
        return 0.0
    p = s.parsed
    subject = subject_of(p.tokens, p.names, qt.i, clause_bounds(p.tokens, qt.i, qt.j))
    if subject is None:
        return 0.0
    asked = {w.lower() for n in q.names for w in n.split()}
    said = {w.lower() for w in subject.text.split()}
    aliases = _aliases(s, subject)
    return 0.15 if (said | aliases) & asked else -0.5


def _aliases(s: Sentence, name: object) -> set[str]:
    """Other names for a name given right after it in parentheses ("... Alliance (HIMA)")."""
    toks = s.parsed.tokens
    j = getattr(name, "j", 0)
    if j + 2 < len(toks) and toks[j].text == "(" and toks[j + 2].text == ")":
        return {toks[j + 1].low}
    return set()


# -- names ------------------------------------------------------------------------------------------
def name_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """Names in a sentence that the question does not already give, scored for the asked type."""
    toks, where = s.parsed.tokens, anchors(q, s)
    asked = {w.lower() for n in q.names for w in n.split()} | q.keys
    out = []
    for nm in s.parsed.names:
        words = {w.lower().rstrip(".") for w in nm.text.split()}
        if words & asked and not (words - asked):
            continue
        if any(is_month(w) for w in words):
            continue
        score = s.score + 0.3 * _proximity(nm.i, nm.j, where)
        before = toks[nm.i - 1].low if nm.i > 0 else ""
        if q.atype == "place":
            score += 0.15 if before in _PLACE_PREPS else -0.05
        if q.atype == "person" and before in _PLACE_PREPS - {"to", "from"}:
            score -= 0.1
        if words & asked:
            score -= 0.15
        text, start, end = _span(s, nm.i, nm.j)
        out.append(Candidate(text, start, end, s, score, "name"))
    return out


# -- phrases ----------------------------------------------------------------------------------------
def _is_boundary(t: Token) -> bool:
    return t.kind == "punct" and t.text not in ("-", "'", "’", "&", "%", "$") or t.low in _BOUNDARY_WORDS


def _trim(toks: list[Token], i: int, j: int) -> tuple[int, int]:
    while i < j and (toks[i].low in STOPWORDS and toks[i].low not in NEGATIONS or toks[i].kind == "punct"):
        i += 1
    while j > i and (toks[j - 1].low in STOPWORDS or toks[j - 1].kind == "punct"):
        j -= 1
    return i, j


def phrase_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """Runs of words beside the question's words in a sentence (after them, or before them)."""
    toks, where = s.parsed.tokens, anchors(q, s)
    if not where:
        return []
    out = []
    matched = set(where)
    first, last = min(where), max(where)
    # After the last aligned word: what the sentence goes on to say.
    j = last + 1
    while j < len(toks) and toks[j].low in STOPWORDS and toks[j].low not in _BOUNDARY_WORDS:
        j += 1
    k = j
    while k < len(toks) and k - j < MAX_PHRASE and not _is_boundary(toks[k]) and k not in matched:
        k += 1
    out.extend(_phrase(q, s, j, k, where, 0.0))
    # Before the first aligned word: the subject side.
    j = first
    while j > 0 and toks[j - 1].low in STOPWORDS and toks[j - 1].low not in _BOUNDARY_WORDS:
        j -= 1
    i = j
    while i > 0 and j - i < MAX_PHRASE and not _is_boundary(toks[i - 1]) and (i - 1) not in matched:
        i -= 1
    out.extend(_phrase(q, s, i, j, where, 0.05 if q.subject_wh else -0.1))
    # Between aligned words ("was covered with broken bottles around the ground").
    for a, b in zip(where, where[1:], strict=False):
        if b - a > 2:
            i2, j2 = a + 1, min(b, a + 1 + MAX_PHRASE)
            out.extend(_phrase(q, s, i2, j2, where, -0.05))
    return out


def _phrase(q: Question, s: Sentence, i: int, j: int, where: list[int], bias: float) -> list[Candidate]:
    toks = s.parsed.tokens
    i, j = _trim(toks, i, j)
    if j <= i or not any(t.content for t in toks[i:j]):
        return []
    if _overlaps_question(q, list(toks[i:j])) > 0.5:
        return []
    score = s.score + 0.2 * _proximity(i, j, where) + bias
    n_content = sum(t.content for t in toks[i:j])
    score -= 0.02 * max(0, n_content - 4)
    if q.atype == "action" and toks[i].verb:
        score += 0.1
    if q.atype in ("person", "place") and not any(t.cap for t in toks[i:j]):
        head = toks[j - 1].lemma
        score += 0.05 if head in PERSON_NOUNS | PLACE_NOUNS else -0.15
    text, start, end = _span(s, i, j)
    return [Candidate(text, start, end, s, score, "phrase")]


def reason_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """The clause after "because", "due to", "so that"... in a sentence."""
    toks = s.parsed.tokens
    lows = [t.low for t in toks]
    out = []
    for opener in _REASON_OPENERS:
        words = opener.split()
        for i in range(len(toks) - len(words)):
            if lows[i : i + len(words)] != words:
                continue
            a = i + len(words)
            b = a
            while b < len(toks) and b - a < 14 and not (toks[b].kind == "punct" and toks[b].text in ".;:!?"):
                b += 1
            a, b = _trim(toks, a, b)
            if b > a:
                text, start, end = _span(s, a, b)
                bonus = 0.25 if opener.startswith("because") or opener in ("due to", "owing to") else 0.12
                out.append(Candidate(text, start, end, s, s.score + bonus, "phrase"))
    return out


def candidates(q: Question, sentences: list[Sentence]) -> list[Candidate]:
    """All candidates of the asked type in some sentences, best first."""
    out: list[Candidate] = []
    for s in sentences:
        if q.numeric or q.atype in ("date", "time"):
            out.extend(quantity_candidates(q, s))
        if q.atype in ("person", "place", "entity", "list"):
            out.extend(name_candidates(q, s))
        if q.atype in ("entity", "action", "manner", "other", "person", "place", "reason"):
            out.extend(phrase_candidates(q, s))
        if q.atype == "reason":
            out.extend(reason_candidates(q, s))
        if q.atype in ("date", "time"):
            out.extend(c for c in name_candidates(q, s) if _temporal(c))
    out.sort(key=lambda c: -c.score)
    return out


def _temporal(c: Candidate) -> bool:
    return any(is_month(w) for w in c.text.lower().split())
