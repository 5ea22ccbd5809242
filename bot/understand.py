"""Question understanding: what kind of question, about whom, measuring what, when.

Works from general English cues plus a vocabulary read from the indexed
documents themselves (the names that occur in them, the words they use), so it
adapts to any corpus: nothing here knows the seed documents. It also resolves
follow-ups ("And what stake did that buy?") by carrying the subject or measure
over from the previous turn.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from bot.facts import currency_code
from bot.models import Chunk, Fact
from bot.retrieve import STOPWORDS, stem

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
]
_PERIOD = re.compile(
    r"\b(?:in|during|for|over|of|by|since|through)\s+((?:the\s+)?(?:(?:first|second|third|fourth|last|next|"
    r"past)\s+)?(?:quarter|half|year|month|week)(?:\s+of\s+\d{4})?|(?:" + "|".join(MONTHS[:12]) + r")(?:\s+\d{4})?|"
    r"(?:q[1-4]|h[12])(?:\s+\d{4})?|\d{4}|fy\s?\d{2,4})\b",
    re.IGNORECASE,
)
_EARLIER = re.compile(
    r"\b(a (?:year|quarter|month|week) (?:earlier|ago|before)|the (?:previous|prior) (?:year|quarter|month|week))\b",
    re.IGNORECASE,
)
_QUESTION_WORDS = [
    "what",
    "whats",
    "what's",
    "who",
    "whom",
    "whose",
    "which",
    "when",
    "where",
    "why",
    "how",
    "is",
    "are",
    "was",
    "were",
    "do",
    "does",
    "did",
    "can",
    "could",
    "should",
    "would",
    "will",
    "please",
    "tell",
    "me",
    "give",
    "show",
    "say",
    "said",
    "says",
    "mention",
    "mentioned",
    "mentions",
    "document",
    "documents",
    "article",
    "text",
    "report",
    "according",
    "source",
    "sources",
    "state",
    "stated",
    "states",
]
_GENERIC_TERMS = frozenset(
    stem(w)
    for w in [
        *_QUESTION_WORDS,
        "many",
        "much",
        "number",
        "amount",
        "figure",
        "value",
        "total",
        "name",
        "named",
        "called",
        "call",
        "kind",
        "type",
        "role",
        "play",
        "plays",
        "mean",
        "means",
        "meant",
        "thing",
        "things",
        "get",
        "got",
        "getting",
        "make",
        "makes",
        "happen",
        "happened",
        "use",
        "used",
        "up",
        "out",
        "off",
        "down",
        "exactly",
        "precisely",
        "roughly",
        "approximately",
        "about",
        "around",
        "currently",
        "now",
        "today",
        "still",
        "really",
        "actually",
    ]
)
_ANAPHORA = re.compile(
    r"\b(that|this|those|these|it|its|it's|they|them|their|theirs|he|she|his|her|the same|the company|the firm|"
    r"the brand|the deal|the investment|the stake|the price)\b|^\s*(and|also|what about|how about|and what|so)\b",
    re.IGNORECASE,
)
_CONVERSION = re.compile(
    r"\b(?:in|into|to|as)\s+((?:u\.?s\.?\s*|american\s+|us\s+)?[a-z$€£¥]+)|\bconvert", re.IGNORECASE
)
_DERIVED = re.compile(
    r"\b(valuation|valued?|worth|impl(?:y|ies|ied)|combined|together|in total|total|altogether|sum|add(?:ed)? up|"
    r"grow(?:th|n)?|grew|increase[ds]?|rise|rose|gain(?:ed)?|difference|differ|how many more|how much more|more than|"
    r"how many new|added|wide|width|spread|midpoint|mid-point|middle|per percentage point|each percentage point|"
    r"other than|besides|apart from|remaining|the rest|fall|fell|drop|dropped|decline|declined|decrease|decreased|"
    r"fewer than|less than|ratio|times|per cent change|percent change|percentage change|change)\b",
    re.IGNORECASE,
)
_QUANTITY = re.compile(
    r"\b(how many|how much|how large|how big|how high|(?:what|what's|whats)(?: is| was| were| are)? the (?:number|"
    r"amount|price|prices|share|stake|value|cost|size|count|percentage|price range|price bracket)|number of|"
    r"amount of|what (?:stake|share|percentage|percent|portion|price|prices|price range|cost|amount|figure|sum)|"
    r"price range|price bracket|priced|stake|percent|percentage|ownership|revenue|capacity)\b",
    re.IGNORECASE,
)
# Verbs that ask for a figure only in a what/which/how-much question ("What did X pay?", not "How will X be sold?")
_QUANTITY_VERBS = re.compile(
    r"^\s*(?:what|which|how much|how many)\b.*\b(cost|costs|pay|paid|spend|spent|deliver(?:ed|ies|y)?|sold|sales|"
    r"share|price|prices|hold|holds|own|owns|control|controls)\b",
    re.IGNORECASE,
)
_ENTITY = re.compile(
    r"^\s*(?:who|whom|whose|which\s+\w+|what\s+(?:company|companies|brand|brands|firm|firms|automaker|automakers|"
    r"partner|partners|subsidiary|organization|organisation|group|entity|maker|manufacturer|supplier)\b)",
    re.IGNORECASE,
)
_ORDINALS = ["first", "second", "third", "fourth", "last"]
_ORDINAL = re.compile(r"\bthe (first|second|third|fourth|last)(?: one| of them| company| brand)?\b", re.I)
_NAMED = re.compile(r"\b(called|named|name of|known as)\b", re.I)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_CAPWORD = re.compile(r"[A-Z][\w&'’.-]*[\w]|[A-Z]")
_NAME = re.compile(r"[A-Z][\w&]*(?:-[A-Z][\w&]*)*(?:\s+[A-Z][\w&]*(?:-[A-Z][\w&]*)*)*")


@dataclass
class Vocabulary:
    """Names and words of the indexed documents."""

    names: dict[str, str] = field(default_factory=dict)  # lower-case name or alias -> canonical name
    words: set[str] = field(default_factory=set)  # lower-case surface words
    stems: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, chunks: Iterable[Chunk], facts: Iterable[Fact] = ()) -> Vocabulary:
        """Collect names (capitalised phrases, acronyms, fact subjects) and words from the documents."""
        vocab = cls()
        mid_caps: set[str] = set()
        starts: set[str] = set()
        texts = [c.text for c in chunks]
        for text in texts:
            vocab.words.update(w.lower() for w in re.findall(r"[^\W_]+", text))
            for sent in re.split(r"(?<=[.!?])\s+|\n+", text):
                for m in _NAME.finditer(sent):
                    name = _clean_name(m.group(0))
                    if not name:
                        continue
                    (starts if m.start() == len(sent) - len(sent.lstrip()) else mid_caps).add(name)
                for long, short in re.findall(r"((?:[A-Z][\w-]*\s+){1,6}[A-Z][\w-]*)\s*\(([A-Z][A-Za-z]{1,9})\)", sent):
                    vocab.names[short.lower()] = short
                    vocab.names[long.strip().lower()] = short
        for name in mid_caps | {s for s in starts if s in mid_caps or any(s in m.split() for m in mid_caps)}:
            if name.lower() not in MONTHS:
                vocab.names.setdefault(name.lower(), name)
                for part in name.split():  # a part of a longer name counts only where it also stands alone
                    if part in mid_caps and part.lower() not in MONTHS and part.lower() not in STOPWORDS:
                        vocab.names.setdefault(part.lower(), part)
        for f in facts:
            for name in [f.subject, f.object, *f.subject_aliases]:
                if name:
                    vocab.names.setdefault(name.lower(), name)
        vocab.stems = {stem(w) for w in vocab.words}
        return vocab


def _clean_name(raw: str) -> str:
    name = re.sub(r"[’']s$", "", raw.strip(" .-’'")).strip()
    if len(name) < 2:
        return ""
    words = name.split()
    while words and words[0].lower() in STOPWORDS | set(_QUESTION_WORDS):
        words = words[1:]
    return " ".join(words)


@dataclass
class Intent:
    """What a question asks."""

    text: str
    kind: str  # quantity | derived | conversion | entity | explanation
    entities: list[str] = field(default_factory=list)  # canonical names found in the documents
    unknown: list[str] = field(default_factory=list)  # names the documents never mention
    terms: list[str] = field(default_factory=list)  # content words (lower case), minus names and generic words
    period: str | None = None
    numbers: list[str] = field(default_factory=list)
    target_currency: str | None = None
    anaphoric: bool = False

    @property
    def measure(self) -> str:
        """The content words as one phrase, for the numeric tools."""
        return " ".join(self.terms)

    @property
    def stems(self) -> set[str]:
        """Stemmed content words."""
        return {stem(t) for t in self.terms}


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole words of the embedding model's WordPiece vocabulary (~20k common English words)."""
    from bot.embed import model_path

    try:
        lines = (model_path() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except (OSError, Exception):  # no model package: no dictionary, only the documents' words
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and w.islower())


