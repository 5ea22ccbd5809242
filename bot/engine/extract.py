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

import itertools
import re

from bot.engine.evidence import Sentence
from bot.engine.extract_names import (
    DATELINE_DASHES,
    PLACE_PREPS,
    acronym_candidates,
    defines,
    definition_candidates,
    expansion_keys,
    name_candidates,
    person_like,
    speaker,
)
from bot.engine.extract_numbers import (
    conflicting_period,
    quantity_candidates,
    time_word_candidates,
    vague_amount_candidates,
)
from bot.engine.fit import MEASURE_NOUNS, fit
from bot.engine.question import Question
from bot.engine.spans import STRANDED_BONUS, Candidate, after_stranded, anchors, overlaps_question, proximity, span
from bot.engine.vocabulary import NUMERIC_NOUNS, PERSON_NOUNS, PLACE_NOUNS
from bot.language.tokens import NEGATIONS, STOPWORDS, Token, key

__all__ = ["Candidate", "candidates"]

MAX_PHRASE = 7
"""Longest phrase answer, in tokens."""
_BOUNDARY_WORDS = frozenset(
    "which who whom whose that because while although though when where whereas but so since after before "
    "unless until if as said says according".split()
)
_REASON_OPENERS = ("because of", "because", "due to", "owing to", "thanks to", "since", "so that", "in order to", "as")


_LOCATIVE = frozenset("in on at into onto inside outside under behind beside near".split())
"""Prepositions that place what follows them."""
_KIND_OF = re.compile(r"(?i)\b(?:kind|type|sort|form|variety|breed|style)s?\s+of\b")
_FIGURE_WORDS = frozenset("price cost range bracket rate".split())
"""Questions with these words ask for a figure, never for "billions of yuan"."""


def _is_boundary(t: Token) -> bool:
    return (t.kind == "punct" and t.text not in ("-", "'", "’", "&", "%", "$")) or t.low in _BOUNDARY_WORDS


def _trim(toks: list[Token], i: int, j: int) -> tuple[int, int]:
    while i < j and ((toks[i].low in STOPWORDS and toks[i].low not in NEGATIONS) or toks[i].kind == "punct"):
        i += 1
    while j > i and (toks[j - 1].low in STOPWORDS or toks[j - 1].kind == "punct"):
        j -= 1
    return i, j


def run_candidates(q: Question, s: Sentence) -> list[Candidate]:
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
    for a, b in itertools.pairwise(where):
        if b - a > 2:
            i2, j2 = a + 1, min(b, a + 1 + MAX_PHRASE)
            out.extend(_phrase(q, s, i2, j2, where, -0.05))
    return out


def _phrase(q: Question, s: Sentence, i: int, j: int, where: list[int], bias: float) -> list[Candidate]:
    toks = s.parsed.tokens
    i, j = _trim(toks, i, j)
    if j <= i or not any(t.content for t in toks[i:j]):
        return []
    if overlaps_question(q, list(toks[i:j])) > 0.5:
        return []
    score = s.score + 0.2 * proximity(i, j, where) + bias
    n_content = sum(t.content for t in toks[i:j])
    score -= 0.02 * max(0, n_content - 4)
    if q.atype == "action" and toks[i].verb:
        score += 0.1
    elif j - i == 1 and s.parsed.tags[i] == "VERB":
        score -= 0.2  # a lone verb ("works") names nothing
    if q.atype in ("person", "place") and not any(t.cap for t in toks[i:j]):
        head = toks[j - 1].lemma
        score += 0.05 if head in PERSON_NOUNS | PLACE_NOUNS and not _idiom(toks, j - 1) else -0.15
    text, start, end = span(s, i, j)
    return [Candidate(text, start, end, s, score, "phrase")]


_NOT_PLACES = frozenset({"take", "in", "first", "second", "third", "last", "out", "of"})
"""Words before "place" that make it no place at all ("take place", "in place", "first place")."""


def _idiom(toks: list[Token], k: int) -> bool:
    return toks[k].low == "place" and k > 0 and toks[k - 1].lemma in _NOT_PLACES


def _window(q: Question, toks: list[Token], i: int, j: int, size: int = 6) -> float:
    """Share of the question's words found within ``size`` tokens of a span (the sliding-window score)."""
    keys = q.keys
    if not keys:
        return 0.0
    near = {t.key for t in toks[max(0, i - size) : j + size] if t.content}
    return len(near & keys) / len(keys)


