"""Extracting quantities: numbers, dates and times of the asked kind, for the asked subject and period.

A quantity answers only when its sentence is about what the question names (a number of another
subject, or of another month, is dropped or marked down), and a "from X to Y" change is read as its
two ends so that "now" and "before" pick the right one.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.engine.evidence import Sentence
from bot.engine.question import Question
from bot.engine.spans import Candidate, aliases, anchors, proximity
from bot.engine.vocabulary import NUMERIC_NOUNS
from bot.facts import clause_bounds, subject_of
from bot.language.quantities import CURRENCY_WORDS, NUMBER_WORDS, Quantity, find_quantities
from bot.language.tokens import MONTHS, Token, is_month, key

_KIND_FOR = {
    "count": ("count",), "amount": ("count", "money", "percent"), "money": ("money",), "percent": ("percent",),
    "duration": ("duration",), "age": ("count",), "distance": ("count",), "size": ("count",),
    "frequency": ("count",), "speed": ("count",), "date": ("date", "year"), "time": ("time", "date"),
}  # fmt: skip


def quantity_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """Quantities of the asked kind in a sentence, scored by fit and closeness to the question's words."""
    kinds = _KIND_FOR.get(q.atype, ("count", "money", "percent", "duration"))
    toks, where = s.parsed.tokens, anchors(q, s)
    out = []
    question_numbers = {t.low for t in q.tokens if t.kind == "num"}
    question_values = {v for x in find_quantities(q.text) for v in x.values}
    numeric_ask = q.numeric or bool({t.lemma for t in q.tokens} & NUMERIC_NOUNS)
    unnamed = _unnamed(q, s)
    for qt in split_changes(s):
        if qt.kind not in kinds or any(t.low in question_numbers for t in qt.tokens if t.kind == "num"):
            continue
        if q.atype == "age" and qt.unit is not None and key(qt.unit) not in _AGE_UNITS:
            continue  # "three boats" is no age
        if qt.value is not None and qt.value in question_values:
            continue  # "a family of four": the question's own number is not the answer
        fit = _subject_fit(q, s, qt)
        if fit <= -0.5:
            continue  # the sentence gives this number for someone else
        score = s.score + 0.3 * proximity(qt.i, qt.j, where, q, s) + fit - (UNNAMED if unnamed else 0.0)
        if not q.numeric:
            score += 0.15 if numeric_ask else -0.25
        if q.head and qt.unit and (qt.unit == q.head or qt.unit.rstrip("s") == q.head.rstrip("s")):
            score += 0.3
        elif q.head and qt.unit and q.atype == "count":
            score -= 0.1
        if qt.kind == "money" and qt.i >= 2 and toks[qt.i - 1].text == "(" and toks[qt.i - 2].key in q.name_keys:
            score += 0.3  # "the Brewmaster K2 ($40)": the price of the name it follows
        if q.head and _measures(toks, qt.j, key(q.head)):
            score += 0.2  # "1 pound of mung sprouts" for "how much mung sprouts"
        if q.atype == "count" and qt.kind == "count" and qt.unit is None:
            score -= 0.05
        if q.head and qt.unit and q.numeric and key(qt.unit) != key(q.head) and q.atype == "count":
            score -= 0.25  # "how many carries" is not answered by "133 yards"
        if (qt.bound == "to" and NOW.search(q.text)) or (qt.bound == "from" and BEFORE.search(q.text)):
            score += 0.1
        elif _earlier_value(s, qt):
            score += EARLIER if BEFORE.search(q.text) else -EARLIER  # "14 tonnes, up from 11 tonnes": 11 was before
        if _restated(s, qt) and not any(t.low in CURRENCY_WORDS for t in q.tokens):
            score -= 0.1  # "5,000 pesos (about 280 dollars)": the figure as written comes first
        text, start, end = qt.text, qt.start, qt.end
        if qt.kind == "count":
            tail = _RATIO_TAIL.match(s.record.text, end - s.record.start)
            if tail and _is_number(tail.group("n")):
                end = s.record.start + tail.end()  # "9 of her last 12", "seven out of every 10"
                text = s.record.text[start - s.record.start : end - s.record.start]
                counted = s.record.text[tail.end() :].split()[:1]
                if q.head and counted and key(counted[0].strip(".,;:")) == key(q.head) and qt.unit is None:
                    score += 0.3  # "seven out of every 10 bookings" counts bookings
            elif _RATIO_HEAD.search(s.record.text[max(0, start - s.record.start - 40) : start - s.record.start]):
                score -= 0.3  # the 10 of "seven out of every 10" is the base, not the count
        out.append(Candidate(text, start, end, s, score, "quantity", qt))
    return out


