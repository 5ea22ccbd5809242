"""The tool-calling engines (``openai``, ``llamacpp``): retrieve, let the model call tools, guard, conclude.

1. the question's chunks are retrieved and shown to the model as numbered ``<source>`` blocks,
   marked as data; sentences that try to instruct the model are removed first;
2. the numeric tools (``find_quantity``, ``convert_currency``, ``calculate``) are bound for tool
   calling and a bounded loop (:data:`MAX_TOOL_ROUNDS`) runs the calls the model asks for;
3. the answer's ``[n]`` markers become :class:`~bot.models.Citation` objects;
4. the guards run: every number must be backed by a cited source or a trusted tool result, the
   system prompt must not leak, and the answer must cite something;
5. the reply is concluded like every engine's (:func:`bot.llm.verdict.conclude`): if a check fails, or
   the backend fails at run time, the grounded answer is returned when it is sure, else the question
   is left unanswered with the closest passage quoted, flagged; a checked reply is said by its tier.

Text is streamed sentence by sentence, and only sentences that pass the numeric and leak checks
are released, so an invented number never reaches the screen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from bot.errors import BackendError, BotError
from bot.guard import leaks_prompt, numbers_supported
from bot.llm import backends
from bot.llm.common import (
    REFUSAL,
    BotView,
    History,
    content_text,
    is_refusal,
    resolve_markers,
    short,
    visible,
)
from bot.llm.release import Releaser
from bot.llm.sources import Source, citation_for, default_tools, facts_of, history_messages, sources, user_prompt
from bot.llm.toolcalls import (
    MAX_TOOL_RESULT_CHARS,
    calls_of,
    clean_args,
    evidence_part,
    jsonable,
    numeric_args_trusted,
    result_ok,
    run_tool,
)
from bot.llm.verdict import Rejected, conclude
from bot.models import Answer, Citation, ToolCall
from bot.prompts import load_prompt

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.tools import BaseTool

__all__ = ["MAX_TOOL_ROUNDS", "generate_answer"]

MAX_TOOL_ROUNDS = 4
"""Model turns that may call tools; one more turn without tools then has to answer."""


@dataclass
class _Run:
    """State of one generation: transcript, tool calls, trusted results."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    trusted: list[Any] = field(default_factory=list)


def generate_answer(
    bot: BotView,
    question: str,
    history: History,
    grounded: Answer,
    engine: str,
    top_k: int,
    *,
    model: BaseChatModel | None = None,
    tools: Sequence[BaseTool] | None = None,
    evidence: Sequence[Citation] = (),
) -> Iterator[str | Answer]:
    """Answer with a generative model, guarded; without a trusted reply, the grounded answer if sure, else abstain.

    Args:
        bot: The bot (retriever, facts, settings).
        question: The cleaned question.
        history: Earlier turns of the conversation.
        grounded: The grounded engine's assessed answer: the fallback when sure, the claim a reply is compared
            with, and its ``resolved_question`` drives retrieval.
        engine: ``openai``, ``llamacpp`` or ``local`` (the bundled model calling the tools itself).
        top_k: Chunks to retrieve.
        model: A chat model to use instead of the one the settings describe (tests, custom backends).
        tools: Tools to bind instead of ``bot.tools.make_tools`` over the bot's facts.
        evidence: The grounded engine's evidence, closest first (the passage quoted when abstaining and the
            grounded answer cites nothing; else the best sentence of the first retrieved chunk).

    Yields:
        Pieces of the answer text that passed the guards, then the final :class:`Answer` (``engine`` names
        the engine, or e.g. ``"openai→grounded (numeric guard)"`` / ``"openai (rejected: numeric guard)"``
        after a failed check). Its text is authoritative: a hedged or withheld reply replaces the pieces.

    Raises:
        BackendError: If the engine is misconfigured (no endpoint, missing model file or package,
            rejected key, unknown model name).

    """
    if engine not in backends.TOOL_ENGINES and model is None:
        engines = ", ".join(backends.TOOL_ENGINES)
        raise BackendError(f"Unknown generative engine {engine!r}: use one of {engines} (or grounded).")
    chat = model if model is not None else backends.make_chat_model(bot.settings, engine)
    tool_list = list(tools) if tools is not None else default_tools(bot)
    system = load_prompt("system")
    docs = bot.retriever.search(grounded.resolved_question or question, top_k)
    shown = sources(docs)

    def conclude_with(reply: Answer | Rejected) -> Answer:
        asked = grounded.resolved_question or question
        closest = list(evidence) or [citation_for(s, asked) for s in shown[:1]]
        return conclude(grounded, reply, bot.settings, engine=engine, evidence=closest)

    if not shown:
        yield conclude_with(Rejected("no sources", "The retriever found no passage to give the model."))
        return
    texts = [s.safe_text for s in shown]

    def stream_check(text: str) -> bool:
        return not numbers_supported(text, texts, run.trusted) and not leaks_prompt(text, system)

    run = _Run()
    releaser = Releaser(stream_check)
    messages: list[BaseMessage] = [
        SystemMessage(system),
        *history_messages(history),
        HumanMessage(user_prompt(question, shown)),
    ]
    deadline = time.monotonic() + 2 * bot.settings.llm_timeout_s
    by_name = {t.name: t for t in tool_list}
    try:
        bound = _bind(chat, tool_list)
        for round_no in range(MAX_TOOL_ROUNDS + 1):
            runnable = bound if round_no < MAX_TOOL_ROUNDS else chat
            try:
                message = yield from _stream_round(runnable, messages, releaser, deadline)
            except Exception as exc:
                if round_no == 0 and bound is not chat and _is_bad_request(exc):
                    bound = chat  # the server rejects tools (e.g. a model without tool support): answer without
                    message = yield from _stream_round(chat, messages, releaser, deadline)
                else:
                    raise
            content = content_text(message)
            run.text += content
            calls = calls_of(message, round_no)
            if not calls:
                break
            messages.append(
                AIMessage(content=content, tool_calls=[{**c, "args": clean_args(c["args"])} for c in calls])
            )
            for call in calls:
                result = jsonable(run_tool(by_name.get(call["name"]), call))
                run.tool_calls.append(ToolCall(name=call["name"], args=dict(call["args"]), result=result))
                if result_ok(result) and numeric_args_trusted(call["args"], [*texts, question], run.trusted):
                    run.trusted.append(evidence_part(call["name"], result))
                body = json.dumps(result, ensure_ascii=False, default=str)[:MAX_TOOL_RESULT_CHARS]
                messages.append(ToolMessage(content=body, tool_call_id=call["id"], name=call["name"]))
    except BackendError:
        raise
    except _Timeout:
        yield conclude_with(Rejected("timeout", f"The {engine} backend took too long."))
        return
    except Exception as exc:
        if _is_misconfiguration(exc):
            raise BackendError(f"The {engine} backend refused the request: {short(exc)}") from None
        if isinstance(exc, BotError):
            raise
        yield conclude_with(Rejected("backend error", f"The {engine} backend failed ({short(exc)})."))
        return

    final = conclude_with(_reply(bot, question, grounded, engine, run, shown, system))
    if final.engine == engine and final.assertion == "sure" and (rest := releaser.rest()):
        yield rest
    yield final


