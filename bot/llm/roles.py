"""The roles of numbers: a figure keeps the role its source gives it.

A percentage stays a percentage and an amount of money stays money; a question about a price or a share is
answered by a number that *is* a price or a share in the sources (a stake is not a price); a figure given for a
named party must be about that party in its source ("Seres paid 11.5 billion yuan" when that is Changan's
figure fails); a year is no length of time, and a figure of one month or quarter is no figure of another.
Used by :func:`bot.llm.check.check_reply`.
"""

from __future__ import annotations

import re
from typing import Any

from bot.guard import NumberMention, backs, extract_numbers
from bot.llm.evidence import NUMERIC_TYPES
from bot.models import Citation

__all__ = ["asked_kind", "number_kind", "role_problem"]

_CURRENCY_WORDS = (
    r"yuan|renminbi|rmb|cny|usd|eur|gbp|jpy|sek|nok|dkk|chf|dollars?|euros?|pounds?|yen|francs?|kronor|krona|"
    r"kroner|krone|won|rupees?|rubles?|roubles?|pesos?|reais|real"
)
_MONEY_AFTER = re.compile(
    rf"^\s*(?:(?:thousand|million|billion|trillion)\s+)?(?:u\.?s\.?\s+)?(?:{_CURRENCY_WORDS})\b", re.I
)
_MONEY_BEFORE = re.compile(rf"(?:[$€£¥]|\b(?:us\$|{_CURRENCY_WORDS}))\s*$", re.I)
_PERCENT = re.compile(r"%|per\s?cent|percentage\s+points?|pct", re.I)
_PERCENT_AFTER = re.compile(r"^\s*(?:%|per\s?cent\b|percentage\b|pct\b)", re.I)
_YEAR = re.compile(r"^(?:1[0-9]{3}|20[0-9]{2})$")

_ASK_PERCENT = re.compile(r"\b(?:percent(?:age)?|per\s+cent|share|stake|proportion|fraction|ownership)\b", re.I)
_ASKS_FOR_SHARE = re.compile(
    r"^\W*(?:and\s+)?(?:what|which|how\s+(?:big|large))\s+(?:a\s+)?(?:percent(?:age)?|share|stake|proportion|fraction)\b",
    re.I,
)
_ASK_MONEY = re.compile(
    rf"\b(?:price[sd]?|cost[s]?|pa(?:y|id|ys)|spen[dt]|invest(?:ed|s|ment)?|worth|valu(?:e|ed|ation)|revenue|"
    rf"salary|fee[s]?|fund(?:ing|ed)?|raised?|sold\s+for|how\s+much\s+money|{_CURRENCY_WORDS})\b",
    re.I,
)
_HOW_LONG = re.compile(r"\bhow\s+(?:many\s+(?:years|decades|centuries|months)|long|old)\b", re.I)
_PERIOD_RE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December|Q[1-4])\b"
    r"|\b(?i:first|second|third|fourth)\s+(?i:quarter)\b"
)
"""Months and quarters: a figure for one is not a figure for another."""


def number_kind(text: str, mention: NumberMention) -> str:
    """The role of a number from its wording: ``percent``, ``money``, ``year`` or ``plain``."""
    end = mention.start + len(mention.text)
    after, before = text[end : end + 30], text[max(0, mention.start - 8) : mention.start]
    if _PERCENT.search(mention.text) or _PERCENT_AFTER.match(after):
        return "percent"
    if _MONEY_BEFORE.search(before) or _MONEY_AFTER.match(after):
        return "money"
    if _YEAR.match(mention.text):
        return "year"
    return "plain"


def asked_kind(question: str, answer_type: str) -> str | None:
    """The role the asked figure must have in the sources (``percent``, ``money``), if the question says."""
    if answer_type not in NUMERIC_TYPES:
        return None
    if answer_type == "percent" or _ASKS_FOR_SHARE.search(question):
        return "percent"
    if answer_type == "money" or _ASK_MONEY.search(question):
        return "money"  # "how much did X pay for its stake" asks for money, not for the stake
    if _ASK_PERCENT.search(question):
        return "percent"
    return None


_NAME_RE = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'’.-]*)*")
_NOT_NAME_WORDS = (
    "how what which who whom whose when where why is are was were do does did can could has have had will would "
    "should the a an and or in on of for to by at from as it its they their this that these those there "
    # periods are when a figure holds, not whom it is about
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday q1 q2 q3 q4"
)
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())