_RATIO_TAIL = re.compile(
    r"\s+(?:out\s+)?of\s+(?:every\s+|the\s+|his\s+|her\s+|their\s+|its\s+|our\s+)?"
    r"(?:last\s+|first\s+|next\s+|past\s+|previous\s+|final\s+)?(?P<n>[\w,]+)\b"
)
_RATIO_HEAD = re.compile(
    r"\b(?:\d[\d,]*|[a-z]+)\s+(?:out\s+)?of\s+(?:every\s+|the\s+|his\s+|her\s+|their\s+|its\s+|our\s+)?"
    r"(?:last\s+|first\s+|next\s+|past\s+|previous\s+|final\s+)?$",
    re.IGNORECASE,
)


EARLIER = 0.1
"""Shift of a figure a sentence gives as the earlier value of a change ("up from 11.8 tonnes")."""
_EARLIER_BEFORE = re.compile(r"\b(?:up|down|rising|falling|rose|fell|higher|lower|compared)\s+(?:from|with)$")


def _earlier_value(s: Sentence, qt: Quantity) -> bool:
    """Whether a quantity is the earlier value of a change the sentence states ("..., up from 11.8 tonnes")."""
    before = " ".join(t.low for t in s.parsed.tokens[max(0, qt.i - 3) : qt.i])
    return bool(_EARLIER_BEFORE.search(before))


def _measures(toks: list[Token], j: int, head: str) -> bool:
    """Whether "of" and the asked noun follow a quantity ending at token ``j`` ("1 pound of mung sprouts")."""
    if j >= len(toks) or toks[j].low != "of":
        return False
    return any(t.key == head for t in toks[j + 1 : j + 5])


def _is_number(word: str) -> bool:
    w = word.lower().replace(",", "")
    return w.isdigit() or w in NUMBER_WORDS


_AGE_UNITS = frozenset(key(w) for w in ("year", "years", "year-old", "month", "months", "week", "weeks", "day", "days"))


def _restated(s: Sentence, qt: Quantity) -> bool:
    """Whether a quantity restates the one right before it in parentheses ("(about 280 dollars)")."""
    toks = s.parsed.tokens
    k = qt.i - 1
    while k >= 0 and toks[k].low in ("about", "around", "approximately", "roughly", "some", "nearly", "~"):
        k -= 1
    return k >= 1 and toks[k].text == "(" and any(o.j == k and o.kind == qt.kind for o in s.parsed.quantities)


NOW = re.compile(
    r"\b(now|currently|today|at present|these days|latest|after|new|last (?:quarter|month|year|week))\b", re.I
)
BEFORE = re.compile(r"\b(before|previously|originally|used to|earlier|initially|at first|prior)\b", re.I)
PERIOD_WORDS = frozenset(MONTHS) | {"first", "second", "third", "fourth", "q1", "q2", "q3", "q4"}


UNNAMED = 0.35
"""Penalty of a number from a sentence that never names what the question asks about."""


def _unnamed(q: Question, s: Sentence) -> bool:
    """Whether a sentence never names what the question asks about, nor takes it from the sentence before.

    A sentence opening on "Its ..." is given the benefit of the doubt only when the sentence before was not
    read; when it was, ``carried`` already says whether that one named the asked subject.
    """
    entities = {key(w) for w in _entity_names(q)} if not q.soft_names else set()
    if not entities or _named_in(entities, s.parsed.keys | s.carried):
        return False
    return not (_refers_back(s) and not s.before_read)


