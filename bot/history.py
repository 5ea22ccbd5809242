"""Validation of a conversation's history as callers pass it (the ``/ask`` API, the Python API).

History items are earlier user questions (strings) or chat messages
``{"role": "user" | "assistant", "content": str}``; anything else is an :class:`InputError` that says
which item is wrong and why, instead of failing somewhere inside the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.errors import InputError

MAX_HISTORY_ITEMS = 200
MAX_HISTORY_CHARS = 100_000
_SHAPE = 'an earlier question (text) or a message {"role": "user" | "assistant", "content": text}'


def _kind(value: Any) -> str:
    names = {list: "a list", tuple: "a list", dict: "an object", int: "a number", float: "a number", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), f"a {type(value).__name__}")


def _check_citations(i: int, cites: Any) -> list[dict[str, Any]]:
    """An assistant message's citations, as far as the engine uses them: where the answer stood."""
    if not isinstance(cites, (list, tuple)):
        raise InputError(f"history[{i}] citations must be a list of {{source, start, end}} objects.")
    out = []
    for c in cites[:5]:
        ok = isinstance(c, Mapping) and isinstance(c.get("source"), str)
        ok = ok and all(isinstance(c.get(k), int) and not isinstance(c.get(k), bool) for k in ("start", "end"))
        if not ok:
            raise InputError(f"history[{i}] has a citation that is not {{source: text, start: int, end: int}}.")
        out.append({"source": c["source"], "start": c["start"], "end": c["end"]})
    return out


def check_history(history: Any) -> list[str | dict[str, Any]]:
    """Validate a history and return it as a list of strings and ``{"role", "content"}`` messages.

    Extra keys of a message (e.g. Gradio's ``metadata``) are dropped, except an assistant message's
    ``citations`` (``[{"source", "start", "end"}]``): a follow-up stays near the previous answer.

    Raises:
        InputError: If ``history`` is not a list, or an item is not a question or a message.

    Example:
        >>> check_history(["How many?", {"role": "assistant", "content": "7 [1]."}])
        ['How many?', {'role': 'assistant', 'content': '7 [1].'}]

    """
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, (list, tuple)):
        raise InputError(f"history must be a list of earlier turns, each {_SHAPE}; got {_kind(history)}.")
    if len(history) > MAX_HISTORY_ITEMS:
        raise InputError(f"history has {len(history)} items; at most {MAX_HISTORY_ITEMS} earlier turns are used.")
    out: list[str | dict[str, Any]] = []
    total = 0
    for i, item in enumerate(history):
        if isinstance(item, str):
            out.append(item)
            total += len(item)
        elif isinstance(item, Mapping):
            role, content = item.get("role"), item.get("content")
            if role not in ("user", "assistant"):
                raise InputError(f'history[{i}] has role {role!r}: it must be "user" or "assistant".')
            if not isinstance(content, str):
                raise InputError(f"history[{i}] has content that is {_kind(content)}: it must be text.")
            message: dict[str, Any] = {"role": role, "content": content}
            cites = item.get("citations")
            if role == "assistant" and cites is not None:
                message["citations"] = _check_citations(i, cites)
            out.append(message)
            total += len(content)
        else:
            raise InputError(f"history[{i}] is {_kind(item)}: each item must be {_SHAPE}.")
    if total > MAX_HISTORY_CHARS:
        raise InputError(f"history is too long ({total:,} characters; the limit is {MAX_HISTORY_CHARS:,}).")
    return out
