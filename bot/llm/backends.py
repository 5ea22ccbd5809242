"""Chat models for the tool-calling engines: ``openai`` (any OpenAI-compatible server) and ``llamacpp``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import BackendError
from bot.llm.common import MAX_ANSWER_TOKENS
from bot.llm.llamacpp import LLAMACPP_N_CTX, PIP_LLAMACPP, LlamaCppChatModel

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from bot.settings import Settings

__all__ = ["TOOL_ENGINES", "make_chat_model"]

TOOL_ENGINES = ("openai", "llamacpp", "local")
PIP_OPENAI = "pip install 'langchain-openai>=1.0,<2'"


def make_chat_model(settings: Settings, engine: str | None = None) -> BaseChatModel:
    """Build the chat model an engine uses.

    Args:
        settings: Endpoint, model, key, GGUF path and timeout.
        engine: ``openai``, ``llamacpp`` or ``local`` (the bundled model with tools; defaults to ``settings.llm``).

    Returns:
        A LangChain chat model that supports ``bind_tools`` and streaming.

    Raises:
        BackendError: If the engine is unknown or misconfigured, or its package is not installed.

    """
    engine = engine or settings.engine
    if engine == "openai":
        return _openai_model(settings)
    if engine == "llamacpp":
        return _llamacpp_model(settings)
    if engine == "local":
        return _local_model(settings)
    raise BackendError(f"Unknown generative engine {engine!r}: use one of {', '.join(TOOL_ENGINES)} (or grounded).")


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
    return LlamaCppChatModel(
        model_path=str(path),
        n_ctx=LLAMACPP_N_CTX,
        n_threads=settings.llm_threads,
        max_tokens=MAX_ANSWER_TOKENS,
    )


def _local_model(settings: Settings) -> BaseChatModel:
    """The bundled local model as a tool-calling chat model (joined and verified on first use)."""
    from bot.llm.local_model import ensure_model

    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise BackendError("BOT_LLM=local needs llama-cpp-python: pip install -e '.[local]'") from None
    return LlamaCppChatModel(
        model_path=str(ensure_model(settings.model_dir)),
        n_ctx=LLAMACPP_N_CTX,
        n_threads=settings.llm_threads,
        max_tokens=MAX_ANSWER_TOKENS,
    )
