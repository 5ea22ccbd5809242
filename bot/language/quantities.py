"""Quantities in a sentence: numbers with their unit, currency, kind and exact span.

Numbers written in digits (``81,864``, ``1.6bn``) or words (``twenty-three``, via ``number-parser``),
scale words (``11.5 billion``), percents, currencies (symbols, ISO codes and names), ranges
(``200,000–300,000``, ``from five to seven``), dates (``8 January 1919``, ``August 15-18, 1969``,
parsed with ``dateparser``), years, times of day and durations. The words tables are data at the top
of this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from bot.language.tokens import MONTHS, STOPWORDS, Token, is_month, tokenize

SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "mn": 1e6, "tn": 1e12}
_GLUED = {"k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9, "tn": 1e12}
NUMBER_WORDS = _NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred dozen".split()
)
CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "CNY", "₩": "KRW", "₹": "INR"}
CURRENCY_WORDS = {
    "yuan": "CNY", "renminbi": "CNY", "rmb": "CNY", "cny": "CNY", "dollar": "USD", "dollars": "USD", "usd": "USD",
    "euro": "EUR", "euros": "EUR", "eur": "EUR", "kronor": "SEK", "krona": "SEK", "sek": "SEK", "kroner": "NOK",
    "krone": "NOK", "nok": "NOK", "dkk": "DKK", "yen": "JPY", "jpy": "JPY", "won": "KRW", "rupee": "INR",
    "rupees": "INR", "inr": "INR", "franc": "CHF", "francs": "CHF", "chf": "CHF", "gbp": "GBP", "sterling": "GBP",
    "ruble": "RUB", "rubles": "RUB", "roubles": "RUB", "peso": "MXN", "pesos": "MXN",
}  # fmt: skip
CURRENCY_NAMES = {
    "CNY": "yuan", "USD": "US dollars", "EUR": "euros", "SEK": "kronor", "NOK": "kroner", "DKK": "kroner",
    "JPY": "yen", "KRW": "won", "INR": "rupees", "CHF": "francs", "GBP": "pounds", "RUB": "rubles", "MXN": "pesos",
    "CAD": "Canadian dollars", "AUD": "Australian dollars", "SGD": "Singapore dollars",
}  # fmt: skip
_DOLLARS = {"u.s": "USD", "u.s.": "USD", "us": "USD", "canadian": "CAD", "australian": "AUD", "singapore": "SGD"}
TIME_UNITS = {
    "second": 1 / 86400, "minute": 1 / 1440, "hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.44,
    "year": 365.25, "decade": 3652.5, "century": 36525.0,
}  # fmt: skip
_PERCENT_WORDS = {"percent", "per cent", "pct", "percentage point", "percentage points", "percentage-point"}
_DAY_JOINS = frozenset(["/", "-", "–", "—", "and", "to", "or", "&"])
"""Words joining two days of one month into a span of days ("25/26 March")."""
_APPROX = frozenset("about around roughly nearly almost approximately some circa estimated ~ up".split())
_LOWER = ("more than", "over", "above", "at least", "exceeding", "upwards of")
_UPPER = ("less than", "fewer than", "under", "below", "up to", "at most", "as much as", "as many as", "sub -")
_RANGE_JOINERS = {"-", "–", "—", "to", "and"}
_COMPOUND_UNITS = {"acre", "mile", "foot", "yard", "meter", "metre", "ton", "pound", "story", "storey", "seat", "page"}


@dataclass(frozen=True)
class Quantity:
    """One quantity as written: ``sentence[start:end] == text`` (in the tokens' coordinates)."""

    text: str
    start: int
    end: int
    value: float | None
    low: float | None = None
    high: float | None = None
    kind: str = "count"  # count | money | percent | date | year | time | duration | ordinal
    unit: str | None = None  # lemma of the counted noun or the unit ("vehicle", "gwh", "year")
    currency: str | None = None
    approximate: bool = False
    bound: str | None = None  # "lower" ("more than 5") or "upper" ("up to 5")
    word: bool = False  # spelled out ("seven")
    date: tuple[int | None, int | None, int | None] | None = None  # (year, month, day)
    i: int = 0  # first token index
    j: int = 0  # one past the last token index
    tokens: tuple[Token, ...] = field(default=(), repr=False, compare=False)

    @property
    def values(self) -> list[float]:
        """The value, or both ends of a range."""
        return [v for v in (self.value, self.low, self.high) if v is not None]

    @property
    def is_range(self) -> bool:
        """Whether the quantity is a range (``low``-``high``)."""
        return self.value is None and self.low is not None


@lru_cache(maxsize=4096)
def _word_value(words: str) -> float | None:
    from number_parser import parse_number

    value = parse_number(words)
    return float(value) if isinstance(value, int | float) else None


def _digits(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _number_at(tokens: list[Token], i: int) -> tuple[float, int, bool] | None:
    """Read a number starting at token ``i``: ``(value, next index, spelled out)``."""
    tok = tokens[i]
    if tok.kind == "num":
        if re.search(r"(st|nd|rd|th)$", tok.low) or ":" in tok.low:
            return None
        value = _digits(tok.low.rstrip("s"))
        return (value, i + 1, False) if value is not None else None
    if tok.kind == "word" and tok.low[:1].isdigit():
        m = re.fullmatch(r"(\d+(?:[.,]\d+)*)(k|m|mn|b|bn|tn)", tok.low)
        if m and (v := _digits(m.group(1))) is not None:
            return v * _GLUED[m.group(2)], i + 1, False
        return None
    if tok.kind != "word" or not all(p in _NUMBER_WORDS for p in tok.low.split("-")):
        return None
    if tok.low == "one" and i + 1 < len(tokens) and tokens[i + 1].low in {"of", "another", "day", "time"}:
        return None
    j = i + 1
    while j < len(tokens) and (
        all(p in _NUMBER_WORDS for p in tokens[j].low.split("-"))
        or (tokens[j].low == "and" and j + 1 < len(tokens) and tokens[j + 1].low in _NUMBER_WORDS)
    ):
        j += 1
    value = _word_value(" ".join(t.low for t in tokens[i:j]))
    return (value, j, True) if value is not None else None


def _phrase_at(tokens: list[Token], i: int, phrases: tuple[str, ...] | set[str]) -> int:
    """Length in tokens of one of ``phrases`` starting at ``i`` (0 if none)."""
    for p in sorted(phrases, key=len, reverse=True):
        words = p.split()
        if [t.low for t in tokens[i : i + len(words)]] == words:
            return len(words)
    return 0


def _ends_with(tokens: list[Token], i: int, phrases: tuple[str, ...] | frozenset[str]) -> int:
    """Length of one of ``phrases`` that ends right before token ``i`` (0 if none)."""
    for p in sorted(phrases, key=len, reverse=True):
        words = p.split()
        if i >= len(words) and [t.low for t in tokens[i - len(words) : i]] == words:
            return len(words)
    return 0


def _currency_after(tokens: list[Token], j: int) -> tuple[str | None, int]:
    if j + 1 < len(tokens) and tokens[j].low in _DOLLARS and tokens[j + 1].low in ("dollar", "dollars"):
        return _DOLLARS[tokens[j].low], j + 2
    if j < len(tokens) and tokens[j].low in CURRENCY_WORDS:
        return CURRENCY_WORDS[tokens[j].low], j + 1
    return None, j


def _unit_after(tokens: list[Token], j: int) -> tuple[str | None, int]:
    """The counted noun after a number ("81,864 vehicles", "12 additional deckhands", "1 pound of X")."""
    k, unit, end = j, None, j
    while k < len(tokens) and k < j + 3:
        t = tokens[k]
        if t.kind == "punct" and t.text == "-" and k + 1 < len(tokens) and tokens[k + 1].kind == "word":
            k += 1
            continue
        if t.kind != "word" or t.low in STOPWORDS or is_month(t.low) or (t.verb and k > j):
            break
        unit, end = t.lemma, k + 1
        if ("NOUN" in t.pos and "ADJ" not in t.pos) or t.lemma in TIME_UNITS:
            break
        k += 1
    return unit, end


def _date_around(tokens: list[Token], i: int, j: int, value: float) -> tuple[int, int, tuple] | None:
    """A date built around the number at ``i:j``: ``(start index, end index, (year, month, day))``."""
    n = len(tokens)

    def month_at(k: int) -> int | None:
        if 0 <= k < n and is_month(tokens[k].low) and (tokens[k].cap or tokens[k].low != "may"):
            return MONTHS.index(tokens[k].low.rstrip(".")) % 12 + 1
        return None

    def year_at(k: int) -> int | None:
        if 0 <= k < n and tokens[k].kind == "num" and re.fullmatch(r"\d{3,4}", tokens[k].low):
            return int(tokens[k].low)
        return None

    iv = int(value) if value == int(value) else None
    if iv is None:
        return None
    # "8 January 1919", "8 January"
    if 1 <= iv <= 31 and (m := month_at(j)) is not None:
        end, year = j + 1, None
        if (y := year_at(j + 1)) is not None:
            end, year = j + 2, y
        elif j + 2 < n and tokens[j + 1].text == "," and (y := year_at(j + 2)) is not None:
            end, year = j + 3, y
        return i, end, (year, m, iv)
    # "25/26 March 1933", "15-18 August", "3 and 4 May 2010": a span of days is one date (its first day);
    # read alone, the first day would be a bare count ("25") that a "how many" question could copy
    if (
        1 <= iv <= 31
        and j + 2 < n
        and tokens[j].low in _DAY_JOINS
        and re.fullmatch(r"\d{1,2}", tokens[j + 1].low)
        and iv < int(tokens[j + 1].low) <= 31
        and month_at(j + 2) is not None
    ):
        m, end, year = month_at(j + 2), j + 3, year_at(j + 3)
        if year is not None:
            end += 1
        return i, end, (year, m, iv)
    before = i - 2 if i >= 2 and tokens[i - 1].text == "." else i - 1  # "Dec. 15"
    # "January 8, 1919", "January 8", "August 15-18, 1969" (the first day)
    if 1 <= iv <= 31 and (m := month_at(before)) is not None:
        end, year = j, None
        if end + 1 < n and tokens[end].text in {"-", "–"} and tokens[end + 1].kind == "num":
            end += 2
        if end + 1 < n and tokens[end].text == "," and (y := year_at(end + 1)) is not None:
            end, year = end + 2, y
        return before, end, (year, m, iv)
    # "January 1919", "in November 2013"
    if 1000 <= iv <= 2100 and (m := month_at(before)) is not None:
        return before, j, (iv, m, None)
    return None


def find_quantities(text: str, offset: int = 0, tokens: list[Token] | None = None) -> list[Quantity]:
    """Find the quantities of a sentence.

    Args:
        text: The sentence.
        offset: Offset of ``text`` in its document (spans are reported in document coordinates).
        tokens: The sentence's tokens, if already made (with the same offset).

    Returns:
        Quantities in order; a range is one quantity with ``low``/``high``.

    """
    toks = tokens if tokens is not None else tokenize(text, offset)
    out: list[Quantity] = []
    i = 0
    while i < len(toks):
        q = _quantity_at(toks, i, text, offset)
        if q is None:
            i += 1
            continue
        if out and _joins_range(toks, out[-1], q):
            q = _range(out.pop(), q, text, offset, toks)
        out.append(q)
        i = max(q.j, i + 1)
    return out


def _quantity_at(toks: list[Token], i: int, text: str, offset: int) -> Quantity | None:
    tok = toks[i]
    if tok.kind == "num" and ":" in tok.low:  # 8:05 (P.M.)
        j = i + 1 + (i + 1 < len(toks) and toks[i + 1].low in {"a.m", "p.m", "am", "pm", "a.m.", "p.m."})
        return _make(toks, i, j, text, offset, None, kind="time")
    if tok.kind == "num" and re.fullmatch(r"\d{4}s", tok.low):  # the 1990s
        return _make(toks, i, i + 1, text, offset, float(tok.low[:4]), kind="year", date=(int(tok.low[:4]), None, None))
    if tok.kind == "num" and re.search(r"(st|nd|rd|th)$", tok.low):
        return _make(toks, i, i + 1, text, offset, _digits(tok.low[:-2]), kind="ordinal")
    start = i
    currency = None
    if i > 0 and toks[i - 1].text in CURRENCY_SYMBOLS:
        start, currency = i - 1, CURRENCY_SYMBOLS[toks[i - 1].text]
        if i > 1 and toks[i - 2].low in {"us", "u.s"} and toks[i - 2].end == toks[i - 1].start:
            start = i - 2
    elif i > 0 and toks[i - 1].low.upper() in CURRENCY_NAMES and toks[i - 1].text.isupper():
        start, currency = i - 1, toks[i - 1].low.upper()
    hyphenated = re.fullmatch(r"([a-z]+|\d+)-([a-z]+)", tok.low) if tok.kind == "word" else None
    if hyphenated and hyphenated.group(2) in {*TIME_UNITS, *_COMPOUND_UNITS}:
        first = hyphenated.group(1)
        value = _digits(first) if first.isdigit() else (_word_value(first) if first in _NUMBER_WORDS else None)
        if value is not None:  # "a two-week trial", "600-acre"
            unit = hyphenated.group(2)
            kind = "duration" if unit in TIME_UNITS else "count"
            return _make(toks, i, i + 1, text, offset, value, kind=kind, unit=unit, word=not first.isdigit())
    read = _number_at(toks, i)
    if read is None:
        return None
    value, j, word = read
    if j < len(toks) and toks[j].low in SCALES:
        value *= SCALES[toks[j].low]
        j += 1
    elif word is False and j < len(toks) and toks[j].low in ("illion",):
        j += 1
    if (n := _phrase_at(toks, j, _PERCENT_WORDS)) or (j < len(toks) and toks[j].text == "%"):
        return _make(toks, start, j + (n or 1), text, offset, value, kind="percent", word=word)
    if currency is None:
        currency, j2 = _currency_after(toks, j)
        if currency:
            return _make(toks, start, j2, text, offset, value, kind="money", currency=currency, word=word)
    else:
        return _make(toks, start, j, text, offset, value, kind="money", currency=currency, word=word)
    if not word and (d := _date_around(toks, i, j, value)) is not None:
        a, b, date = d
        return _make(toks, a, b, text, offset, value if date[2] is None else None, kind="date", date=date)
    unit, j2 = _unit_after(toks, j)
    if unit in TIME_UNITS or (unit and unit.rstrip("s") in TIME_UNITS):
        return _make(toks, start, j2, text, offset, value, kind="duration", unit=unit.rstrip("s"), word=word)
    is_year = (
        not word
        and 1000 <= value <= 2100
        and value == int(value)
        and re.fullmatch(r"\d{4}", toks[i].low)
        and (
            unit is None or (i > 0 and toks[i - 1].low in {"in", "since", "by", "until", "of", "from", "early", "late"})
        )
    )
    if is_year:
        return _make(toks, start, j, text, offset, value, kind="year", date=(int(value), None, None))
    return _make(toks, start, j2 if unit else j, text, offset, value, kind="count", unit=unit, word=word)


def _make(toks: list[Token], i: int, j: int, text: str, offset: int, value: float | None, **kw: object) -> Quantity:
    j = max(j, i + 1)
    start, end = toks[i].start, toks[j - 1].end
    approx = i > 0 and toks[i - 1].low in _APPROX
    bound = "lower" if _ends_with(toks, i, _LOWER) else "upper" if _ends_with(toks, i, _UPPER) else None
    return Quantity(
        text=text[start - offset : end - offset],
        start=start,
        end=end,
        value=value,
        approximate=approx,
        bound=bound,
        i=i,
        j=j,
        tokens=tuple(toks[i:j]),
        **kw,  # type: ignore[arg-type]
    )


def _joins_range(toks: list[Token], a: Quantity, b: Quantity) -> bool:
    if b.i - a.j != 1 or toks[a.j].low not in _RANGE_JOINERS or a.kind not in ("count", "money", "percent"):
        return False
    joiner = toks[a.j].low
    if joiner in ("to", "and"):
        opener = toks[a.i - 1].low if a.i > 0 else ""
        return (joiner == "to" and opener == "from") or (joiner == "and" and opener == "between")
    return b.kind in ("count", "money", "percent") and a.kind != "date"


def _range(a: Quantity, b: Quantity, text: str, offset: int, toks: list[Token]) -> Quantity:
    kind = b.kind if b.kind != "count" else a.kind
    merged = _make(toks, a.i, b.j, text, offset, None, kind=kind, unit=b.unit or a.unit)
    return replace(
        merged,
        low=min(a.value or 0, b.value or 0),
        high=max(a.value or 0, b.value or 0),
        currency=b.currency or a.currency,
        approximate=a.approximate or b.approximate,
    )


def date_ordinal(q: Quantity) -> float | None:
    """Days since year 1 for a dated quantity (a year alone counts as its 1 July), for differences."""
    if not q.date or q.date[0] is None:
        return None
    import datetime as dt

    year, month, day = q.date
    try:
        return float(dt.date(year, month or 7, day or 1).toordinal())
    except ValueError:
        return None


def parse_date(text: str) -> tuple[int | None, int | None, int | None] | None:
    """Read a date written in words with ``dateparser`` (``"12 January"`` -> ``(None, 1, 12)``)."""
    import dateparser

    settings = {"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False, "REQUIRE_PARTS": ["month"]}
    found = dateparser.parse(text, languages=["en"], settings=settings)  # type: ignore[arg-type]
    if found is None:
        return None
    has_year = bool(re.search(r"\b\d{3,4}\b", text))
    has_day = bool(re.search(r"\b\d{1,2}(?:st|nd|rd|th)?\b", text.replace(str(found.year), "")))
    return (found.year if has_year else None, found.month, found.day if has_day else None)
