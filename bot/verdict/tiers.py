"""How sure an answer is said: ``sure``, ``likely`` or ``abstain``, and the words for each.

* ``sure`` - stated plainly: ``Dongfeng [1].``
* ``likely`` - a hedged guess that says so and quotes its passage:
  ``Probably Dongfeng [1] — the passage: “…”.``
* ``abstain`` - not answered; the closest passage is quoted:
  ``I can't tell for sure from the documents. The closest passage [1]: “…”.``
  An answer with no evidence at all keeps its refusal ("The documents do not say ...").

The tier follows from the calibrated confidence and two thresholds (settings ``BOT_SURE_CONFIDENCE`` and
``BOT_LIKELY_CONFIDENCE``); the words never depend on the engine, so every engine reads alike.
"""

from __future__ import annotations

import re

from bot.engine.phrase import ABSTAIN_LEAD
from bot.models import Answer, Assertion, Citation

QUOTE_CHARS = 320
"""A quoted passage longer than this is cut to a window around the answer's span."""
HEDGE = "Probably"
_MARKS = re.compile(r"\[(\d+)\]")


TIER_LINES = {"sure": "Sure", "likely": "Likely (a guess)", "abstain": "Not sure"}
"""How each tier is named in plain text (the CLI's line under an answer, the UI's copy text)."""


def tier_line(answer: Answer | dict) -> str:
    """The tier and confidence in plain text: ``Likely (a guess) · confidence 61%``."""
    a = answer.model_dump() if isinstance(answer, Answer) else answer
    level = "abstain" if a.get("refused") else a.get("assertion", "sure")
    return f"{TIER_LINES.get(level, level)} · confidence {float(a.get('confidence') or 0):.0%}"


def tier(confidence: float, sure_at: float, likely_at: float) -> Assertion:
    """The assertion a confidence earns: ``sure`` at ``sure_at`` or above, ``likely`` at ``likely_at`` or above."""
    if confidence >= sure_at:
        return "sure"
    if confidence >= likely_at:
        return "likely"
    return "abstain"