def _entity_names(q: Question) -> set[str]:
    """Lower-case words of the question's names that are not units ("GWh") or months."""
    return {
        w.lower() for n in q.names for w in n.split()
        if not (w.isupper() and len(w) <= 4 and any(c.isalpha() for c in w) and w.lower() in UNIT_LIKE) and len(w) > 1
    }  # fmt: skip


def _named_in(entities: set[str], keys: set[str]) -> bool:
    """Whether a sentence names one of the question's names, a demonym matching its place ("Kenyan", "Kenya")."""
    if entities & keys:
        return True
    return any(len(k) >= 4 and e.startswith(k) and len(e) - len(k) <= 3 for e in entities for k in keys)


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


_PLACED = frozenset({"from", "in", "at", "near", "to", "into", "outside", "inside", "across"})


def _subject_names(q: Question) -> list[str]:
    """The question's names that may be its subject: not a place it measures from ("How far from X")."""
    out = []
    for n in q.names:
        at = q.text.find(n)
        before = [w.lower() for w in q.text[:at].split()[-2:]] if at > 0 else []
        if before in (["how", "many"], ["how", "much"]):
            continue  # "How much ore did X ship?": what is counted, not who did it
        if not (before and before[-1] in _PLACED and before != ["according", "to"]):
            out.append(n)
    return out


def _subject_fit(q: Question, s: Sentence, qt: Quantity) -> float:
    """Bonus when the quantity's clause subject is a name the question asks about, penalty for another name."""
    subjects = _subject_names(q)
    if not subjects:
        return 0.0
    p = s.parsed
    subject = subject_of(p.tokens, p.names, qt.i, clause_bounds(p.tokens, qt.i, qt.j))
    if subject is None:
        return 0.0
    asked = {w.lower() for n in subjects for w in n.split()}
    said = {w.lower() for w in subject.text.split()}
    other_names = aliases(s, subject)
    if _named_in(asked, said | other_names):
        return 0.15
    return -0.1 if q.soft_names else -0.5  # a name filled in from an earlier turn is only a guess


_TIME_WORDS = re.compile(
    r"\b(?:(?:on|last|next|this|early|late)\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b"
    r"|\b(?:yesterday|today|tomorrow|tonight|recently)\b"
    r"|\b(?:in|during|since|until|by)\s+(?:early\s+|late\s+|mid-?)?(?:january|february|march|april|june|july|august|"
    r"september|october|november|december)\b"
    r"|\b(?:in\s+)?the\s+(?:coming|past|last|next|previous|following)\s+(?:few\s+)?(?:days?|weeks?|months?|years?|decades?)\b"
    r"|\b(?:last|next|this|that)\s+(?:week|month|year|season|spring|summer|fall|autumn|winter|night|morning|evening)\b"
    r"|\b(?:the\s+)?(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth)\s+century\b|\b\d{1,2}(?:st|nd|rd|th)-century\b"
    r"|\b(?:\w+-(?:day|week|month|year|hour|minute))\b"
    r"|\b(?:early|late)\s+in\s+the\s+(?:day|morning|afternoon|evening|night|week|month|year)\b"
    r"|\b(?:in\s+the|at|that|this|one)\s+(?:morning|afternoon|evening|night|dusk|dawn|noon|midnight|sunset|sunrise)\b"
    r"|\b\d{1,2}(?:[:.]\d{2})?\s?(?:[ap]\.m\.|[ap]m\b|[AP]\.M\.?|[AP]M\b)",
    re.IGNORECASE,
)


_CLOCK = re.compile(r"\d\s?[ap]\.?m\b|\d[ap]\.m\.|\d:\d\d", re.IGNORECASE)

_VAGUE_AMOUNT = re.compile(
    r"\b(?:(?:tens|hundreds) of )?(?:thousands|millions|billions|trillions) of (?P<unit>[a-z]+)\b", re.IGNORECASE
)


