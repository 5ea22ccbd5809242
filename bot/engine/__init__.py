"""The answer engine: one small module per stage.

    conversation -> question -> evidence -> extract / compute -> decide -> phrase -> (guard)

``run(index, question, history)`` returns an :class:`Outcome`: the grounded answer plus the evidence
and findings a generative engine reads. The engine depends on :class:`IndexView` only.
"""

from bot.engine.grounded import Outcome, run
from bot.engine.index import IndexView, StoreIndex

__all__ = ["IndexView", "Outcome", "StoreIndex", "run"]
