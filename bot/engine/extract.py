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

import re
from dataclasses import dataclass, replace

from bot.engine.evidence import Sentence
from bot.engine.question import NUMERIC_NOUNS, PERSON_NOUNS, PLACE_NOUNS, Question
from bot.facts import clause_bounds, subject_of
from bot.language.quantities import Quantity, find_quantities
from bot.language.tokens import MONTHS, NEGATIONS, STOPWORDS, Token, is_month, key

MAX_PHRASE = 7
"""Longest phrase answer, in tokens."""
_BOUNDARY_WORDS = frozenset(
    "which who whom whose that because while although though when where whereas but so since after before "
    "unless until if as said says according".split()
)
_PLACE_PREPS = frozenset({"in", "at", "from", "near", "to", "across", "into", "outside", "inside", "throughout"})
_REASON_OPENERS = ("because of", "because", "due to", "owing to", "thanks to", "since", "so that", "in order to", "as")
_KIND_FOR = {
    "count": ("count",), "amount": ("count", "money", "percent"), "money": ("money",), "percent": ("percent",),
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
    """Indices of the sentence's tokens that match a question term (or a word related to one)."""
    keys = q.all_keys
    return [i for i, t in enumerate(s.parsed.tokens) if t.content and t.key in keys]


def _proximity(i: int, j: int, where: list[int], q: Question | None = None, s: Sentence | None = None) -> float:
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
    question_values = {v for x in find_quantities(q.text) for v in x.values}
    numeric_ask = q.numeric or bool({t.lemma for t in q.tokens} & NUMERIC_NOUNS)
    entities = {key(w) for w in _entity_names(q)} if not q.soft_names else set()
    unnamed = bool(entities) and not (entities & s.parsed.keys) and not _refers_back(s)
    for qt in split_changes(s):
        if qt.kind not in kinds or any(t.low in question_numbers for t in qt.tokens if t.kind == "num"):
            continue
        if qt.value is not None and qt.value in question_values:
            continue  # "a family of four": the question's own number is not the answer
        fit = _subject_fit(q, s, qt)
        if fit < 0:
            continue  # the sentence gives this number for someone else
        score = s.score + 0.3 * _proximity(qt.i, qt.j, where, q, s) + fit - (UNNAMED if unnamed else 0.0)
        if not q.numeric:
            score += 0.15 if numeric_ask else -0.1
        if q.head and qt.unit and (qt.unit == q.head or qt.unit.rstrip("s") == q.head.rstrip("s")):
            score += 0.3
        elif q.head and qt.unit and q.atype == "count":
            score -= 0.1
        if q.atype == "count" and qt.kind == "count" and qt.unit is None:
            score -= 0.05
        if q.head and qt.unit and q.numeric and key(qt.unit) != key(q.head) and q.atype == "count":
            score -= 0.25  # "how many carries" is not answered by "133 yards"
        if qt.bound == "to" and NOW.search(q.text) or qt.bound == "from" and BEFORE.search(q.text):
            score += 0.1
        text, start, end = qt.text, qt.start, qt.end
        out.append(Candidate(text, start, end, s, score, "quantity", qt))
    del toks
    return out


NOW = re.compile(r"\b(now|currently|today|at present|these days|latest|after|new)\b", re.I)
BEFORE = re.compile(r"\b(before|previously|originally|used to|earlier|initially|at first|prior)\b", re.I)
PERIOD_WORDS = frozenset(MONTHS) | {"first", "second", "third", "fourth", "q1", "q2", "q3", "q4"}


UNNAMED = 0.35
"""Penalty of a number from a sentence that never names what the question asks about."""
PERSON_CUES_BEFORE = frozenset(
    "mr mrs ms dr prof sen rep gov president secretary minister senator governor judge coach captain "
    "general director chairman professor officer agent".split()
)
PERSON_CUES_AFTER = frozenset("said says told added wrote asked replied explained noted argued according".split())


def _person_like(toks: list[Token], i: int, j: int) -> bool:
    """A name a person bears: after a title ("Mr.", "Secretary") or before a speech verb ("... said")."""
    before = toks[i - 1].low.rstrip(".") if i > 0 else ""
    inside = toks[i].low.rstrip(".")
    after = toks[j].low if j < len(toks) else ""
    after2 = toks[j + 1].low if j + 1 < len(toks) and toks[j].text == "," else ""
    return inside in PERSON_CUES_BEFORE or before in PERSON_CUES_BEFORE or after in PERSON_CUES_AFTER or (
        after2 in ("a", "the", "who")
    )


def _entity_names(q: Question) -> set[str]:
    """Lower-case words of the question's names that are not units ("GWh") or months."""
    return {
        w.lower() for n in q.names for w in n.split()
        if not (w.isupper() and len(w) <= 4 and any(c.isalpha() for c in w) and w.lower() in UNIT_LIKE) and len(w) > 1
    }  # fmt: skip


UNIT_LIKE = frozenset("gwh mwh kwh wh gw mw kw km kg mph usd eur gbp cny sek nok".split())


def _refers_back(s: Sentence) -> bool:
    """Whether a sentence opens with a pronoun (its subject is named in the sentence before)."""
    toks = s.parsed.tokens
    return bool(toks) and toks[0].low in ("it", "its", "they", "their", "he", "she", "his", "her", "this", "the")


def conflicting_period(q: Question, s: Sentence) -> bool:
    """Whether the question names a month or year that the sentence contradicts ("October" vs "November")."""
    periods = question_periods(q)
    if not periods:
        return False
    other = sentence_periods(s)
    return bool(other) and not (periods & other)


def question_periods(q: Question) -> set[str]:
    """Months and years the question names ("in October", "in 2013")."""
    out = {t.low[:3] for t in q.tokens if is_month(t.low) and (t.cap or t.low != "may")}
    out |= {t.low for t in q.tokens if t.kind == "num" and len(t.low) == 4 and t.low[:2] in ("19", "20")}
    return out


def sentence_periods(s: Sentence) -> set[str]:
    """Months and years a sentence names."""
    out = {t.low[:3] for t in s.parsed.tokens if is_month(t.low) and (t.cap or t.low != "may")}
    out |= {t.low for t in s.parsed.tokens if t.kind == "num" and len(t.low) == 4 and t.low[:2] in ("19", "20")}
    return out


def split_changes(s: Sentence) -> list[Quantity]:
    """Quantities, with each "from X to Y" range read as its two ends (``bound`` "from" and "to")."""
    out = []
    toks = s.parsed.tokens
    for qt in s.parsed.quantities:
        if qt.is_range and qt.i > 0 and toks[qt.i - 1].low == "from" and qt.low is not None:
            words = qt.text.split(" to ")
            if len(words) == 2:
                low_end = qt.start + len(words[0])
                unit = qt.unit
                out.append(replace(qt, text=words[0], end=low_end, value=qt.low, low=None, high=None, bound="from",
                                   unit=unit))  # fmt: skip
                out.append(replace(qt, text=words[1], start=qt.end - len(words[1]), value=qt.high, low=None,
                                   high=None, bound="to"))  # fmt: skip
                continue
        out.append(qt)
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
def _verb_subject(q: Question, s: Sentence, where: list[int]) -> object | None:
    """The name the sentence makes the subject of the question's verb ("Changan, through X, invested")."""
    toks = s.parsed.tokens
    verbs = [i for i in where if "VERB" in toks[i].pos]
    if not verbs:
        return None
    v = verbs[0]
    return subject_of(toks, s.parsed.names, v + 1, clause_bounds(toks, v, v + 1))


def name_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """Names in a sentence that the question does not already give, scored for the asked type."""
    toks, where = s.parsed.tokens, anchors(q, s)
    asked = {key(w) for n in q.names for w in n.split()} | q.keys
    subject = _verb_subject(q, s, where) if q.subject_wh else None
    out = []
    for nm in s.parsed.names:
        words = {key(w) for w in nm.text.split()}
        if words & asked and not (words - asked) or _aliases(s, nm) & asked:
            continue  # the question's own name, or its long form ("Andean Fruit Exporters (AFE)")
        if any(is_month(w) for w in words):
            continue
        score = s.score + 0.3 * _proximity(nm.i, nm.j, where, q, s)
        before = toks[nm.i - 1].low if nm.i > 0 else ""
        if q.atype == "place":
            score += 0.15 if before in _PLACE_PREPS else -0.05
        if q.atype == "person" and before in _PLACE_PREPS - {"to", "from"}:
            score -= 0.1
        if q.atype in ("person", "name", "list"):
            score += 0.12  # a proper name is the natural answer to who/which-company questions
        if q.head and any(t.key == key(q.head) for t in toks[max(0, nm.i - 4) : nm.i]):
            score += 0.25  # "rivals such as X", "the automaker X"
        if q.subject_wh and before == "by" and nm.i >= 2 and toks[nm.i - 2].key in q.keys:
            score += 0.15  # "built by X" answers "Who built ...?"
        if q.atype == "person" and _person_like(toks, nm.i, nm.j):
            score += 0.12
        if subject is not None and getattr(subject, "i", -1) == nm.i:
            score += 0.25  # "Which company invested ...?" - the subject of "invested"
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
    for c in p.chunks:
        if q.atype in ("person", "name", "place") and "NUM" in tags[c.i : c.j]:
            continue
        i, j = _trim(toks, c.i, c.j)
        while i < j and (toks[i].key in q.keys and toks[i].key != head or toks[i].stop):
            i += 1  # "lobbying the Council" -> "the Council": the question's own words are not the answer
        while j > i and (toks[j - 1].key in q.keys and toks[j - 1].key != head or toks[j - 1].stop):
            j -= 1
        if j <= i:
            continue
        span = toks[i:j]
        content = [t for t in span if t.content and t.key != head]
        if not content or sum(t.key in q.keys for t in content) / len(content) > 0.5:
            continue
        score = s.score + 0.2 * _proximity(i, j, where, q, s) + 0.25 * _window(q, toks, i, j)
        score -= 0.03 * max(0, len(content) - 5)
        if any(t.key in names for t in span):
            score -= 0.4
        if c.kind == "VP" and j - i == 1 and q.atype != "action":
            score -= 0.15
        has_name = any(tags[k] == "PROPN" for k in range(i, j))
        last = span[-1].lemma
        if q.atype == "action":
            score += 0.15 if c.kind == "VP" else -0.1
        elif c.kind == "VP":
            score -= 0.08 if q.atype in ("entity", "other", "manner") else 0.3
        if q.atype == "person":
            score += 0.2 if has_name else (0.1 if last in PERSON_NOUNS else -0.2)
        elif q.atype == "name":
            score += 0.1 if has_name else -0.25
        elif q.atype == "place":
            before = toks[i - 1].low if i > 0 else ""
            score += 0.2 if has_name and before in _PLACE_PREPS else (0.1 if last in PLACE_NOUNS else -0.15)
        elif head and q.atype in ("entity", "other") and any(t.key == head for t in span):
            score += 0.15
        if q.subject_wh and i >= 2 and toks[i - 1].low == "by" and any(toks[k].key in q.keys for k in range(i - 3, i - 1)):
            score += 0.2  # "founded ... by settlers" answers "Who founded ...?"
        if c.j - c.i > 2 and any(toks[k].low == "of" for k in range(c.i, c.j)):
            score += 0.03  # "the rise of mobile devices" over "the rise"
        if q.atype == "person" and has_name and not _person_like(toks, i, j):
            score -= 0.08
        if q.subject_wh and j <= first_anchor:
            score += 0.05
        elif not q.subject_wh and i > last_anchor:
            score += 0.05
        text, start, end = _span(s, i, j)
        out.append(Candidate(text, start, end, s, score, "phrase"))
    return out


def head_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """The asked noun in the sentence with what names or qualifies it ("what game" -> "Game 7",
    "what type of trajectory" -> "upward")."""
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
            text, start, end = _span(s, i, j)
            out.append(Candidate(text, start, end, s, s.score + 0.35, "phrase"))
        a = i
        while a > 0 and i - a < 3 and toks[a - 1].kind == "word" and not toks[a - 1].stop and not toks[a - 1].verb:
            if toks[a - 1].key in q.keys:
                break
            a -= 1
        if a < i:
            text, start, end = _span(s, a, i)
            out.append(Candidate(text, start, end, s, s.score + 0.25, "phrase"))
    return out


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


def acronym_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """What an abbreviation stands for: "Long Name (ABC)" or "ABC (Long Name)"."""
    toks, out = s.parsed.tokens, []
    target = q.acronym.lower()
    for i, t in enumerate(toks):
        if t.low != target:
            continue
        if 0 < i < len(toks) - 1 and toks[i - 1].text == "(" and toks[i + 1].text == ")":
            a = _expansion_start(toks, i - 1, len([c for c in q.acronym if c.isalpha()]))
            if a is not None:
                text, start, end = _span(s, a, i - 1)
                out.append(Candidate(text, start, end, s, s.score + 0.6, "name"))
        if i + 2 < len(toks) and toks[i + 1].text == "(":
            nm = next((n for n in s.parsed.names if n.i == i + 2), None)
            if nm is not None:
                text, start, end = _span(s, nm.i, nm.j)
                out.append(Candidate(text, start, end, s, s.score + 0.6, "name"))
    return out


def _expansion_start(toks: list[Token], end: int, letters: int) -> int | None:
    """Start of the words before ``end`` whose capitals spell an abbreviation ("Base Realignment and Closure")."""
    k, caps = end, 0
    while k > 0 and caps < letters:
        t = toks[k - 1]
        if t.cap:
            caps += 1
        elif t.low not in ("and", "of", "for", "the", "&", "de", "on", "in"):
            break
        k -= 1
    return k if caps == letters or (caps >= 2 and caps >= letters - 1) else None


def candidates(q: Question, sentences: list[Sentence]) -> list[Candidate]:
    """All candidates of the asked type in some sentences, best first."""
    out: list[Candidate] = []
    if q.acronym:
        out = [c for s in sentences for c in acronym_candidates(q, s)]
        if out:
            return sorted(out, key=lambda c: -c.score)
    for s in sentences:
        if conflicting_period(q, s):
            continue  # "in October" against a sentence about November
        if q.numeric or q.atype in ("date", "time"):
            out.extend(quantity_candidates(q, s))
        elif q.atype in ("entity", "other"):
            out.extend(quantity_candidates(q, s))  # "What was X's circulation in 2004?" asks for a number
        if q.atype in ("person", "place", "entity", "list", "name"):
            out.extend(name_candidates(q, s))
        if q.atype in ("entity", "action", "manner", "other", "person", "place", "reason", "name"):
            out.extend(phrase_candidates(q, s))
            out.extend(run_candidates(q, s))
        if q.atype == "reason":
            out.extend(reason_candidates(q, s))
        if q.head and q.atype in ("entity", "other", "person", "place"):
            out.extend(head_candidates(q, s))
        if q.atype in ("date", "time", "duration"):
            out.extend(time_word_candidates(q, s))
    out.sort(key=lambda c: -c.score)
    return out


_TIME_WORDS = re.compile(
    r"\b(?:(?:on|last|next|this|early|late)\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b"
    r"|\b(?:yesterday|today|tomorrow|tonight|recently)\b"
    r"|\b(?:in|during|since|until|by)\s+(?:early\s+|late\s+|mid-?)?(?:january|february|march|april|june|july|august|"
    r"september|october|november|december)\b"
    r"|\b(?:in\s+)?the\s+(?:coming|past|last|next|previous|following)\s+(?:few\s+)?(?:days?|weeks?|months?|years?|decades?)\b"
    r"|\b(?:last|next|this|that)\s+(?:week|month|year|season|spring|summer|fall|autumn|winter|night|morning|evening)\b"
    r"|\b(?:the\s+)?(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth)\s+century\b|\b\d{1,2}(?:st|nd|rd|th)-century\b"
    r"|\b(?:\w+-(?:day|week|month|year|hour|minute))\b",
    re.IGNORECASE,
)


def time_word_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """Times without a date written in numbers: "on Thursday", "in the coming weeks", "17th-century"."""
    where, out = anchors(q, s), []
    toks = s.parsed.tokens
    for m in _TIME_WORDS.finditer(s.record.text):
        start, end = s.record.start + m.start(), s.record.start + m.end()
        i = next((k for k, t in enumerate(toks) if t.start >= start), 0)
        j = next((k for k, t in enumerate(toks) if t.end >= end), i) + 1
        score = s.score + 0.25 * _proximity(i, j, where, q, s) - 0.05
        out.append(Candidate(m.group(0), start, end, s, score, "quantity"))
    return out