def phrase_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """Noun and verb phrases of a sentence that the question does not already say, scored for the asked type."""
    p = s.parsed
    toks, tags, where = p.tokens, p.tags, anchors(q, s)
    if not where:
        return []
    head = key(q.head) if q.head else None
    first_anchor, last_anchor = min(where), max(where)
    out = []
    names = q.name_keys
    spelled = expansion_keys(q, s)  # "Old Pilots Guild" when the question says "OPG"
    for c in p.chunks:
        if q.atype in ("person", "name", "place") and "NUM" in tags[c.i : c.j]:
            continue
        i, j = _trim(toks, c.i, c.j)
        i0, j0 = i, j
        while i < j and ((toks[i].key in q.keys and toks[i].key != head) or toks[i].stop):
            i += 1  # "lobbying the Council" -> "the Council": the question's own words are not the answer
        while j > i and ((toks[j - 1].key in q.keys and toks[j - 1].key != head) or toks[j - 1].stop):
            j -= 1
        if (
            j <= i
            or (j < j0 and tags[j] == "PROPN" and tags[j - 1] == "PROPN")
            or (i > i0 and tags[i - 1] == "PROPN" and tags[i] == "PROPN")
        ):
            continue  # nothing left, or a name cut in two ("contributor Chris [Anderson]")
        if any(n.i < j < n.j or n.i < i < n.j for n in p.names):
            continue  # "World War" out of the name "World War I"
        words = toks[i:j]
        content = [t for t in words if t.content and t.key != head]
        if not content or sum(t.key in q.keys or t.key in spelled for t in content) / len(content) > 0.5:
            continue
        score = s.score + 0.2 * proximity(i, j, where, q, s) + 0.25 * _window(q, toks, i, j)
        score -= 0.03 * max(0, len(content) - 5)
        if any(t.key in names for t in words):
            score -= 0.4
        if c.kind == "VP" and j - i == 1 and q.atype != "action":
            score -= 0.15
        has_name = any(tags[k] == "PROPN" for k in range(i, j))
        last = words[-1].lemma
        if q.atype == "action":
            score += 0.15 if c.kind == "VP" else -0.1
        elif c.kind == "VP":
            score -= 0.08 if q.atype in ("entity", "other", "manner") else 0.3
        if q.atype == "person":
            score += 0.2 if has_name else (0.1 if last in PERSON_NOUNS else -0.2)
        elif q.atype == "name":
            score += 0.1 if has_name else -0.25
        elif q.atype == "place":
            b = i - 1
            while b > 0 and toks[b].low in ("the", "a", "an"):
                b -= 1
            before = toks[b].low if b >= 0 else ""
            placed = last in PLACE_NOUNS and not _idiom(toks, j - 1)
            located = q.wh == "where" and before in _LOCATIVE and words[-1].noun and not _idiom(toks, j - 1)
            if (has_name and before in PLACE_PREPS) or located:
                score += 0.2  # "in Ostby"; "went out on the terrace": where, even without a place noun
            else:
                score += 0.1 if placed else -0.15
            if has_name and speaker(toks, i, j):
                score -= 0.25  # '"...," said Lang' names a person, not a place
        elif head and q.atype in ("entity", "other") and any(t.key == head for t in words):
            score += 0.15
        if head and q.atype in ("place", "person", "name") and has_name and words[-1].key == head:
            score += 0.2  # "what county": "Marsh County"
        if (
            q.subject_wh
            and i >= 2
            and toks[i - 1].low == "by"
            and any(toks[k].key in q.keys for k in range(i - 3, i - 1))
        ):
            score += 0.2  # "founded ... by settlers" answers "Who founded ...?"
        if after_stranded(q, toks, i) and (head is None or any(t.key == head for t in words)):
            # with an asked noun ("what county is it in?") only an object of that kind answers
            score += STRANDED_BONUS  # "What was the flat near?": "near Pratt Institute"
        if c.j - c.i > 2 and any(toks[k].low == "of" for k in range(c.i, c.j)):
            score += 0.03  # "the rise of mobile devices" over "the rise"
        if (
            i >= 1
            and toks[i - 1].text == "("
            and (any(n.j == i - 1 for n in p.names) or (j < len(toks) and toks[j].text == ")"))
        ):
            score -= 0.2  # an abbreviation in parentheses is the alias of the name before it, or an aside
        if q.atype == "person" and has_name and not person_like(toks, i, j):
            score -= 0.08
        if i == 0 and j < len(toks) and toks[j].text in DATELINE_DASHES:
            score -= 0.3  # "BERGEN —": a dateline
        if (q.subject_wh and j <= first_anchor) or (not q.subject_wh and i > last_anchor):
            score += 0.05
        text, start, end = span(s, i, j)
        out.append(Candidate(text, start, end, s, score, "phrase"))
    return out


