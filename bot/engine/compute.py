"""Compute stage (placeholder while the arithmetic moves here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.grounded import Work
    from bot.models import Answer


def try_compute(w: Work) -> Answer | None:
    """Answer by arithmetic over evidence when the question asks for it (None when it does not)."""
    return None
