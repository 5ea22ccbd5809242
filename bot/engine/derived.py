"""Derived figures: valuations, conversions, changes, range statistics, combined and remaining shares.

Each is computed from quantities of the evidence (never from outside knowledge) with the formula in
the answer: an implied valuation is a price over the stake it bought (``11.5 billion yuan ÷ 10% = 115
billion yuan``); a conversion uses only an exchange rate the documents themselves imply, from an amount
stated in two currencies side by side ("200,000 yuan (about 28,296 U.S. dollars)"); a change reads a
"from X to Y" / "X, up from Y" pair. The trigger words are data at the top of this module.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.engine.evidence import Sentence, gather
from bot.engine.extract_numbers import split_changes
from bot.engine.index import IndexView
from bot.engine.operands import READ, Found, answer, fmt, locate, record
from bot.engine.phrase import finish
from bot.engine.question import Question
from bot.language.quantities import CURRENCY_NAMES, CURRENCY_WORDS, NUMBER_WORDS, SCALES, Quantity, find_quantities
from bot.language.tokens import key, tokenize

if TYPE_CHECKING:
    from bot.engine.work import Work
    from bot.models import Answer

VALUATION = re.compile(r"\b(valuation|valued?|worth|impl(?:y|ies|ied)|value)\b", re.I)
PER_POINT = re.compile(r"\b(?:per|each|every|a)\s+(?:single\s+)?(?:percentage\s+point|percent|point)\b", re.I)
COMBINED = re.compile(r"\b(combined|together|in total|altogether|jointly)\b", re.I)
REMAINDER = re.compile(r"\b(other than|besides|apart from|excluding|the rest|remaining|remainder)\b", re.I)
CHANGE = re.compile(
    r"\b(grow(?:th|n)?|grew|increase[ds]?|rise|rose|gain(?:ed)?|change[ds]?|add(?:ed)?|new|"
    r"fall|fell|drop(?:ped)?|decline[ds]?|decrease[ds]?|shr[ai]nk|cut|now than before|than (?:before|previously))\b",
    re.I,
)
PERCENT_Q = re.compile(r"\b(percent(?:age)?|%|share)\b", re.I)
RANGE_WIDTH = re.compile(r"\b(wide|width|spread|span)\b", re.I)
RANGE_MID = re.compile(r"\b(midpoint|middle|mid-point|centre|center)\b", re.I)
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
def _pairs(s: Sentence) -> list[tuple[Quantity, Quantity]]:
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
    query = f"{CURRENCY_NAMES.get(src, src)} {CURRENCY_NAMES.get(dst, dst)}"
    ev = gather(index, q, query, chunks=4)
    for s in [*seen, *ev.sentences]:
        for a, b in _pairs(s):
            if {a.currency, b.currency} != {src, dst}:
                continue
            x, y = (a, b) if a.currency == src else (b, a)
            xv, yv = x.value or x.low, y.value or y.low
            if xv and yv:
                return yv / xv, x, y, s
    return None


def _convert(w: Work, amount: Quantity | None, value: tuple[float, float], src: str, dst: str,
             shown: str, extra: list[Sentence]) -> Answer | None:  # fmt: skip
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


def _rate_answer(w: Work, codes: list[str]) -> Answer | None:
    src, dst = codes[0], codes[1]
    m = re.search(r"how many (\S+)", w.q.text, re.I)
    if m and currencies_in(m.group(1)) == [src]:  # "how many yuan make one dollar": yuan per dollar
        src, dst = dst, src
    found = rate(w, src, dst)
    if found is None:
        return None
    _rate, x, y, s = found
    forward = record(w, f"{y.value or y.low:g} / {x.value or x.low:g}")
    back = record(w, f"{x.value or x.low:g} / {y.value or y.low:g}")
    if forward is None or back is None:
        return None
    marks = w.cites.marks([s])
    text = (f"About {forward:.4g} {CURRENCY_NAMES.get(dst, dst)} per {CURRENCY_NAMES.get(src, src).rstrip('s')} "
            f"({back:.4g} the other way): {y.text} for {x.text}")  # fmt: skip
    return w.answer(finish(text, marks), kind="conversion")


# -- valuations -------------------------------------------------------------------------------------
def price_and_stake(w: Work, sentences: list[Sentence]) -> tuple[Quantity, Quantity, Sentence] | None:
    """A price paid and the stake it bought, stated in one sentence, preferring one naming the question's names."""
    names = {k for k in w.q.name_keys}
    best = None
    for s in sentences:
        money = [q for q in s.parsed.quantities if q.kind == "money" and q.value]
        stake = [q for q in s.parsed.quantities if q.kind == "percent" and q.value]
        if not money or not stake:
            continue
        score = len(names & s.parsed.keys) + s.score
        if best is None or score > best[0]:
            best = (score, money[0], min(stake, key=lambda q: abs(q.i - money[0].i)), s)
    return best[1:] if best else None


