"""Which generative engine answers: the dispatch behind :meth:`bot.service.Bot.stream`.

* ``local`` - the bundled model as a reader of the grounded engine's evidence (:mod:`bot.llm.reader`);
* ``openai`` / ``llamacpp`` - a chat model that retrieves and calls the numeric tools itself
  (:mod:`bot.llm.toolloop`).

Every engine yields text pieces, then the final :class:`~bot.models.Answer`; after a failed check
that answer is the grounded one, marked ``<engine>→grounded (<reason>)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from bot.errors import BackendError
from bot.llm.common import BotView, History
from bot.models import Answer

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.tools import BaseTool

__all__ = ["ENGINES", "generate_answer"]

ENGINES = ("openai", "llamacpp", "local")
"""The generative engines (``grounded`` needs none of this package)."""


def generate_answer(
    bot: BotView,
    question: str,
    history: History,
    grounded: Answer | Any,
    engine: str,
    top_k: int,
    *,
    model: BaseChatModel | None = None,
    tools: Sequence[BaseTool] | None = None,
) -> Iterator[str | Answer]:
    """Answer with a generative engine, guarded; fall back to the grounded answer when it can't be trusted.

    Args:
        bot: The bot (settings, retriever, facts).
        question: The cleaned question.
        history: Earlier turns of the conversation.
        grounded: The grounded engine's answer, or its ``Outcome`` (evidence and findings for the reader).
        engine: ``local``, ``openai`` or ``llamacpp``.
        top_k: Chunks to retrieve.
        model: A chat model to use instead of the one the settings describe (tool-calling engines; tests).
        tools: Tools to bind instead of the numeric tools over the bot's facts.

    Yields:
        Pieces of the answer text that passed the guards, then the final :class:`Answer`.

    Raises:
        BackendError: If the engine is unknown or misconfigured (no endpoint, missing model or package).

    """
    if engine == "local" and model is None:
        from bot.llm.reader import read_answer

        yield from read_answer(bot, question, history, grounded, top_k)
        return
    if engine not in ENGINES and model is None:
        raise BackendError(f"Unknown generative engine {engine!r}: use one of {', '.join(ENGINES)} (or grounded).")
    from bot.llm.toolloop import generate_answer as tool_answer

    answer = grounded if isinstance(grounded, Answer) else grounded.answer
    yield from tool_answer(bot, question, history, answer, engine, top_k, model=model, tools=tools)
