"""Exchange rates and conversions, only at rates the documents themselves imply.

A rate comes from an amount stated in two currencies side by side ("200,000 yuan (about 28,296 U.S.
dollars)"); a conversion multiplies by it, with the formula and both spans cited. Nothing here knows a
rate of its own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.engine.evidence import Sentence, gather
from bot.engine.index import IndexView
from bot.engine.operands import READ, fmt, record
from bot.engine.phrase import finish
from bot.engine.question import Question
from bot.language.quantities import CURRENCY_NAMES, CURRENCY_WORDS, Quantity, find_quantities
from bot.language.tokens import tokenize

if TYPE_CHECKING:
    from bot.engine.work import Work
    from bot.models import Answer

RATE_Q = re.compile(r"\b(exchange rate|rate|how many \w+ (?:make|per|to|for|buy|is|equal|in))\b", re.I)
_PAIR_GAP = re.compile(r"^\s*[(,–—-]?\s*(?:about|around|roughly|approximately|or|some|nearly|~)?\s*$", re.I)


def target_currency(text: str) -> str | None:
    """The currency a question asks an amount *in* ("in US dollars", "to euros", "in USD")."""
    m = re.search(r"\b(?:in|into|to|as)\s+((?:u\.?s\.?\s+)?[A-Za-z$€£¥]+)\s*[?.!]*\s*$", text.strip(), re.I)
    if not m:
        m = re.search(r"\b(?:in|into)\s+((?:u\.?s\.?\s+)?[A-Za-z$€£¥]+)\b", text, re.I)
    if not m:
        return None
    word = m.group(1).lower().split()[-1]
    return CURRENCY_WORDS.get(word) or (word.upper() if word.upper() in CURRENCY_NAMES else None)


def currencies_in(text: str) -> list[str]:
    """Currencies a text names, in order."""
    out = []
    for t in tokenize(text):
        code = CURRENCY_WORDS.get(t.low) or (t.text if t.text in CURRENCY_NAMES else None)
        if code and code not in out:
            out.append(code)
    return out


def money_text(value: float, like: Quantity | None, currency: str | None = None) -> str:
    """``115 billion yuan``: the value at a readable scale, with the currency as the documents write it."""
    name = CURRENCY_NAMES.get(currency or (like.currency if like else "") or "", "")
    if like is not None and like.currency == (currency or like.currency):
        words = [t.text for t in like.tokens if t.kind == "word" and t.low in {*CURRENCY_WORDS, "u.s", "us"}]
        name = " ".join(words) or name
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(value) >= scale:
            return f"{fmt(round(value / scale, 3))} {word} {name}".strip()
    return f"{fmt(round(value, 2))} {name}".strip()


# -- exchange rates ---------------------------------------------------------------------------------
def pairs(s: Sentence) -> list[tuple[Quantity, Quantity]]:
    """Amounts a sentence states in two currencies side by side: ``(first, second)``."""
    qs = [q for q in s.parsed.quantities if q.kind == "money" and q.currency]
    out = []
    for a, b in itertools.pairwise(qs):
        gap = s.record.text[a.end - s.record.start : b.start - s.record.start]
        if a.currency != b.currency and _PAIR_GAP.match(gap):
            out.append((a, b))
    return out


def rate(w: Work, src: str, dst: str) -> tuple[float, Quantity, Quantity, Sentence] | None:
    """Units of ``dst`` per unit of ``src``, from an amount the documents state in both currencies."""
    return rate_in(w.index, w.q, src, dst, w.ev.sentences if w.ev else [])


def rate_in(
    index: IndexView, q: Question, src: str, dst: str, seen: Sequence[Sentence] = ()
) -> tuple[float, Quantity, Quantity, Sentence] | None:
    """The exchange rate an amount stated in both currencies gives.

    Searched in ``seen`` first, then in the evidence for the two currencies' names (one bounded retrieval).
    """
    found = rates_in(index, q, src, dst, seen)
    return found[0] if found else None


def rates_in(
    index: IndexView, q: Question, src: str, dst: str, seen: Sequence[Sentence] = ()
) -> list[tuple[float, Quantity, Quantity, Sentence]]:
    """Every rate the evidence implies between two currencies, best placed first (see :func:`rate_in`)."""
    query = f"{CURRENCY_NAMES.get(src, src)} {CURRENCY_NAMES.get(dst, dst)}"
    ev = gather(index, q, query, chunks=4)
    out, done = [], set()
    for s in [*seen, *ev.sentences]:
        for a, b in pairs(s):
            if {a.currency, b.currency} != {src, dst} or (s.record.source, a.start) in done:
                continue
            done.add((s.record.source, a.start))
            x, y = (a, b) if a.currency == src else (b, a)
            xv, yv = x.value or x.low, y.value or y.low
            if xv and yv:
                out.append((yv / xv, x, y, s))
    return out


def convert(w: Work, amount: Quantity | None, value: tuple[float, float], src: str, dst: str,
             shown: str, extra: list[Sentence]) -> Answer | None:  # fmt: skip
    """``value`` (a point or a range) in ``dst``, at the rate the evidence implies, or a refusal without one."""
    found = rate(w, src, dst)
    if found is None:
        w.findings.append(f"The documents give no exchange rate between {src} and {dst}.")
        marks = w.cites.marks(extra)
        return w.answer(
            finish(f"The documents give no exchange rate from {CURRENCY_NAMES.get(src, src)} to "
                   f"{CURRENCY_NAMES.get(dst, dst)}, so {shown} cannot be converted from them", marks),
            refused=True, kind="conversion")  # fmt: skip
    _rate, x, y, s = found
    results = []
    for v in dict.fromkeys(value):
        out = record(w, f"{v:g} * {y.value or y.low:g} / {x.value or x.low:g}")
        if out is None:
            return None
        results.append(out)
    converted = "–".join(money_text(v, y, dst) for v in results)
    marks = w.cites.marks([*extra, s])
    text = f"About {converted}: {shown} at the documents' rate of {x.text} = {y.text}"
    return w.answer(finish(text, marks), kind="conversion")


RATES_SHOWN = 3
"""Rates from different documents an exchange-rate answer shows (reports may each imply their own)."""


def rate_answer(w: Work, codes: list[str]) -> Answer | None:
    """The rate between the two currencies a question names, from each document that implies one."""
    src, dst = codes[0], codes[1]
    m = re.search(r"how many (\S+)", w.q.text, re.I)
    if m and currencies_in(m.group(1)) == [src]:  # "how many yuan make one dollar": yuan per dollar
        src, dst = dst, src
    found = rates_in(w.index, w.q, src, dst, w.ev.sentences if w.ev else [])
    shown: dict[str, tuple[Quantity, Quantity, Sentence]] = {}
    for _r, x, y, s in found:
        shown.setdefault(s.record.source, (x, y, s))
    parts = []
    for k, (x, y, s) in enumerate(list(shown.values())[:RATES_SHOWN]):
        forward = record(w, f"{y.value or y.low:g} / {x.value or x.low:g}")
        back = record(w, f"{x.value or x.low:g} / {y.value or y.low:g}")
        if forward is None or back is None:
            return None
        mark = w.cites.marks([s])
        if k == 0:
            parts.append(f"About {forward:.4g} {CURRENCY_NAMES.get(dst, dst)} per "
                         f"{CURRENCY_NAMES.get(src, src).rstrip('s')} ({back:.4g} the other way): "
                         f"{y.text} for {x.text} {mark}")  # fmt: skip
        else:
            parts.append(f"{forward:.4g} from {y.text} for {x.text} {mark}")
    if not parts:
        return None
    text = parts[0] + ("; elsewhere " + "; ".join(parts[1:]) if parts[1:] else "")
    return w.answer(finish(text, ""), kind="conversion")


def stated_amount(text: str) -> Quantity | None:
    """The first amount of money a question states itself ("How much is 5,000 yuan in euros?")."""
    stated = [q for q in find_quantities(text) if q.kind == "money" and (q.value or q.low) and (q.value or 0) != 1]
    return stated[0] if stated else None


def conversion(w: Work, target: str) -> Answer | None:
    """Convert an amount (stated in the question, or the one the question asks about) into ``target``."""
    assert w.ev is not None
    stated = stated_amount(w.q.text)
    if stated is not None and stated.currency and stated.currency != target:
        value = (stated.value or stated.low or 0.0, stated.value or stated.high or 0.0)
        return convert(w, stated, value, stated.currency, target, stated.text, [])
    for s in w.ev.top(READ):
        amounts = [q for q in s.parsed.quantities if q.kind == "money" and q.currency and q.currency != target]
        if not amounts or not about_subject(w.q, s):
            continue  # an amount of another subject is never converted for this one
        q = max(amounts, key=lambda a: _asked_near(w.q, s, a))  # "a year earlier": the amount those words are by
        pair = next(((a, b) for a, b in pairs(s) if q in (a, b)), None)
        if pair and any(x.currency == target for x in pair):
            other = pair[1] if pair[0] is q else pair[0]
            text = f"{other.text}, as the documents state it ({q.text})"
            return w.answer(finish(text, w.cites.marks([s])), kind="conversion")
        value = (q.value or q.low or 0.0, q.value or q.high or 0.0)
        return convert(w, q, value, q.currency or "", target, q.text, [s])
    return None


def about_subject(q: Question, s: Sentence) -> bool:
    """Whether a sentence is about what the question asks to convert.

    It (or the sentence before it, for "It ..." / "The company ...") names every subject the question names -
    not the names that only modify a noun ("US dollars") nor currency names - and states at least one of the
    question's own words ("investment" for "how much is changan's investment in US dollars?", where a lower-case
    name is not read as a name).
    """
    lows = {t.low for t in s.parsed.tokens} | s.carried
    keys = s.parsed.keys | s.carried
    for name in q.names:
        words = [x.lower().strip(".’'") for x in name.split()]
        if q.modifier(name) or all(_is_currency(x) for x in words):
            continue
        if not any(x in lows or x in keys for x in words):
            return False
    own = {t.key for t in q.terms if not t.related and not _is_currency(t.text.lower())} - {"much", "many"}
    return not own or bool(own & keys)


def _is_currency(word: str) -> bool:
    return word in CURRENCY_WORDS or word.upper() in CURRENCY_NAMES or word in ("u.s", "us", "dollars")


NEAR = 4
"""Tokens on each side of an amount in which the question's own words place it."""


def _asked_near(q: Question, s: Sentence, amount: Quantity) -> int:
    toks = s.parsed.tokens
    return sum(t.key in q.keys for t in toks[max(0, amount.i - NEAR) : amount.j + NEAR] if t.content)
