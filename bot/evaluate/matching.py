"""Matching answers against references: numbers with the writer's rounding, content words, regexes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.evaluate.questions import Question
from bot.hybrid import stem

REL_TOL = 0.01
"""Relative tolerance when comparing numbers (on top of the rounding the writer used)."""
TEXT_RECALL = 0.5
"""Fraction of a reference's content words an answer must contain (references without numbers)."""


_SCALES = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "mln": 1e6,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12,
}  # fmt: skip
_WORD_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}  # fmt: skip
_NUM_RE = re.compile(
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])"
    r"(?:(?P<attached>k|m|mn|mln|b|bn|tn)\b|\s*-?\s*(?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s*-?\s*(?:%|per\s?cent\b|percentage points?\b))?",
    re.IGNORECASE,
)
_WORD_NUM_RE = re.compile(
    r"\b(?P<word>" + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True)) + r")\b"
    r"(?:\s*-?\s*(?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s*-?\s*(?:%|per\s?cent\b))?",
    re.IGNORECASE,
)
_MARKER_RE = re.compile(r"\[\d+(?:\s*[,;–-]\s*\d+)*\]")


@dataclass(frozen=True)
class Number:
    """A number found in text, with the rounding its writer implied."""

    value: float
    text: str
    allowance: float = 0.0
    """Half a unit of the last significant digit when the number has 2+ significant digits, else 0."""
    percent: bool = False


def _allowance(digits: str, scale: float) -> float:
    digits = digits.replace(",", "")
    if "." in digits:
        whole, frac = digits.split(".")
        sig = len((whole + frac).lstrip("0"))
        unit = 10.0 ** -len(frac)
    else:
        stripped = digits.lstrip("0")
        trailing = len(stripped) - len(stripped.rstrip("0"))
        sig = len(stripped) - trailing
        unit = 10.0**trailing
    return 0.5 * unit * scale if sig >= 2 else 0.0


def parse_numbers(text: str, words: bool = False) -> list[Number]:
    """Find the numbers in a text.

    Understands thousands separators (``12,345``), decimals, scale words and suffixes (``12.3 thousand``,
    ``2.5 billion``, ``1.6bn``), percents (``10 percent``, ``10%``; the value stays 10) and ranges
    (``200,000–300,000`` gives both ends). Citation markers like ``[1]`` are ignored. Digits inside words
    (``M9``, ``Q3``) are not numbers.

    Args:
        text: Any text.
        words: Also read number words (``five``, ``twenty``, ``two million``).

    Returns:
        The numbers in order of appearance.

    """
    text = _MARKER_RE.sub(" ", text)
    found: list[tuple[int, Number]] = []
    for m in _NUM_RE.finditer(text):
        scale_word = (m.group("attached") or m.group("scale") or "").lower()
        scale = _SCALES.get(scale_word, 1.0)
        digits = m.group("num")
        value = float(digits.replace(",", "")) * scale
        found.append((m.start(), Number(value, m.group(0).strip(), _allowance(digits, scale), bool(m.group("pct")))))
    if words:
        for m in _WORD_NUM_RE.finditer(text):
            scale = _SCALES.get((m.group("scale") or "").lower(), 1.0)
            value = _WORD_NUMBERS[m.group("word").lower()] * scale
            found.append((m.start(), Number(value, m.group(0).strip(), 0.0, bool(m.group("pct")))))
    return [n for _, n in sorted(found, key=lambda p: p[0])]


def close(a: Number | float, b: Number | float, rel_tol: float = REL_TOL) -> bool:
    """Whether two numbers agree: within ``rel_tol`` or within the rounding either writer implied."""
    av, bv = (x.value if isinstance(x, Number) else float(x) for x in (a, b))
    allow = max(
        rel_tol * max(abs(av), abs(bv)),
        a.allowance if isinstance(a, Number) else 0.0,
        b.allowance if isinstance(b, Number) else 0.0,
    )
    return abs(av - bv) <= allow + 1e-12


def numbers_agree(expected: str | float, answer: str) -> bool:
    """Whether every number of ``expected`` appears in ``answer`` (within tolerance).

    Example:
        >>> numbers_agree("12,345", "Acme delivered about 12 thousand vehicles")
        True
        >>> numbers_agree(12345, "Acme delivered 1 million vehicles")
        False

    """
    if isinstance(expected, int | float):
        wanted = [Number(float(expected), str(expected))]
    else:
        wanted = parse_numbers(expected, words=True)
    got = parse_numbers(answer, words=True)
    return bool(wanted) and all(any(close(w, g) for g in got) for w in wanted)


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