def excerpt(c: Citation, limit: int = QUOTE_CHARS) -> str:
    """The quote of a citation, cut to about ``limit`` characters around the answer's span when longer."""
    text = " ".join(c.quote.split()) if len(c.quote) <= limit else c.quote
    if len(text) <= limit:
        return text
    if c.answer_start is not None and c.answer_end is not None:
        mid = (c.answer_start + c.answer_end) // 2 - c.start
    else:
        mid = 0
    lo = max(0, min(mid - limit // 2, len(text) - limit))
    hi = lo + limit
    if lo > 0:
        lo = text.find(" ", lo) + 1 or lo
    if hi < len(text):
        hi = text.rfind(" ", lo, hi) if text.rfind(" ", lo, hi) > lo else hi
    body = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + body + ("…" if hi < len(text) else "")


def cited(text: str, citations: list[Citation]) -> list[Citation]:
    """The citations a text's ``[n]`` markers point at, in marker order."""
    by_n = {c.n: c for c in citations}
    out: list[Citation] = []
    for m in _MARKS.finditer(text):
        c = by_n.get(int(m.group(1)))
        if c is not None and c not in out:
            out.append(c)
    return out


def passages(citations: list[Citation]) -> str:
    """``[1]: “…”`` for one passage, ``[1] “…”; [2] “…”`` for several."""
    if len(citations) == 1:
        return f"[{citations[0].n}]: “{excerpt(citations[0])}”"
    return "; ".join(f"[{c.n}] “{excerpt(c)}”" for c in citations)


def hedged(claim: str, citations: list[Citation]) -> str:
    """A likely answer: ``Probably <claim> [1] — the passage: “…”.``."""
    body = claim.strip().rstrip(".")
    shown = cited(body, citations) or citations[:1]
    if not shown:
        return f"{HEDGE} {_lower_first(body, citations)} (no passage to show)."
    noun = "the passage" if len(shown) == 1 else "the passages"
    quotes = passages(shown)
    quotes = quotes.removeprefix(f"[{shown[0].n}]: ") if len(shown) == 1 else quotes
    return f"{HEDGE} {_lower_first(body, shown)} — {noun}: {quotes}."


def abstention(citations: list[Citation]) -> str:
    """An abstention: ``I can't tell for sure from the documents. The closest passage [1]: “…”.``."""
    if not citations:
        return ABSTAIN_LEAD
    first = citations[:1]
    return f"{ABSTAIN_LEAD} The closest passage {passages(first)}."


def _lower_first(text: str, citations: list[Citation]) -> str:
    """Lower-case an opening capital that only starts the sentence ("At the county court" after "Probably").

    It is lowered when it is yes/no or a cited passage writes it in lower case; a name keeps its capital.
    """
    word = text.split(" ", 1)[0]
    if not (word[:1].isupper() and word[1:] == word[1:].lower()):
        return text  # "GAC", "iPhone", a number: as written
    low = word.lower()
    quotes = " ".join(c.quote for c in citations)
    if low in ("yes", "no") or re.search(rf"\b{re.escape(low)}\b", quotes):  # case-sensitive: written in lower case
        return low + text[len(word) :]
    return text


_LAST_MARK = re.compile(r"\[(\d+)\]\.?\s*$")


def quote_refusal(text: str, citations: list[Citation]) -> str:
    """A refusal ending on a marker (``The closest passage [1].``) with that passage quoted after it."""
    m = _LAST_MARK.search(text)
    by_n = {c.n: c for c in citations}
    if m is None or int(m.group(1)) not in by_n or "“" in text:
        return text
    return f"{text[: m.start()]}[{m.group(1)}]: “{excerpt(by_n[int(m.group(1))])}”."


def settle(answer: Answer, confidence: float, sure_at: float, likely_at: float, ceiling: Assertion = "sure") -> Answer:
    """Give an answer its confidence and tier, and say it the way that tier is said.

    A refusal without a claim (nothing found) keeps its words and is an abstention with confidence 0.

    Args:
        answer: The engine's answer, stated as if sure (its ``text`` is the claim).
        confidence: The calibrated probability that the claim is right.
        sure_at: Confidence from which the claim is stated plainly.
        likely_at: Confidence from which the claim is given as a hedged guess.
        ceiling: The best tier a rule allows (``likely``: never stated plainly, whatever the confidence).

    Returns:
        A copy with ``confidence``, ``assertion``, ``claim`` and ``text`` set.

    """
    if answer.refused:
        text = quote_refusal(answer.text, answer.citations)
        return answer.model_copy(update={"confidence": 0.0, "assertion": "abstain", "text": text})
    claim = answer.text
    level = tier(confidence, sure_at, likely_at)
    if level == "sure" and ceiling != "sure":
        level = ceiling
    if level == "sure":
        text = claim
    elif level == "likely":
        text = hedged(claim, answer.citations)
    else:
        text = abstention(cited(claim, answer.citations) or answer.citations)
    return answer.model_copy(
        update={
            "confidence": round(float(confidence), 4),
            "assertion": level,
            "claim": claim,
            "text": text,
            "refused": level == "abstain",
        }
    )


def below_sure(confidence: float, sure_at: float, likely_at: float) -> float:
    """``confidence`` kept just under ``sure_at``, for an answer a rule never lets be stated plainly.

    The tier alone would say so (``settle``'s ``ceiling``); the number is lowered too, so a reader never sees
    a "likely" answer with a confidence the thresholds call sure. Unchanged when the thresholds leave no room.
    """
    return min(confidence, sure_at - 1e-4) if sure_at > likely_at else confidence


def disputed(answer: Answer, confidence: float, sure_at: float, likely_at: float) -> Answer:
    """An answer reporting that the documents disagree: never stated plainly (at most ``likely``).

    Said as it is, with each value's passage quoted: ``The documents disagree: 81,864 vehicles [1] and 42
    vehicles [2] — the passages: [1] “…”; [2] “…”.``; below ``likely_at`` it abstains like any answer.
    The confidence (the verdict's rating of the best value) is kept below ``sure_at``.
    """
    said = settle(answer, max(below_sure(confidence, sure_at, likely_at), 0.0), sure_at, likely_at, ceiling="likely")
    if said.assertion != "likely":
        return said
    shown = cited(answer.text, answer.citations)
    text = f"{answer.text.rstrip('.')} — the passages: {passages(shown)}." if len(shown) > 1 else answer.text
    return said.model_copy(update={"text": text})