def _valuation(w: Work, per_point: bool) -> Answer | None:
    assert w.ev is not None
    found = price_and_stake(w, w.ev.top(READ))
    if found is None:
        return None
    m, st, s = found
    assert m.value is not None and st.value is not None
    value = record(w, f"{m.value:g} / {st.value:g}" if per_point else f"{m.value:g} / ({st.value:g} / 100)")
    if value is None:
        return None
    target = target_currency(w.q.text)
    shown = money_text(value, m)
    if target and m.currency and target != m.currency:
        return _convert(w, m, (value, value), m.currency, target, shown, [s])
    op = "per percentage point" if per_point else "implied valuation"
    return w.answer(finish(f"{shown} ({op}): {m.text} ÷ {st.text}", w.cites.marks([s])), kind="derived")


# -- changes, ranges, shares -----------------------------------------------------------------------
def _from_to(s: Sentence) -> tuple[Quantity, Quantity] | None:
    """``from X to Y`` (a range read as a change) or ``Y, up/down from X``."""
    toks = s.parsed.tokens
    ends = [q for q in split_changes(s) if q.bound in ("from", "to")]
    if len(ends) >= 2:
        return ends[0], ends[1]
    qs = [q for q in s.parsed.quantities if q.value is not None]
    for k, old in enumerate(qs):
        before = " ".join(t.low for t in toks[max(0, old.i - 4) : old.i])
        if not re.search(r"\b(?:up|down|rising|falling|compared|higher|lower)?\s*(?:from|with|against)$", before):
            continue
        for new in reversed(qs[:k]):  # the figure it changed into: the nearest earlier one of the same kind
            if new.kind == old.kind and new.currency == old.currency:
                return old, new
    return None


def _change(w: Work) -> Answer | None:
    assert w.ev is not None
    pairs = [(s, p) for s in w.ev.top(READ) if (p := _from_to(s)) is not None]
    pairs.sort(key=lambda sp: (not (sp[1][1].unit and key(sp[1][1].unit) in w.q.keys), -sp[0].score))
    for s, pair in pairs[:1]:
        old, new = pair
        assert old.value is not None and new.value is not None
        if PERCENT_Q.search(w.q.text) and old.kind != "percent":
            pct = record(w, f"abs({new.value:g} - {old.value:g}) / {old.value:g} * 100")
            if pct is None:
                return None
            text = f"{fmt(round(pct, 1))} percent: from {_bare(old)} to {_bare(new)}"
        else:
            diff = record(w, f"abs({new.value:g} - {old.value:g})")
            if diff is None:
                return None
            text = f"{fmt(diff)} {_unit_text(new)}: from {_bare(old)} to {_bare(new)}".replace("  ", " ")
        return w.answer(finish(text, w.cites.marks([s])), kind="derived")
    return None


def _bare(q: Quantity) -> str:
    """The number of a quantity as written, without its unit ("four" of "four terminals")."""
    words = [
        x for x in q.text.split() if re.fullmatch(r"[$€£¥]?[\d.,]+%?", x) or x.lower() in NUMBER_WORDS | set(SCALES)
    ]
    return " ".join(words) if words else q.text


def _unit_text(q: Quantity) -> str:
    """The unit of a quantity as written ("terminals", "kronor", "GWh")."""
    if q.kind == "money":
        return CURRENCY_NAMES.get(q.currency or "", "")
    if q.kind == "percent":
        return "percent"
    words = [t.text for t in q.tokens if t.kind == "word" and t.low.split("-")[0] not in NUMBER_WORDS]
    words = [w for w in words if w.lower() not in {"from", "to", "and", "between"} | set(SCALES)]
    return " ".join(words)


def _range_stat(w: Work) -> Answer | None:
    assert w.ev is not None
    for s in w.ev.top(4):
        for q in s.parsed.quantities:
            if not q.is_range or q.low is None or q.high is None:
                continue
            width = bool(RANGE_WIDTH.search(w.q.text))
            value = record(w, f"{q.high:g} - {q.low:g}" if width else f"({q.low:g} + {q.high:g}) / 2")
            if value is None:
                return None
            shown = money_text(value, q) if q.kind == "money" else fmt(value)
            what = "width" if width else "midpoint"
            return w.answer(finish(f"{shown} ({what} of {q.text})", w.cites.marks([s])), kind="derived")
    return None


def _shares(w: Work, remainder: bool) -> Answer | None:
    """Combined shares of the named holders, or what they leave of the whole (100% minus their sum)."""
    assert w.ev is not None
    holders = [n for n in w.q.names if n.lower() not in {x.lower() for x in _objects(w)} and not w.q.modifier(n)]
    if len(holders) < (1 if remainder else 2):
        return None
    percent = remainder or PERCENT_Q.search(w.q.text) or "stake" in w.q.text.lower()
    kinds = ("percent",) if percent else ("count", "money")
    found: list[Found] = []
    for name in holders:
        f = locate(w, name, w.ev.top(READ), kinds, exclude=tuple(x.quantity for x in found))
        if f is None or f.value is None:
            return None
        found.append(f)
    total = " + ".join(f"{f.value:g}" for f in found)
    value = record(w, f"100 - ({total})" if remainder else total)
    if value is None:
        return None
    parts = " + ".join(f"{n} {f.quantity.text}" for n, f in zip(holders, found, strict=True))
    unit = "percent" if kinds == ("percent",) else ""
    formula = f"100 percent − ({parts})" if remainder else parts
    return answer(w, value, unit, formula, found)


