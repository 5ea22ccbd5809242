"""Two readers, one verdict: the grounded engine and the local model check each other (engine ``auto``).

The grounded answer (with its own calibrated confidence) and the local reader's checked reply are combined
into one answer whose confidence comes from a second small model (``bot/verdict/model_auto.json``, same
format as ``model.json``, trained by ``python -m bot.verdict.train_auto``) over :data:`AUTO_FEATURES`:
whether the two agree, the grounded confidence, whether the reply passed its checks or refused, the reply's
token log-probabilities (llama.cpp) and whether it is a span of the evidence.

The tier also follows a rule: **sure** needs both readers to agree and the reply to pass its checks; when
only one has a verified answer (or they disagree) the answer is at best **likely**; when neither has one it
abstains with the passage.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from bot.models import Answer

AUTO_FEATURES: tuple[str, ...] = (
    "grounded_logit",
    "grounded_claim",
    "agree",
    "reply_ok",
    "reply_refused",
    "reply_logprob_mean",
    "reply_logprob_min",
    "reply_span",
    "reply_words",
)
"""The features of the combined confidence model, in its coefficients' order."""
AUTO_MODEL_PATH = Path(__file__).with_name("model_auto.json")
GROUNDED_ALONE = 0.925
"""A grounded answer this sure is given without the reader (tens of ms instead of seconds): on the tuning halves
the grounded answers at or above it were right 38 times in 38 (92 % on the held-out halves, 35 of 38)."""
_QUOTED = re.compile(r"“[^”]*”?|\"[^\"]*\"?")
_MARKS = re.compile(r"\[\d+\]")


def own_words(text: str) -> str:
    """What an answer says itself: no "Probably", no quoted passage, no markers."""
    own = re.split(r"\s+—\s+the passages?:|[“\"]", text, maxsplit=1)[0]
    own = re.sub(r"^\s*Probably\s+", "", own)
    return " ".join(_MARKS.sub(" ", own).split()).strip(" .")


def logit(p: float) -> float:
    """A confidence as a (scaled) log-odds, the form the combined model reads it in."""
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p)) / 4.0


def features(grounded: Answer, reply: Answer | None, agreed: bool, evidence: list[Any]) -> dict[str, float]:
    """The combined model's features (see :data:`AUTO_FEATURES`).

    Args:
        grounded: The assessed grounded answer.
        reply: The reader's checked reply (``refused`` when it said the documents do not say), or None when it
            failed a check.
        agreed: Whether the reply states the grounded claim (:func:`bot.llm.verdict.agrees`).
        evidence: The evidence citations the reply was written from.

    """
    ok = reply is not None and not reply.refused
    said = own_words(reply.text) if ok and reply is not None else ""
    quotes = " ".join(c.quote for c in evidence).lower()
    signals = reply.signals if reply is not None else {}
    return {
        "grounded_logit": logit(grounded.confidence) if grounded.claim else -2.5,
        "grounded_claim": float(grounded.claim is not None),
        "agree": float(agreed and ok),
        "reply_ok": float(ok),
        "reply_refused": float(reply is not None and reply.refused),
        "reply_logprob_mean": max(float(signals.get("reply_logprob_mean", 0.0)), -5.0) / 5.0,
        "reply_logprob_min": max(float(signals.get("reply_logprob_min", 0.0)), -20.0) / 20.0,
        "reply_span": float(bool(said) and said.lower() in quotes),
        "reply_words": math.log1p(len(said.split())) / 3.0,
    }


def grounded_alone(grounded: Answer) -> bool:
    """Whether the grounded answer settles the question without the reader.

    Either it is very sure (:data:`GROUNDED_ALONE`), or it found nothing at all to cite (a name or subject the
    documents never use), where a reader has no evidence to read either.
    """
    if grounded.claim is not None and not grounded.refused:
        return grounded.confidence >= GROUNDED_ALONE
    return grounded.refused and grounded.claim is None and not grounded.citations


def ceiling(agreed: bool, reply_ok: bool) -> str:
    """The best tier the rule allows: ``sure`` only when both readers agree and the reply passed its checks."""
    return "sure" if agreed and reply_ok else "likely"
