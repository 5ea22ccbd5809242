"""Small readings of a question's wording: its stranded preposition, either/or options, summary scope, acronym.

Used by :func:`bot.engine.question.analyse`; each reads the question's text or words only.
"""

from __future__ import annotations

import re

from bot.language.chunks import PREPOSITIONS
from bot.language.tokens import Token

__all__ = ["acronym_asked", "either_or", "stranded_preposition", "summary_scope_of"]


def stranded_preposition(words: list[Token]) -> str | None:
    """The preposition a question ends with ("What was the flat near?" -> "near"), or None.

    Such a question asks for that preposition's object. "of" is left out: in a sentence it mostly joins two
    nouns ("the rise of mobile devices"), so what follows it is rarely the asked object.
    """
    if len(words) >= 3 and words[-1].low in PREPOSITIONS and words[-1].low != "of":
        return words[-1].low
    return None


_OPTIONS_RE = re.compile(
    r"\b(?:is|are|was|were|did|does|do|will|would|has|have|had)\b.*?\b([\w' -]+?)\s+or\s+([\w' -]+?)\s*\??$",
    re.IGNORECASE,
)


def either_or(text: str) -> list[str]:
    """The two options of an either/or question ("Is it X or Y?")."""
    m = _OPTIONS_RE.search(text.strip())
    if not m:
        return []
    a, b = m.group(1).split()[-3:], m.group(2).split()[:3]
    return [" ".join(a), " ".join(b)]


def summary_scope_of(text: str) -> str:
    """What a summary request is about ("Summarise the part about X" -> "X"); empty for the whole text."""
    m = re.search(r"\b(?:about|on|of|regarding)\s+(.+?)\s*[?.!]*$", text, re.IGNORECASE)
    if not m or re.fullmatch(r"(?:the |this )?(?:document|article|text|report|story|passage)s?", m.group(1), re.I):
        return ""
    return m.group(1)


_ABBR = r"([A-Z][A-Za-z0-9.&-]{1,12})"
_ACRONYM_RE = re.compile(
    rf"\bwhat (?:does|do|did) {_ABBR} (?:stand|stands) for\b|\b{_ABBR} (?:is|was) short for\b|\bfull name of {_ABBR}\b",
    re.IGNORECASE,
)


def acronym_asked(text: str) -> str:
    """The abbreviation a question asks to spell out ("What does HIMA stand for?" -> "HIMA"), or an empty string."""
    m = _ACRONYM_RE.search(text)
    return next((g for g in m.groups() if g), "") if m else ""
