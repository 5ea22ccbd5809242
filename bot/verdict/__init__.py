"""Verdict stage: how sure an answer is, and how it is said.

    features (signals of the answer and its evidence) -> confidence model -> tier -> phrase

The verdict reads only what the engine put on its :class:`~bot.engine.grounded.Outcome`; readers never
judge themselves. See :mod:`bot.verdict.tiers` for the three ways to answer, :mod:`bot.verdict.features`
for the signals, :mod:`bot.verdict.model` for the model file and :mod:`bot.verdict.train` for how it is made.
"""

from __future__ import annotations

from typing import Any

from bot.models import DISAGREEMENT, Answer
from bot.verdict.features import FEATURES, extract
from bot.verdict.model import ConfidenceModel, load_model
from bot.verdict.tiers import disputed, settle, tier

__all__ = ["FEATURES", "NEUTRAL", "assess", "confidence_of", "load_model", "settle", "tier"]

_N = len(FEATURES)
NEUTRAL = ConfidenceModel("neutral", FEATURES, (0.0,) * _N, (1.0,) * _N, (0.0,) * _N, 0.0)
"""A model that knows nothing (every answer 0.5): used while collecting training data, before a model exists."""


def confidence_of(outcome: Any, model: ConfidenceModel | None = None) -> tuple[float, dict[str, float]]:
    """The calibrated confidence of a grounded outcome's answer, and the signals it was computed from."""
    answer: Answer = outcome.answer
    signals = extract(outcome)
    if answer.refused:
        return 0.0, signals
    return (model or load_model()).predict(signals), signals


def assess(outcome: Any, settings: Any, model: ConfidenceModel | None = None) -> Answer:
    """The grounded answer of an outcome with its calibrated confidence and tier, said the way the tier is said.

    Args:
        outcome: The grounded engine's :class:`~bot.engine.grounded.Outcome`.
        settings: The settings (``sure_confidence``, ``likely_confidence``).
        model: The confidence model (default: the one shipped in ``bot/verdict/model.json``).

    Returns:
        The answer with ``confidence``, ``assertion``, ``claim`` and ``signals`` set.

    """
    confidence, signals = confidence_of(outcome, model)
    answer = outcome.answer.model_copy(update={"signals": signals})
    if answer.kind == DISAGREEMENT:  # documents that disagree are never stated plainly
        return disputed(answer, confidence, settings.sure_confidence, settings.likely_confidence)
    return settle(answer, confidence, settings.sure_confidence, settings.likely_confidence)
