"""Averages per day, week or hour: a total the documents give for a period, divided by its length.

"How many crates did X deliver per day in November?" against "X delivered 9,000 crates in
November" is ``9,000 ÷ 30 days``. The period's length comes from the calendar (the days of the
month the sentence or question names, of its year when one is given); the division is recorded as a
tool call like every other computed figure, so the numeric guard sees the 30 and the result.
"""

from __future__ import annotations

import calendar
import re
from typing import TYPE_CHECKING

from bot.engine.exchange import money_text
from bot.engine.extract import candidates
from bot.engine.operands import UNNAMED_YEAR, fmt, record
from bot.engine.phrase import finish
from bot.language.tokens import is_month

if TYPE_CHECKING:
    from bot.engine.evidence import Sentence
    from bot.engine.work import Work
    from bot.models import Answer

PER_PERIOD = re.compile(r"\b(?:per|a|each|every)\s+(day|week|hour)\b|\b(daily|weekly|hourly)\b", re.I)
"""Questions asking for an average over a shorter unit than the period a total is given for."""
UNIT_DAYS = {"day": 1, "daily": 1, "week": 7, "weekly": 7, "hour": 1 / 24, "hourly": 1 / 24}
_UNIT_NOUN = {"daily": "day", "weekly": "week", "hourly": "hour"}
_MONTH_NUMBER = {name.lower(): k for k, name in enumerate(calendar.month_name) if name} | {
    name.lower(): k for k, name in enumerate(calendar.month_abbr) if name
}
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_QUARTER = re.compile(r"\b(?:the\s+)?(?:(first|second|third|fourth)\s+)?quarter\b", re.I)
_QUARTER_MONTHS = {"first": (1, 2, 3), "second": (4, 5, 6), "third": (7, 8, 9), "fourth": (10, 11, 12)}


def wants_average(text: str) -> str | None:
    """The unit a question asks an average per ("day" for "per day", "daily"), or None."""
    m = PER_PERIOD.search(text)
    if not m:
        return None
    word = (m.group(1) or m.group(2)).lower()
    return _UNIT_NOUN.get(word, word)


def period_days(text: str) -> tuple[int, str] | None:
    """The length in days of the month or quarter a text names, and how to say it ("November")."""
    years = [int(y) for y in _YEAR.findall(text)]
    year = years[0] if years else UNNAMED_YEAR
    for word in re.findall(r"[A-Za-z]+", text):
        if is_month(word.lower()) and (word[0].isupper() or word.lower() != "may"):
            month = _MONTH_NUMBER.get(word.lower()[:3]) or _MONTH_NUMBER.get(word.lower())
            if month:
                return calendar.monthrange(year, month)[1], word
    m = _QUARTER.search(text)
    if m:
        months = _QUARTER_MONTHS.get((m.group(1) or "").lower(), (1, 2, 3))
        return sum(calendar.monthrange(year, k)[1] for k in months), m.group(0).strip()
    return None


NEAR_CHARS = 40
"""Characters after a figure in which its own period is written ("9,000 crates in November")."""


def average(w: Work, per: str, sentences: list[Sentence]) -> Answer | None:
    """The asked total divided by its period's length in ``per`` units, or None when the evidence lacks either."""
    found = [c for c in candidates(w.q, sentences) if c.kind == "quantity" and c.quantity is not None]
    asked = period_days(w.q.text)
    for c in found[:3]:
        qt = c.quantity
        assert qt is not None
        text = c.sentence.record.text
        at = c.end - c.sentence.record.start
        own = period_days(text[at : at + NEAR_CHARS])
        if own is not None and asked is not None and own[1].lower() != asked[1].lower():
            continue  # the figure of another month or quarter
        period = own or asked or period_days(c.sentence.text)
        if qt.value is None or period is None or qt.kind not in ("count", "money"):
            continue
        days, named = period
        units = days / UNIT_DAYS[per]
        result = record(w, f"{qt.value:g} / {units:g}")
        if result is None:
            return None
        shown = fmt(round(result)) if abs(result) >= 100 else fmt(round(result, 1))
        if qt.kind == "money":
            shown = money_text(result, qt)
        noun = " ".join(t.text for t in qt.tokens if t.kind == "word" and not t.text[0].isdigit())
        noun = f" {noun}" if noun and qt.kind == "count" else ""
        length = f"{fmt(units)} {per}s in {named}" if per != "day" else f"{days} days in {named}"
        answer = f"About {shown}{noun} a {per}: {qt.text} ÷ {length}"
        return w.answer(finish(answer, w.cites.marks([c.sentence])), kind="derived")
    return None
