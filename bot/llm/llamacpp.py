"""llama-cpp-python in-process: one shared model per file, and a LangChain chat model over it.

A ``llama_cpp.Llama`` is loaded once per process and file (:func:`load_llama`) with the lock that
serialises its use (``Llama`` is not thread-safe, so concurrent requests queue). The model keeps
the tokens of its last prompt in its KV cache and re-reads only what differs, so a fixed system
prompt at the start of every request is read once.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from bot.errors import BackendError
from bot.llm.common import MAX_ANSWER_TOKENS, TOOL_TAG_RE

__all__ = ["LLAMACPP_N_CTX", "PIP_LLAMACPP", "LlamaCppChatModel", "load_llama", "plain_cpu_buffers"]

LLAMACPP_N_CTX = 4096
PIP_LLAMACPP = "pip install 'llama-cpp-python>=0.3.16,<0.4'"

_LLAMAS: dict[tuple[str, int, int], tuple[Any, threading.Lock]] = {}
_LLAMAS_LOCK = threading.Lock()


def default_threads() -> int:
    """All the cores this process may use (llama-cpp-python's own default is half of them)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def plain_cpu_buffers() -> None:
    """Make this process load models without llama.cpp's extra CPU buffer types (AMX tiles, weight repacking).

    On CPUs that report AMX inside some virtual machines, the repacked matrix kernels crash the
    process on the first multi-token batch; the plain kernels read a few hundred prompt tokens
    per second on two cores anyway. ``Llama`` offers no argument for this, so the default model
    parameters it starts from are patched (once; later calls do nothing).
    """
    import llama_cpp.llama_cpp as lib

    original = lib.llama_model_default_params
    if getattr(original, "_plain_cpu", False):
        return

    def params() -> Any:
        p = original()
        if hasattr(p, "use_extra_bufts"):
            p.use_extra_bufts = False
        return p

    params._plain_cpu = True  # type: ignore[attr-defined]
    lib.llama_model_default_params = params


def load_llama(model_path: str | Path, n_ctx: int = LLAMACPP_N_CTX, n_threads: int = 0) -> tuple[Any, threading.Lock]:
    """Load (once per process) a ``llama_cpp.Llama`` for a GGUF file, with the lock that serialises its use.

    Args:
        model_path: The GGUF file.
        n_ctx: Context length in tokens.
        n_threads: CPU threads (0 = every core this process may use).

    Returns:
        ``(llama, lock)``; hold the lock for the whole of each generation.

    Raises:
        BackendError: If llama-cpp-python is missing or the file cannot be loaded.

    """
    threads = n_threads or default_threads()
    key = (str(Path(model_path).resolve()), n_ctx, threads)
    with _LLAMAS_LOCK:
        if key not in _LLAMAS:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise BackendError(f"This engine needs llama-cpp-python: {PIP_LLAMACPP}") from None
            plain_cpu_buffers()
            try:
                llama = Llama(model_path=key[0], n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)
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
    n_threads: int = 0
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

        llama, lock = load_llama(self.model_path, self.n_ctx, self.n_threads)
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

        llama, lock = load_llama(self.model_path, self.n_ctx, self.n_threads)
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

    return TOOL_TAG_RE.sub(grab, text).strip() if "<tool_call>" in text.lower() else text, calls