def correct_spelling(question: str, vocab: Vocabulary) -> str:
    """Replace words that are neither English words nor in the documents by a close document word.

    "how mny cars did acme delivr in novembr" -> "how many cars did acme delivered in november".
    """
    known = vocab.words | set(_QUESTION_WORDS) | set(MONTHS) | STOPWORDS | {"many", "much"}
    english = english_words()

    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        low = w.lower()
        if low in known or low in english or len(low) < 3 or any(ch.isdigit() for ch in low):
            return w
        pool = [k for k in known if abs(len(k) - len(low)) <= 2 and k[:1] == low[:1]]
        close = difflib.get_close_matches(low, pool, n=1, cutoff=0.84 if len(low) < 5 else 0.8)
        return close[0] if close else w

    return re.sub(r"[^\W\d_]+", fix, question)


def analyse(question: str, vocab: Vocabulary) -> Intent:
    """Classify a question and pick out its names, content words, period and numbers.

    Args:
        question: A cleaned question.
        vocab: The documents' vocabulary.

    Returns:
        The question's intent.
    """
    q = question.strip()
    entities, spans = _find_names(q, vocab)
    masked = q
    for s, e in sorted(spans, reverse=True):
        masked = masked[:s] + " " * (e - s) + masked[e:]
    q_fixed = correct_spelling(masked, vocab)
    unknown = _unknown_names(q_fixed, vocab)
    period_m = _PERIOD.search(q_fixed) or _EARLIER.search(q_fixed)
    period = period_m.group(1) if period_m else None
    if period and re.match(r"(?:the\s+)?(?:last|latest|past|this|current|recent|most recent)\b", period, re.I):
        period = None  # "last quarter": the latest the documents give, whatever they call it
    conv = _CONVERSION.search(q_fixed)
    target = None
    how_many = re.search(r"\bhow (?:many|much) ([A-Za-z.$€£¥]+)", q_fixed, re.I)
    two_currencies = len({currency_code(w) for w in re.findall(r"[A-Za-z$€£¥]+", q_fixed) if currency_code(w)}) > 1
    if how_many and currency_code(how_many.group(1)) and two_currencies:  # "how many yuan make one dollar"
        target = currency_code(how_many.group(1))
    elif conv:
        target = currency_code(conv.group(1)) if conv.group(1) else _last_currency(q_fixed[conv.end() :])
        if conv.group(1) and not target:
            target = _last_currency(conv.group(0))
    body = q_fixed if not period_m else q_fixed.replace(period_m.group(0), " ")
    terms: list[str] = []
    for m in re.finditer(r"[^\W_]+", re.sub(r"[’']s\b", "", body.lower())):
        w = m.group(0)
        if (
            len(w) < 2
            or w in STOPWORDS
            or stem(w) in _GENERIC_TERMS
            or w.isdigit()
            or currency_code(w)
            or w in {"us", "u"}
        ):
            continue
        if w not in terms:
            terms.append(w)
    unknown = [u for u in unknown if not currency_code(u) and u.lower() not in {"us", "u"}]
    text_for_kind = q[:1] + q_fixed[1:] if q_fixed else q
    if target and not re.search(r"\b(wide|width|spread|span|gap|midpoint|mid-point|middle)\b", q, re.I):
        kind = "conversion"
    elif _DERIVED.search(text_for_kind) and (
        _QUANTITY.search(text_for_kind)
        or re.search(
            r"\b(valu|worth|combined|total|grow|grew|increase|how many new|added|wide|width|midpoint)", q, re.I
        )
    ):
        kind = "derived"
    elif (_ENTITY.search(text_for_kind) or _NAMED.search(text_for_kind)) and not re.search(
        r"^\s*which\s+(?:year|month|quarter|period)", q, re.I
    ):
        asks_figure = _QUANTITY.search(text_for_kind) or _QUANTITY_VERBS.search(text_for_kind)
        kind = "entity" if not asks_figure or _NUMBER.search(q) else "quantity"
    elif _QUANTITY.search(text_for_kind) or _QUANTITY_VERBS.search(text_for_kind):
        kind = "quantity"
    else:
        kind = "explanation"
    return Intent(
        text=q,
        kind=kind,
        entities=entities,
        unknown=unknown,
        terms=terms,
        period=period,
        numbers=_NUMBER.findall(q),
        target_currency=target,
        anaphoric=bool(_ANAPHORA.search(q)),
    )


