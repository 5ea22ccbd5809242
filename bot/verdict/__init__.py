"""Verdict stage: how sure an answer is, and how it is said.

    features (signals of the answer and its evidence) -> confidence model -> tier -> phrase

The verdict reads only what the engine put on its :class:`~bot.engine.grounded.Outcome`; readers never
judge themselves. See :mod:`bot.verdict.tiers` for the three ways to answer.
"""

from __future__ import annotations

from typing import Any

from bot.models import Answer
from bot.verdict.tiers import settle, tier

__all__ = ["assess", "settle", "tier"]


def assess(outcome: Any, settings: Any) -> Answer:
    """The grounded answer of an outcome with its calibrated confidence and tier.

    Args:
        outcome: The grounded engine's :class:`~bot.engine.grounded.Outcome`.
        settings: The settings (``sure_confidence``, ``likely_confidence``).

    Returns:
        The answer, said the way its tier is said.

    """
    answer: Answer = outcome.answer
    # Placeholder until the confidence model lands: every found answer is 'sure'.
    confidence = 0.0 if answer.refused else 0.9
    return settle(answer, confidence, settings.sure_confidence, settings.likely_confidence)
