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

from bot.models import Answer, Assertion, Citation

QUOTE_CHARS = 320
"""A quoted passage longer than this is cut to a window around the answer's span."""
ABSTAIN_LEAD = "I can't tell for sure from the documents."
HEDGE = "Probably"
_MARKS = re.compile(r"\[(\d+)\]")


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
        return f"{HEDGE} {_lower_first(body)} (no passage to show)."
    noun = "the passage" if len(shown) == 1 else "the passages"
    quotes = passages(shown)
    quotes = quotes.removeprefix(f"[{shown[0].n}]: ") if len(shown) == 1 else quotes
    return f"{HEDGE} {_lower_first(body)} — {noun}: {quotes}."


def abstention(citations: list[Citation]) -> str:
    """An abstention: ``I can't tell for sure from the documents. The closest passage [1]: “…”.``."""
    if not citations:
        return ABSTAIN_LEAD
    first = citations[:1]
    return f"{ABSTAIN_LEAD} The closest passage {passages(first)}."


def _lower_first(text: str) -> str:
    """Lower-case an opening capital that only starts the sentence ("Yes" -> "yes"), not a name ("GAC")."""
    word = text.split(" ", 1)[0]
    if word[:1].isupper() and word[1:].islower() and word.lower() in {"yes", "no", "the", "a", "an", "about"}:
        return text[:1].lower() + text[1:]
    return text


def settle(answer: Answer, confidence: float, sure_at: float, likely_at: float) -> Answer:
    """Give an answer its confidence and tier, and say it the way that tier is said.

    A refusal without a claim (nothing found) keeps its words and is an abstention with confidence 0.

    Args:
        answer: The engine's answer, stated as if sure (its ``text`` is the claim).
        confidence: The calibrated probability that the claim is right.
        sure_at: Confidence from which the claim is stated plainly.
        likely_at: Confidence from which the claim is given as a hedged guess.

    Returns:
        A copy with ``confidence``, ``assertion``, ``claim`` and ``text`` set.

    """
    if answer.refused:
        return answer.model_copy(update={"confidence": 0.0, "assertion": "abstain", "claim": answer.claim})
    claim = answer.text
    level = tier(confidence, sure_at, likely_at)
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