class _Timeout(Exception):
    """The overall generation deadline passed."""


def _bind(chat: BaseChatModel, tools: Sequence[BaseTool]) -> Any:
    if not tools:
        return chat
    try:
        return chat.bind_tools(list(tools))
    except NotImplementedError:
        return chat


def _stream_round(
    runnable: Any, messages: list[BaseMessage], releaser: Releaser, deadline: float
) -> Generator[str, None, AIMessage]:
    """Stream one model turn, releasing checked text; returns the whole message (via ``yield from``)."""
    full: Any = None
    for part in runnable.stream(messages):
        if time.monotonic() > deadline:
            raise _Timeout
        if not isinstance(part, AIMessageChunk):  # models without streaming yield the whole message
            part = AIMessageChunk(
                content=part.content,
                tool_calls=list(getattr(part, "tool_calls", None) or []),
                invalid_tool_calls=list(getattr(part, "invalid_tool_calls", None) or []),
            )
        full = part if full is None else full + part
        piece = content_text(part)
        if piece and (out := releaser.feed(piece)):
            yield out
    if full is None:
        return AIMessage(content="")
    return AIMessage(
        content=content_text(full),
        tool_calls=list(full.tool_calls or []),
        invalid_tool_calls=list(full.invalid_tool_calls or []),
    )


def _reply(
    bot: BotView, question: str, grounded: Answer, engine: str, run: _Run, shown: list[Source], system: str
) -> Answer | Rejected:
    """Turn the model's text into a cited Answer (``refused`` for a refusal), or say which guard failed."""
    text = visible(run.text).strip()
    if not text:
        return Rejected("empty answer", f"The {engine} model returned no answer.")
    if leaks_prompt(text, system):
        return Rejected("prompt leak", "The generated answer repeated the system prompt; it was withheld.")
    if is_refusal(text):
        return Answer(
            question=question,
            resolved_question=grounded.resolved_question,
            text=REFUSAL,
            refused=True,
            kind="explanation",
            engine=engine,
            tool_calls=run.tool_calls,
        )
    text, cited, _ = resolve_markers(text, {s.n for s in shown})
    if not cited:
        return Rejected("no citations", "The generated answer cited no source.")
    by_n = {s.n: s for s in shown}
    unsupported = numbers_supported(text, [by_n[n].safe_text for n in cited], run.trusted)
    if unsupported:
        return Rejected(
            "numeric guard",
            f"Numeric guard: the generated answer stated {', '.join(unsupported)}, which no cited source "
            "or tool result supports.",
        )
    citations = [citation_for(by_n[n], text) for n in cited]
    used = {t.name for t in run.tool_calls if result_ok(t.result)}
    kind = (
        "derived"
        if used & {"calculate", "convert_currency"}
        else "quantity"
        if "find_quantity" in used
        else "explanation"
    )
    return Answer(
        question=question,
        resolved_question=grounded.resolved_question,
        text=text,
        citations=citations,
        facts=facts_of(bot, run.trusted),
        tool_calls=run.tool_calls,
        refused=False,
        kind=kind,
        engine=engine,
    )


def _is_bad_request(exc: Exception) -> bool:
    return type(exc).__name__ in {"BadRequestError", "UnprocessableEntityError"}


def _is_misconfiguration(exc: Exception) -> bool:
    return type(exc).__name__ in {"AuthenticationError", "PermissionDeniedError", "NotFoundError"}