def _names(text: str) -> list[str]:
    out = []
    for m in _NAME_RE.finditer(text):
        words = [re.sub(r"['’]s?$", "", w) for w in m.group(0).split() if w.lower() not in _NOT_NAMES]
        if words:
            out.append(" ".join(words))
    return out


def _asked_names(question: str, reply: str) -> list[str]:
    """Names of the question that the reply repeats (what its figures are claimed to be about)."""
    low = reply.lower()
    return [n for n in dict.fromkeys(_names(question)) if n.lower() in low]


def _whose(text: str, claim: NumberMention, names: list[str]) -> list[str]:
    """The asked name a reply states a figure for: the last one before the figure in its sentence, if any."""
    start = max(text.rfind(p, 0, claim.start) for p in (". ", "? ", "! ", "\n")) + 1
    before = text[start : claim.start].lower()
    found = [(m.start(), n) for n in names for m in re.finditer(r"(?<!\w)" + re.escape(n.lower()) + r"(?!\w)", before)]
    return [max(found)[1]] if found else []


def _about(quote: str, mention: NumberMention, names: list[str]) -> bool:
    """Whether a number of the evidence is about one of the names.

    That is: a name comes before it in its sentence, or right after it in the same clause ("a 45-yard run by X").
    """
    start = max(quote.rfind(p, 0, mention.start) for p in (". ", "? ", "! ", "\n")) + 1
    end = mention.start + len(mention.text)
    stop = min([i for i in (quote.find(p, end) for p in (",", ";", ". ", " and ")) if i >= 0] or [len(quote)])
    before, after = quote[start : mention.start].lower(), quote[end:stop].lower()
    return any(_mentions(part, name) for name in names for part in (before, after))


def _mentions(text: str, name: str) -> bool:
    name = name.lower()
    if re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text):
        return True
    return any(re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", text) for w in name.split() if len(w) > 3)


def role_problem(
    text: str,
    claims: list[NumberMention],
    cited: list[Citation],
    trusted: list[Any],
    question: str,
    answer_type: str,
    tool_numbers: list[NumberMention],
) -> str | None:
    """Why a number of the reply does not keep the role its source gives it (None when all do)."""
    sources = [(c.quote, m) for c in cited for m in extract_numbers(c.quote, references=False, small_words=True)]
    roles: list[set[str]] = []
    for claim in claims:
        claimed = number_kind(text, claim)
        found = {number_kind(quote, m) for quote, m in sources if backs(m, claim)}
        by_tool = any(backs(m, claim) for m in tool_numbers)
        roles.append(found | ({"tool"} if by_tool else set()))
        if by_tool or not found:
            continue
        if claimed in ("percent", "money") and claimed not in found:
            return f"{claim.text} is a {claimed} figure in the answer but not in the cited evidence"
        if claimed == "plain" and found <= {"percent"}:
            return f"{claim.text} is a percentage in the cited evidence, not a count or amount"
    if answer_type in NUMERIC_TYPES and (names := _asked_names(question, text)):
        for claim in claims:
            if number_kind(text, claim) == "year":
                continue  # a year says when, not whose
            backing = [(quote, m) for quote, m in sources if backs(m, claim)]
            whose = _whose(text, claim, names)  # "Seres paid 11.5 billion yuan ...": the figure is claimed for Seres
            if backing and not any(_about(quote, m, whose or names) for quote, m in backing):
                return f"{claim.text} is not a figure about {(whose or names)[0]} in the cited evidence"
    if claims and _HOW_LONG.search(question) and all(number_kind(text, c) == "year" for c in claims):
        return f"{claims[0].text} is a year, and the question asks for a length of time"
    asked_periods = {p.lower() for p in _PERIOD_RE.findall(question)}
    if asked_periods:
        for claim in claims:
            backing = [quote for quote, m in sources if backs(m, claim)]
            stated = [{p.lower() for p in _PERIOD_RE.findall(quote)} for quote in backing]
            if backing and all(st and not (st & asked_periods) for st in stated):
                return (
                    f"{claim.text} is a figure for {', '.join(sorted(stated[0]))} in the cited evidence, not for "
                    + (", ".join(sorted(asked_periods)))
                )
    want = asked_kind(question, answer_type)
    if want and claims and not any(want in r or "tool" in r for r in roles):
        got = ", ".join(c.text for c in claims)
        return f"the question asks for a {want} figure, and {got} is not one in the cited evidence"
    return None