_STOP_TEXT = (
    "a an the and or but if of to in on at by for with from as is are was were be been being it its this that these "
    "those there their they them he she his her we our you your i me my do does did done how what which who whom whose "
    "when where why will would can could should may might must has have had not no so than then too very into over "
    "about also any all more most much many some such only own same just both each per while yet via up out around "
    "approximately roughly nearly almost according says said say document documents article text"
)
_STOP = frozenset(_STOP_TEXT.split())
_CURRENCIES = {
    "cny": r"yuan|rmb|cny|renminbi|¥",
    "usd": r"u\.?s\.? dollars?|dollars?|usd|us\$|\$",
    "eur": r"euros?|eur|€",
    "gbp": r"pounds? sterling|pounds?|gbp|£",
    "jpy": r"yen|jpy",
    "krw": r"won|krw|₩",
    "sek": r"kronor|krona|sek",
    "inr": r"rupees?|inr|₹",
}
_CURRENCY_RE = {code: re.compile(rf"(?<![a-z])(?:{pat})(?![a-z])", re.IGNORECASE) for code, pat in _CURRENCIES.items()}
_CURRENCY_WORDS = frozenset(
    {"yuan", "rmb", "cny", "dollar", "usd", "euro", "eur", "kronor", "krona", "sek", "yen", "won", "rupee"}
)
"""Stemmed currency words, left out of term coverage (an answer may convert)."""
_TOKEN_RE = re.compile(r"[a-z][a-z'’]*[a-z]|[a-z]", re.IGNORECASE)


def _stem(word: str) -> str:
    return stem(word.lower().replace("’", "'").removesuffix("'s"))


def content_words(text: str) -> set[str]:
    """Stemmed, lower-cased words of a text without stopwords, number words or scale words."""
    out = set()
    for m in _TOKEN_RE.finditer(_MARKER_RE.sub(" ", text)):
        word = m.group(0).lower()
        if len(word) < 2 or word in _STOP or word in _WORD_NUMBERS or word in _SCALES or word == "percent":
            continue
        out.add(_stem(word))
    return out


def currencies(text: str) -> set[str]:
    """ISO codes of the currencies a text names (``yuan`` -> ``cny``, ``U.S. dollars`` -> ``usd``)."""
    return {code for code, rx in _CURRENCY_RE.items() if rx.search(text)}


def text_match(expected: str, answer: str) -> bool:
    """Normalised match of an answer against a reference answer.

    With numbers in the reference: every one of them appears in the answer within tolerance, and every
    currency the reference names is named by the answer. Without numbers: at least half
    (:data:`TEXT_RECALL`) of the reference's content words appear in the answer (after stemming).

    Example:
        >>> text_match("12,345 vehicles", "Acme delivered 12345 cars in November [1].")
        True
        >>> text_match("Zeta", "Acme's partner on the project is Zeta [1].")
        True

    """
    if parse_numbers(expected, words=True):
        return numbers_agree(expected, answer) and currencies(expected) <= currencies(answer)
    wanted = content_words(expected)
    if not wanted:
        return expected.strip().lower() in answer.lower()
    got = content_words(answer)
    return len(wanted & got) >= math.ceil(TEXT_RECALL * len(wanted))


def regex_checks(q: Question, text: str) -> dict[str, bool]:
    """Judge the ``expected_any`` / ``expected_all`` / ``expected_none`` patterns a question has."""
    text = _MARKER_RE.sub("", text)
    out: dict[str, bool] = {}
    if q.expected_any:
        out["expected_any"] = any(re.search(p, text, re.IGNORECASE) for p in q.expected_any)
    if q.expected_all:
        out["expected_all"] = all(re.search(p, text, re.IGNORECASE) for p in q.expected_all)
    if q.expected_none:
        out["expected_none"] = not any(re.search(p, text, re.IGNORECASE) for p in q.expected_none)
    return out


# ---------------------------------------------------------------------------------------------------
# Own words: what the bot itself says, before any quoted passage, source list or citation marker
# ---------------------------------------------------------------------------------------------------
_OWN_END_RE = re.compile(r"[“”\"«»]|\[\d+\]|\bSources?\s*:|\bAccording to the documents\b|\n\s*\n", re.IGNORECASE)
_ARTICLES_RE = re.compile(r"\b(a|an|the)\b")
_PUNCT_RE = re.compile(r"[^\w\s]")


def own_words(text: str) -> str:
    """The part of an answer the bot says itself.

    Everything before the first quotation mark, citation marker, source list or quoted-passage lead-in.

    Example:
        >>> own_words('Condé Nast bought it [1]. “Condé Nast bought Wired News ...”')
        'Condé Nast bought it '

    """
    m = _OWN_END_RE.search(text)
    return text[: m.start()] if m else text


def normalize_answer(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = _MARKER_RE.sub(" ", text.lower())
    text = _PUNCT_RE.sub("", text)
    return " ".join(_ARTICLES_RE.sub(" ", text).split())


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's token F1 between a prediction and one reference answer."""
    from collections import Counter

    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str, golds: list[str]) -> float | None:
    """The best token F1 over the reference answers (None without references)."""
    return max((token_f1(prediction, g) for g in golds), default=None) if golds else None
