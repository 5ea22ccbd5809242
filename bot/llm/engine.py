"""Which generative engine answers: the dispatch behind :meth:`bot.service.Bot.stream`.

* ``local`` - the bundled model as a reader of the grounded engine's evidence (:mod:`bot.llm.reader`);
* ``auto`` - the same reader, its reply and the grounded answer checked against each other
  (:func:`bot.llm.verdict.conclude_auto`);
* ``openai`` / ``llamacpp`` - a chat model that retrieves and calls the numeric tools itself
  (:mod:`bot.llm.toolloop`).

When the grounded evidence disagrees (different documents, different values for the same thing), every
engine's answer is the grounded one that says so (:mod:`bot.engine.disagree`), at most ``likely``.

Every engine yields text pieces, then the final :class:`~bot.models.Answer`, concluded by one rule
(:func:`bot.llm.verdict.conclude`): after a failed check it is the grounded answer when that one is sure
(``<engine>→grounded (<reason>)``), else an abstention quoting the closest passage
(``<engine> (rejected: <reason>)``); a checked reply is said by its tier, like the grounded answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from bot.errors import BackendError
from bot.llm.common import BotView, History
from bot.models import DISAGREEMENT, Answer

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.tools import BaseTool

__all__ = ["ENGINES", "generate_answer"]

ENGINES = ("openai", "llamacpp", "local", "auto")
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
    """Answer with a generative engine, guarded; without a trusted reply, the grounded answer if sure, else abstain.

    Args:
        bot: The bot (settings, retriever, facts).
        question: The cleaned question.
        history: Earlier turns of the conversation.
        grounded: The grounded engine's assessed answer (:func:`bot.verdict.assess`), or its ``Outcome``
            (evidence and findings for the reader, the passage to quote when abstaining).
        engine: ``local``, ``openai`` or ``llamacpp``.
        top_k: Chunks to retrieve.
        model: A chat model to use instead of the one the settings describe (tool-calling engines; tests).
        tools: Tools to bind instead of the numeric tools over the bot's facts.

    Yields:
        Pieces of the answer text that passed the guards, then the final :class:`Answer` (its text is
        authoritative: it replaces the pieces when the reply is hedged or withheld).

    Raises:
        BackendError: If the engine is unknown or misconfigured (no endpoint, missing model or package).

    """
    assessed = grounded if isinstance(grounded, Answer) else grounded.answer
    if assessed.kind == DISAGREEMENT:  # the documents disagree: no reader may pick one value and be sure of it
        yield assessed.model_copy(update={"engine": f"{engine} (grounded: the documents disagree)"})
        return
    if engine == "auto" and model is None:
        from bot.verdict.combine import grounded_alone

        if grounded_alone(assessed):  # the reader would only cost seconds
            yield assessed.model_copy(update={"engine": "auto (grounded alone)"})
            return
    if engine in ("local", "auto") and model is None:
        from bot.llm.reader import read_answer

        yield from read_answer(bot, question, history, grounded, top_k, engine=engine)
        return
    if engine not in ENGINES and model is None:
        raise BackendError(f"Unknown generative engine {engine!r}: use one of {', '.join(ENGINES)} (or grounded).")
    from bot.llm.toolloop import generate_answer as tool_answer

    answer, evidence = (grounded, []) if isinstance(grounded, Answer) else (grounded.answer, grounded.evidence)
    yield from tool_answer(bot, question, history, answer, engine, top_k, model=model, tools=tools, evidence=evidence)