def head_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """The asked noun in the sentence with what names or qualifies it.

    "What game" finds "Game 7"; "what type of trajectory" finds "upward".
    """
    if not q.head:
        return []
    head = key(q.head)
    toks, out = s.parsed.tokens, []
    for i, t in enumerate(toks):
        if t.key != head:
            continue
        j = i + 1
        while j < len(toks) and j < i + 3 and (toks[j].kind == "num" or toks[j].cap) and toks[j].key not in q.keys:
            j += 1
        if j > i + 1:
            text, start, end = span(s, i, j)
            out.append(Candidate(text, start, end, s, s.score + 0.35, "phrase"))
        b = i + 2 if i + 1 < len(toks) and toks[i + 1].text == "," else -1
        if b > 0 and b < len(toks) and toks[b].low in ("the", "a", "an"):
            b += 1
        nm = next((n for n in s.parsed.names if n.i == b), None) if b > 0 else None
        if nm is not None and not ({key(w) for w in nm.text.split()} & q.keys):
            text, start, end = span(s, nm.i, nm.j)  # an apposition: "the monitoring group, the Coastal Observatory"
            out.append(Candidate(text, start, end, s, s.score + 0.45, "name"))
        a = i
        while a > 0 and i - a < 3 and toks[a - 1].kind == "word" and not toks[a - 1].stop and not toks[a - 1].verb:
            if toks[a - 1].key in q.keys:
                break
            a -= 1
        if a < i and a >= 2 and toks[a - 1].text == "-" and toks[a - 2].end == toks[a - 1].start == toks[a].start - 1:
            a -= 2  # "40-acre sheep", not "acre sheep"
        if a < i:
            text, start, end = span(s, a, i)
            bonus = 0.45 if _KIND_OF.search(q.text) else 0.25  # "what kind of farm": "sheep [farm]"
            out.append(Candidate(text, start, end, s, s.score + bonus, "phrase"))
    return out


JOB_NOUNS = frozenset("occupation job profession career role position work trade vocation".split())
"""Asked nouns answered by what a sentence says someone works *as* ("works as the harbour master")."""
ROLE_BONUS = 0.6
"""An "as the <role>" phrase is exactly what a job question asks for, wherever it stands in the sentence."""


def role_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """What someone works or serves as: the noun phrase after "as a/an/the" ("as the harbour master")."""
    toks, out = s.parsed.tokens, []
    for i in range(len(toks) - 2):
        if toks[i].low != "as" or toks[i + 1].low not in ("a", "an", "the", "its", "his", "her", "their"):
            continue
        j = i + 2
        while j < len(toks) and j - i < 2 + MAX_PHRASE and not _is_boundary(toks[j]):
            j += 1
        a, b = _trim(toks, i + 2, j)
        if b > a and toks[b - 1].noun:
            text, start, end = span(s, a, b)
            out.append(Candidate(text, start, end, s, s.score + ROLE_BONUS, "phrase"))
    for i, t in enumerate(toks):
        if t.low.startswith("ex-") and len(t.low) > 4 and not t.cap:
            out.append(Candidate(t.text[3:], t.start + 3, t.end, s, s.score + ROLE_BONUS, "phrase"))  # "ex-gardener"
        elif t.low in _FORMER and i + 1 < len(toks) and toks[i + 1].noun and not toks[i + 1].cap:
            text, start, end = span(s, i + 1, i + 2)
            out.append(Candidate(text, start, end, s, s.score + ROLE_BONUS, "phrase"))  # "the former gardener"
    return out


_FORMER = frozenset({"former", "retired", "then", "longtime", "veteran"})
"""Words before a noun that make it someone's role ("the former gardener")."""


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
                text, start, end = span(s, a, b)
                bonus = 0.25 if opener.startswith("because") or opener in ("due to", "owing to") else 0.12
                out.append(Candidate(text, start, end, s, s.score + bonus, "phrase"))
    return out


def candidates(q: Question, sentences: list[Sentence]) -> list[Candidate]:
    """All candidates of the asked type in some sentences, best first."""
    out: list[Candidate] = []
    if q.acronym:
        out = [c for s in sentences for c in acronym_candidates(q, s)]
        if out:
            return sorted(out, key=lambda c: -c.score)
    described = defines(q)
    if described:  # "Who was X?": what the documents say X is
        out = [c for s in sentences for c in definition_candidates(q, s, described)]
        if out:
            return sorted(out, key=lambda c: -c.score)
    vague: list[Candidate] = []
    for s in sentences:
        if conflicting_period(q, s):
            continue  # "in October" against a sentence about November
        if q.numeric or q.atype in ("date", "time"):
            out.extend(quantity_candidates(q, s))
            if q.atype in ("amount", "money") and not {t.lemma for t in q.tokens} & _FIGURE_WORDS:
                vague.extend(vague_amount_candidates(q, s))
        elif q.atype in ("entity", "other") and (q.head is None or q.head in NUMERIC_NOUNS | MEASURE_NOUNS):
            out.extend(quantity_candidates(q, s))  # "What was X's circulation in 2004?" asks for a number
        if q.atype in ("person", "place", "entity", "list", "name"):
            out.extend(name_candidates(q, s))
        if q.atype in ("entity", "action", "manner", "other", "person", "place", "reason", "name"):
            out.extend(phrase_candidates(q, s))
            out.extend(run_candidates(q, s))
        if q.atype == "reason":
            out.extend(reason_candidates(q, s))
        if q.head in JOB_NOUNS:
            out.extend(role_candidates(q, s))
        if q.head and q.atype in ("entity", "other", "person", "place"):
            out.extend(head_candidates(q, s))
        if q.atype in ("date", "time", "duration"):
            out.extend(time_word_candidates(q, s))
    figures = [c.sentence.score for c in out if c.quantity is not None and c.quantity.kind == "money"]
    out.extend(v for v in vague if v.sentence.score > max(figures, default=-1.0))  # "billions of yuan": no figure
    out = fit(q, out)
    out.sort(key=lambda c: -c.score)
    return out
