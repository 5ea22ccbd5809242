"""How a generative reply becomes the final answer: one rule for every engine (``local``, ``openai``, ``llamacpp``).

The grounded answer has already been assessed (:func:`bot.verdict.assess`: its confidence and tier). Then

* a reply that **fails a check** (guards, markers, numbers, a timeout, a backend error ...) is replaced by the
  grounded answer when that one is ``sure`` (engine ``<engine>→grounded (<reason>)``). Otherwise the question is
  not answered: the closest passage is quoted (engine ``<engine> (rejected: <reason>)``) - an unsure grounded claim
  is never stated in its place. A grounded refusal (nothing found) stays the refusal;
* a reply that **refuses** ("The documents do not say") gives way to a sure grounded answer, is the refusal when
  the grounded engine found nothing either, and otherwise abstains with the passage as above;
* a reply that **passes** takes the grounded confidence when it agrees with the grounded claim
  (:func:`agrees`), else :data:`UNCONFIRMED`, and is said the way its tier is said
  (:func:`bot.verdict.tiers.settle`): plainly, hedged with its passage, or withheld.

The flag of a rejected reply is kept in ``Answer.flags``, with what was shown instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.evaluate.matching import text_match
from bot.llm.common import fallback
from bot.models import Answer, Citation
from bot.verdict.tiers import abstention, below_sure, cited, settle

__all__ = ["UNCONFIRMED", "Rejected", "agrees", "claim_answer", "conclude", "conclude_auto"]

UNCONFIRMED = 0.5
"""Confidence of a checked reply that the grounded claim does not confirm (or when there is no grounded claim).

A provisional prior, not a calibrated value: a later issue replaces it with a learned combination of the
reply's and the grounded answer's signals."""

_QUOTED = re.compile(r"“[^”]*”?|\"[^\"]*\"?|«[^»]*»?")
_MARKS = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_FORMULA = re.compile(r"[−÷×+*/=]|\s-\s")
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.I)
_SHOWN = "Showing the grounded answer."
_WITHHELD = "The grounded answer is not sure either, so the question is left unanswered and the closest passage shown."


@dataclass(frozen=True)
class Rejected:
    """A generative reply that failed a check, or a generation that failed."""

    reason: str
    """Short name of what failed (shown in ``Answer.engine``): ``numeric guard``, ``timeout`` ..."""
    note: str
    """What was wrong, in a sentence (kept in ``Answer.flags``)."""


def _own(text: str) -> str:
    """The words a text says itself: no quoted passages, no ``[n]`` markers."""
    said = " ".join(_MARKS.sub(" ", _QUOTED.sub(" ", text)).split())
    return re.sub(r"\s+([.,;:!?])", r"\1", said)


def claim_answer(claim: str) -> str:
    """The answer a grounded claim states: its own words, without markers, quotes or the formula of a computation.

    Example:
        >>> claim_answer("28 years: 1640 − 1612 [1][2].")
        '28 years'
        >>> claim_answer("3: Arden, Lune and Calder [1].")
        '3: Arden, Lune and Calder.'

    """
    text = _own(re.split(r"\n\s*\n", claim.strip(), maxsplit=1)[0])
    head, sep, tail = text.partition(": ")
    if sep and _FORMULA.search(tail):
        return head.strip()
    return text


def agrees(reply: str, claim: str | None) -> bool:
    """Whether a reply's own words state the grounded claim's answer.

    Numbers must all appear within the tolerance of :func:`bot.evaluate.matching.text_match` (the writer's
    rounding, 1%), with any currency the claim names; other claims need half their content words; a yes/no
    claim needs the same yes or no. Quoted passages and ``[n]`` markers do not count.

    Args:
        reply: The reply's text.
        claim: The grounded claim (``Answer.claim``), or None when the grounded engine found nothing.

    Returns:
        True when the reply says what the grounded claim says.

    Example:
        >>> agrees("HIMA delivered about 82,000 vehicles in November [1].", "81,864 vehicles [1].")
        True
        >>> agrees("HIMA delivered 95,000 vehicles [1].", "81,864 vehicles [1].")
        False

    """
    if not claim:
        return False
    said, wanted = _own(reply), claim_answer(claim)
    if not said or not wanted:
        return False
    if polarity := _YES_NO.match(wanted):
        answer = _YES_NO.match(said)
        return answer is not None and answer.group(1).lower() == polarity.group(1).lower()
    return text_match(wanted, said)


def _claim(grounded: Answer) -> str | None:
    """The grounded claim; an answer that was never assessed (no ``claim``) claims its text unless it refused."""
    if grounded.claim:
        return grounded.claim
    return None if grounded.refused else grounded.text


def _is_sure(grounded: Answer) -> bool:
    return grounded.assertion == "sure" and not grounded.refused


def _unanswered(grounded: Answer, engine: str, reason: str, note: str, evidence: Sequence[Citation]) -> Answer:
    """What is shown when the reply can't be: the grounded answer if sure (or its refusal), else the passage."""
    claim = _claim(grounded)
    if _is_sure(grounded) or claim is None:
        return fallback(grounded, engine, reason, f"{note} {_SHOWN}")
    passage = cited(claim, grounded.citations) or grounded.citations or list(evidence[:1])
    return grounded.model_copy(
        update={
            "text": abstention(passage[:1]),
            "citations": grounded.citations or passage[:1],
            "refused": True,
            "assertion": "abstain",
            "claim": claim,
            "engine": f"{engine} (rejected: {reason})",
            "flags": [*grounded.flags, f"{note} {_WITHHELD}"],
        }
    )


