"""Derived figures: valuations, conversions, changes, range statistics, combined and remaining shares.

Each is computed from quantities of the evidence (never from outside knowledge) with the formula in
the answer: an implied valuation is a price over the stake it bought (``11.5 billion yuan ÷ 10% = 115
billion yuan``); a conversion uses only an exchange rate the documents themselves imply, from an amount
stated in two currencies side by side ("200,000 yuan (about 28,296 U.S. dollars)"); a change reads a
"from X to Y" / "X, up from Y" pair. The trigger words are data at the top of this module.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.engine.evidence import Sentence, gather
from bot.engine.exchange import (
    RATE_Q,
    conversion,
    convert,
    currencies_in,
    money_text,
    rate_answer,
    stated_amount,
    target_currency,
)
from bot.engine.extract_numbers import split_changes
from bot.engine.operands import READ, Found, answer, fmt, locate, record
from bot.engine.per_period import average, wants_average
from bot.engine.phrase import finish
from bot.language.quantities import CURRENCY_NAMES, NUMBER_WORDS, SCALES, Quantity
from bot.language.tokens import key

if TYPE_CHECKING:
    from bot.engine.work import Work
    from bot.models import Answer

VALUATION = re.compile(r"\b(valuation|valued?|worth|impl(?:y|ies|ied)|value)\b", re.I)
PER_POINT = re.compile(r"\b(?:per|each|every|a)\s+(?:single\s+)?(?:percentage\s+point|percent|point)\b", re.I)
COMBINED = re.compile(r"\b(combined|together|in total|altogether|jointly)\b", re.I)
REMAINDER = re.compile(r"\b(other than|besides|apart from|excluding|the rest|remaining|remainder)\b", re.I)
CHANGE = re.compile(
    r"\b(grow(?:th|n)?|grew|increase[ds]?|rise|rose|gain(?:ed)?|change[ds]?|add(?:ed)?|"
    r"fall|fell|drop(?:ped)?|decline[ds]?|decrease[ds]?|shr[ai]nk|cut|now than before|than (?:before|previously))\b",
    re.I,
)
PERCENT_Q = re.compile(r"\b(percent(?:age)?|%|share)\b", re.I)
RANGE_WIDTH = re.compile(r"\b(wide|width|spread|span)\b", re.I)
RANGE_MID = re.compile(r"\b(midpoint|middle|mid-point|centre|center)\b", re.I)


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
        return convert(w, m, (value, value), m.currency, target, shown, [s])
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


_NAME = r"([A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)"
_IN_NAME = re.compile(rf"\b(?:in|into)\s+{_NAME}")
_LISTED = re.compile(r"\s*(?:,|and\b)\s*[A-Z]")
_SHARE_OF_NAME = re.compile(rf"\b(?:percent|percentage|share|stake|portion|part|proportion|fraction)\s+of\s+{_NAME}")


def _objects(w: Work) -> list[str]:
    """Names the question asks *about* rather than as holders ("stake ... in Yinwang", "percent of Yinwang").

    "of" names the whole only when no "in" does and it names one: in "the combined stake of Changan and Seres in
    Yinwang" and "the combined share of Changan and Seres" the names after "of" hold the stakes.
    """
    if len(w.q.names) < 2:
        return []
    inside = [x for x in _IN_NAME.findall(w.q.text) if x in w.q.names]
    if inside:
        return inside
    wholes = []
    for m in _SHARE_OF_NAME.finditer(w.q.text):
        if m.group(1) in w.q.names and not _LISTED.match(w.q.text, m.end()):
            wholes.append(m.group(1))  # "the share of A and B" lists holders: a whole is one name
    return wholes


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
    per = wants_average(text) if w.q.atype in ("count", "amount", "money") else None
    wants = per or (
        (VALUATION.search(text) and not RANGE_WIDTH.search(text)) or PER_POINT.search(text) or target or
        (RATE_Q.search(text) and len(codes) >= 2) or COMBINED.search(text) or REMAINDER.search(text) or
        RANGE_WIDTH.search(text) or RANGE_MID.search(text) or
        (CHANGE.search(text) and (w.q.numeric or PERCENT_Q.search(text))) or
        (COMPARE.search(text) and len(w.q.names) >= 2)
    )  # fmt: skip
    if not wants:
        return None
    w.ev = gather(w.index, w.q, w.resolved.query, w.resolved.extra_terms, w.resolved.near, chunks=6)
    if RATE_Q.search(text) and len(codes) >= 2 and not stated_amount(text):
        return rate_answer(w, codes)
    if PER_POINT.search(text):
        return _valuation(w, per_point=True)
    if per:
        return average(w, per, w.ev.top(READ))
    if VALUATION.search(text) and (w.q.atype in ("money", "entity", "other", "amount") or target):
        result = _valuation(w, per_point=False)
        if result is not None:
            return result
    if RANGE_WIDTH.search(text) or RANGE_MID.search(text):
        return _range_stat(w)
    if target:
        return conversion(w, target)
    if COMPARE.search(text) and len(w.q.names) >= 2:
        return _compare(w)
    if REMAINDER.search(text):
        return _shares(w, remainder=True)
    if COMBINED.search(text):
        return _shares(w, remainder=False)
    if CHANGE.search(text):
        return _change(w)
    return None