def _objects(w: Work) -> list[str]:
    """Names the question asks *about* rather than as holders ("stake ... in Yinwang")."""
    m = re.findall(r"\b(?:in|into)\s+([A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)", w.q.text)
    return [x for x in m if x in w.q.names] if len(w.q.names) > 1 else []


COMPARE = re.compile(r"\b(compare[sd]?|comparison|versus|vs\.?|against)\b", re.I)


def _compare(w: Work) -> Answer | None:
    """Two named subjects' figures of one kind side by side, and their difference."""
    assert w.ev is not None
    holders = [n for n in w.q.names if n.lower() not in {x.lower() for x in _objects(w)} and not w.q.modifier(n)]
    if len(holders) < 2:
        return None
    found: list[Found] = []
    kinds = ("percent",) if PERCENT_Q.search(w.q.text) or "stake" in w.q.text.lower() else ("count", "money", "percent")
    for name in holders[:2]:
        f = locate(w, name, w.ev.top(READ), kinds, exclude=tuple(x.quantity for x in found))
        if f is None or f.value is None:
            return None
        found.append(f)
    a, b = found
    assert a.value is not None and b.value is not None
    diff = record(w, f"abs({a.value:g} - {b.value:g})")
    if diff is None:
        return None
    more = holders[0] if a.value >= b.value else holders[1]
    unit = _unit_text(a.quantity)
    text = (f"{holders[0]} {a.quantity.text} against {holders[1]} {b.quantity.text}: {more} has {fmt(diff)} "
            f"{unit} more" if diff else f"{holders[0]} and {holders[1]} both have {a.quantity.text}")  # fmt: skip
    return w.answer(finish(text, w.cites.marks([a.sentence, b.sentence])), kind="derived")


def try_derived(w: Work) -> Answer | None:
    """Valuations, conversions and other figures derived from the evidence (None when not asked)."""
    text = w.q.text
    codes = currencies_in(text)
    target = target_currency(text)
    wants = (
        (VALUATION.search(text) and not RANGE_WIDTH.search(text)) or PER_POINT.search(text) or target or
        (RATE_Q.search(text) and len(codes) >= 2) or COMBINED.search(text) or REMAINDER.search(text) or
        RANGE_WIDTH.search(text) or RANGE_MID.search(text) or
        (CHANGE.search(text) and (w.q.numeric or PERCENT_Q.search(text))) or
        (COMPARE.search(text) and len(w.q.names) >= 2)
    )  # fmt: skip
    if not wants:
        return None
    w.ev = gather(w.index, w.q, w.resolved.query, w.resolved.extra_terms, w.resolved.near, chunks=6)
    if RATE_Q.search(text) and len(codes) >= 2 and not _stated_amount(text):
        return _rate_answer(w, codes)
    if PER_POINT.search(text):
        return _valuation(w, per_point=True)
    if VALUATION.search(text) and (w.q.atype in ("money", "entity", "other", "amount") or target):
        result = _valuation(w, per_point=False)
        if result is not None:
            return result
    if RANGE_WIDTH.search(text) or RANGE_MID.search(text):
        return _range_stat(w)
    if target:
        return _conversion(w, target)
    if COMPARE.search(text) and len(w.q.names) >= 2:
        return _compare(w)
    if REMAINDER.search(text):
        return _shares(w, remainder=True)
    if COMBINED.search(text):
        return _shares(w, remainder=False)
    if CHANGE.search(text):
        return _change(w)
    return None


def _stated_amount(text: str) -> Quantity | None:
    stated = [q for q in find_quantities(text) if q.kind == "money" and (q.value or q.low) and (q.value or 0) != 1]
    return stated[0] if stated else None


def _conversion(w: Work, target: str) -> Answer | None:
    """Convert an amount (stated in the question, or the one the question asks about) into ``target``."""
    assert w.ev is not None
    stated = _stated_amount(w.q.text)
    if stated is not None and stated.currency and stated.currency != target:
        value = (stated.value or stated.low or 0.0, stated.value or stated.high or 0.0)
        return _convert(w, stated, value, stated.currency, target, stated.text, [])
    for s in w.ev.top(READ):
        for q in s.parsed.quantities:
            if q.kind == "money" and q.currency and q.currency != target:
                pair = next(((a, b) for a, b in _pairs(s) if q in (a, b)), None)
                if pair and any(x.currency == target for x in pair):
                    other = pair[1] if pair[0] is q else pair[0]
                    text = f"{other.text}, as the documents state it ({q.text})"
                    return w.answer(finish(text, w.cites.marks([s])), kind="conversion")
                value = (q.value or q.low or 0.0, q.value or q.high or 0.0)
                return _convert(w, q, value, q.currency, target, q.text, [s])
    return None