def vague_amount_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """Amounts given without a figure: "billions of yuan", "millions of dollars" (of a currency only)."""
    where, out = anchors(q, s), []
    toks = s.parsed.tokens
    for m in _VAGUE_AMOUNT.finditer(s.record.text):
        if m.group("unit").lower() not in CURRENCY_WORDS:
            continue
        start, end = s.record.start + m.start(), s.record.start + m.end()
        i = next((k for k, t in enumerate(toks) if t.start >= start), 0)
        j = next((k for k, t in enumerate(toks) if t.end >= end), i) + 1
        score = s.score + 0.3 * proximity(i, j, where, q, s) - 0.05
        out.append(Candidate(m.group(0), start, end, s, score, "quantity"))
    return out


_STRETCH = re.compile(
    r"\b(?:coming|past|last|next|previous|following)\s+(?:few\s+)?\w+s\b|-(?:day|week|month|year|hour|minute)\b"
)
_DEICTIC = re.compile(
    r"\b(?:yesterday|today|tomorrow|tonight|recently|this|last|next|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday)\b"
)


def _has_written_date(s: Sentence) -> bool:
    return any(qt.kind in ("date", "year") for qt in s.parsed.quantities)


_TIME_NOUN = re.compile(
    r"(?:(?:early|late|mid-?|the|this|last|next)\s+)?(?:spring|summer|autumn|fall|winter|days?|weeks?|months?|years?|"
    r"morning|evening|night|weekend|january|february|march|april|may|june|july|august|september|october|"
    r"november|december)",
    re.IGNORECASE,
)


def is_time_phrase(text: str) -> bool:
    """Whether a phrase is only a time expression ("Friday", "last week", "summer", "in the coming months")."""
    text = text.strip()
    return bool(_TIME_WORDS.fullmatch(text) or _TIME_NOUN.fullmatch(text) or _DAY_PART.fullmatch(text))


_DAY_PART = re.compile(
    r"(?:on\s+|by\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
    r"(?:\s+(?:morning|afternoon|evening|night))?",
    re.IGNORECASE,
)


def time_word_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """Times without a date written in numbers: "on Thursday", "in the coming weeks", "17th-century"."""
    where, out = anchors(q, s), []
    toks = s.parsed.tokens
    unnamed = _unnamed(q, s)
    for m in _TIME_WORDS.finditer(s.record.text):
        span_text = m.group(0).lower()
        stretch = bool(_STRETCH.search(span_text))
        if q.atype == "duration" and not stretch:
            continue  # "today" is a point in time, not "how long"
        if q.head in ("year", "decade", "century") and not re.search(r"centur|decade|\d{4}", span_text):
            continue  # "on Wednesday" is no year
        start, end = s.record.start + m.start(), s.record.start + m.end()
        tail = _YEAR_TAIL.match(s.record.text, m.end()) if is_month(span_text.split()[-1]) else None
        if tail:
            end += tail.end() - m.end()  # "since March/April 1987", not "since March"
        i = next((k for k, t in enumerate(toks) if t.start >= start), 0)
        j = next((k for k, t in enumerate(toks) if t.end >= end), i) + 1
        score = s.score + 0.25 * proximity(i, j, where, q, s) - 0.1 - (UNNAMED if unnamed else 0.0)
        if q.atype == "date" and _DEICTIC.search(span_text):
            score -= 0.2 if _has_written_date(s) else 0.1  # "this week" says less than a written date
        if q.atype == "date" and _CLOCK.search(span_text) and _has_written_date(s):
            score -= 0.2  # "9:15 p.m." answers "at what time", a written date answers "when"
        text = s.record.text[start - s.record.start : end - s.record.start]
        out.append(Candidate(text, start, end, s, score + (0.1 if tail else 0.0), "quantity"))
    return out


_YEAR_TAIL = re.compile(
    r"(?:\s*(?:/|–|-|\bto\b|\band\b|\bor\b)\s*(?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December))?,?\s+\d{4}\b"
)