def conclude(
    grounded: Answer,
    reply: Answer | Rejected,
    settings: Any,
    *,
    engine: str,
    evidence: Sequence[Citation] = (),
) -> Answer:
    """The final answer of a generative engine, from its checked reply and the assessed grounded answer.

    Args:
        grounded: The grounded answer with its confidence and tier (:func:`bot.verdict.assess`).
        reply: The reply that passed its checks (``refused`` when it says the documents do not say), or why
            there is none.
        settings: The settings (``sure_confidence``, ``likely_confidence``).
        engine: The engine's name (``local``, ``openai``, ``llamacpp``).
        evidence: The evidence the reply was written from, closest first: the passage to quote when the
            grounded answer has no citation of its own.

    Returns:
        The answer to show, with ``confidence``, ``assertion`` and ``claim`` filled.

    """
    if isinstance(reply, Rejected):
        return _unanswered(grounded, engine, reply.reason, reply.note, evidence)
    claim = _claim(grounded)
    if reply.refused:
        if claim is None:  # neither found an answer: the refusal
            return grounded.model_copy(
                update={"engine": engine, "refused": True, "assertion": "abstain", "confidence": 0.0}
            )
        return _unanswered(
            grounded, engine, "no answer", f"The {engine} model found no answer in the evidence.", evidence
        )
    agreed = agrees(reply.text, claim)
    confidence = grounded.confidence if agreed else UNCONFIRMED
    said = settle(
        reply.model_copy(update={"engine": engine}), confidence, settings.sure_confidence, settings.likely_confidence
    )
    return said.model_copy(
        update={"signals": {"agrees": float(agreed), "grounded_confidence": float(grounded.confidence)}}
    )


def conclude_auto(
    grounded: Answer,
    reply: Answer | Rejected,
    settings: Any,
    *,
    evidence: Sequence[Citation] = (),
    model: Any = None,
) -> Answer:
    """The ``auto`` engine's answer: the grounded answer and the reader's reply checked against each other.

    Both agree and the reply passed its checks: the reply (the grounded wording when the value is computed, so
    its formula shows), as sure as the combined model says. Only one has a
    verified answer, or they disagree: the better-supported one, at best hedged (``likely``). Neither: the
    grounded refusal, or an abstention that quotes the closest passage.

    Args:
        grounded: The assessed grounded answer.
        reply: The reader's checked reply, or why there is none.
        settings: The settings (``sure_confidence``, ``likely_confidence``).
        evidence: The evidence the reply was written from, closest first.
        model: The combined confidence model (default: ``bot/verdict/model_auto.json``).

    Returns:
        The answer, engine ``auto``, with its confidence, tier, claim and signals.

    """
    from bot.verdict.combine import AUTO_FEATURES, AUTO_MODEL_PATH, ceiling, features
    from bot.verdict.model import load_model

    checked = None if isinstance(reply, Rejected) else reply
    ok = checked is not None and not checked.refused
    claim = _claim(grounded)
    agreed = ok and agrees(checked.text, claim) if checked is not None else False
    values = features(grounded, checked, agreed, list(evidence))
    signals = {**values, "grounded_confidence": float(grounded.confidence)}
    flags = [*grounded.flags] + ([reply.note] if isinstance(reply, Rejected) else [])
    if not ok and claim is None:  # neither reader found an answer
        return grounded.model_copy(
            update={"engine": "auto", "refused": True, "assertion": "abstain", "confidence": 0.0, "signals": signals}
        )
    confidence = (model or load_model(AUTO_MODEL_PATH, AUTO_FEATURES)).predict(values)
    if not ok and claim is not None and grounded.confidence >= settings.sure_confidence:
        # The reader failed its checks or found nothing, but the grounded engine is sure on its own. On the tuning
        # halves such claims were right 7 times in 9 (the combined model, which barely weighs the grounded
        # confidence, withheld them all): hedged with the passage, never stated plainly without a second reader.
        sure_at, likely_at = settings.sure_confidence, settings.likely_confidence
        confidence = max(confidence, below_sure(grounded.confidence, sure_at, likely_at))
    if agreed and claim is not None and grounded.kind == "derived":
        # both found the same computed value: the grounded wording shows its formula and operands
        chosen = grounded.model_copy(update={"text": claim, "refused": False, "engine": "auto"})
    elif ok and checked is not None:
        chosen = checked.model_copy(update={"engine": "auto"})
    else:  # the reply failed or refused: the grounded claim, said as a claim again
        chosen = grounded.model_copy(update={"text": claim, "refused": False, "engine": "auto"})
    said = settle(chosen, confidence, settings.sure_confidence, settings.likely_confidence, ceiling(agreed, ok))
    if said.assertion == "abstain" and not said.citations:
        said = said.model_copy(update={"text": abstention(list(evidence[:1])), "citations": list(evidence[:1])})
    return said.model_copy(update={"signals": signals, "flags": flags})