def _last_currency(text: str) -> str | None:
    for w in reversed(re.findall(r"[\w$€£¥]+", text)):
        if currency_code(w):
            return currency_code(w)
    return None


def _find_names(q: str, vocab: Vocabulary) -> tuple[list[str], list[tuple[int, int]]]:
    """Names of the documents in the question, in order of appearance, and their spans."""
    hits: list[tuple[int, int, str]] = []
    low = q.lower()
    english = english_words()
    shouting = q.isupper()
    for alias in sorted(vocab.names, key=len, reverse=True):
        for m in re.finditer(r"(?<![\w])" + re.escape(alias) + r"(?:[’']s)?(?![\w])", low):
            if any(s < m.end() and m.start() < e for s, e, _ in hits):
                continue
            written = q[m.start() : m.end()]
            if " " not in alias and alias in english and written.islower() and not shouting and q != low:
                continue  # "grid storage" in a cased question is the common noun, not the name "Grid"
            hits.append((m.start(), m.end(), vocab.names[alias]))
    singles = [a for a in vocab.names if " " not in a and len(a) >= 4]
    for m in re.finditer(r"[^\W\d_]{4,}", q):  # typos: a word close to a single-word name
        if any(s <= m.start() < e for s, e, _ in hits) or m.group(0).lower() in vocab.words:
            continue
        close = difflib.get_close_matches(m.group(0).lower(), singles, n=1, cutoff=0.8)
        if close:
            hits.append((m.start(), m.end(), vocab.names[close[0]]))
    hits.sort()
    return list(dict.fromkeys(name for _, _, name in hits)), [(s, e) for s, e, _ in hits]


def _unknown_names(masked: str, vocab: Vocabulary) -> list[str]:
    out = []
    words = list(re.finditer(r"[^\W_][\w&-]*", masked))
    shouting = sum(ch.isupper() for ch in masked) > 0.6 * max(1, sum(ch.isalpha() for ch in masked))
    for i, m in enumerate(words):
        w = m.group(0)
        after_stop = re.search(r"[.!?:;]\s*$", masked[: m.start()]) is not None
        has_digit = any(ch.isdigit() for ch in w) and any(ch.isalpha() for ch in w)
        capital = (
            not shouting
            and w[0].isupper()
            and i > 0
            and not after_stop
            and len(w) > 2
            and w.lower() not in _QUESTION_WORDS
            and w.lower() not in MONTHS
        )
        if (capital or has_digit) and w.lower() not in vocab.words and w.lower() not in STOPWORDS and w != "I":
            out.append(w)
    return out


def resolve_followup(intent: Intent, previous: Intent | None, previous_subjects: list[str]) -> Intent:
    """Fill what a follow-up leaves out from the previous turn.

    A question with no name of its own takes the previous answer's subjects (or
    the previous question's names); a question with a name but no content words
    ("What about X?") takes the previous question's content words and kind.

    Args:
        intent: The current question's intent.
        previous: The previous question's intent (None on the first turn).
        previous_subjects: Names the previous answer was about.

    Returns:
        The resolved intent (unchanged when there is nothing to resolve).
    """
    if previous is None:
        return intent
    resolved = intent
    if (
        not intent.entities
        and not intent.unknown
        and (intent.anaphoric or len(intent.terms) <= 3 or _ORDINAL.search(intent.text))
    ):
        subjects = list(previous_subjects or previous.entities)
        pick = _ORDINAL.search(intent.text)
        if pick and len(subjects) > 1:
            index = _ORDINALS.index(pick.group(1).lower())
            subjects = [subjects[-1 if index == len(_ORDINALS) - 1 else min(index, len(subjects) - 1)]]
        if subjects:
            terms = [t for t in resolved.terms if t not in _ORDINALS and t != "one"]
            resolved = replace(resolved, entities=subjects, terms=terms)
    if intent.entities and not intent.terms and previous.terms:
        resolved = replace(
            resolved, terms=list(previous.terms), kind=previous.kind if intent.kind == "explanation" else intent.kind
        )
    if resolved.period is None and previous.period and resolved.entities == previous.entities:
        resolved = replace(resolved, period=previous.period)
    if resolved is not intent:
        extra = [e for e in resolved.entities if e not in intent.entities]
        text = intent.text
        if extra:
            text = f"{text} ({', '.join(extra)})"
        if resolved.terms != intent.terms:
            text = f"{text} [{' '.join(resolved.terms)}]"
        resolved = replace(resolved, text=text)
    return resolved
