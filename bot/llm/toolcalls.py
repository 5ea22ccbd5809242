"""Running the numeric tools a model asks for, and deciding which of their results may back a number."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.guard import iter_values, numbers_supported
from bot.llm.sources import FACT_ID_RE

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage
    from langchain_core.tools import BaseTool

MAX_TOOL_CALLS_PER_ROUND = 8
MAX_TOOL_RESULT_CHARS = 6000
# Literal numbers the model may put into a calculation without a source for them (percent, unit changes).
FREE_CONSTANTS = frozenset({0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 100.0, 1000.0})


def numeric_args_trusted(args: Any, evidence: Sequence[str], results: Sequence[Any]) -> bool:
    """Whether every number a tool call passes in comes from the sources, the question or earlier results."""
    texts: list[str] = []
    for item in iter_values(args):
        if isinstance(item, str):
            texts.append(FACT_ID_RE.sub(" ", item))
        elif math.isfinite(item) and item not in FREE_CONSTANTS:
            texts.append(f"{item:f}".rstrip("0").rstrip("."))
    text = " ; ".join(texts)
    missing = numbers_supported(text, evidence, results)
    return all(_plain_float(m) in FREE_CONSTANTS for m in missing)


def _plain_float(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def run_tool(tool: BaseTool | None, call: Mapping[str, Any]) -> Any:
    """Run one tool call; errors come back as ``{"ok": False, "error": ...}`` for the model to read."""
    if tool is None:
        return {"ok": False, "error": f"unknown tool {call.get('name')!r}"}
    args = call.get("args") or {}
    if "__raw__" in args:
        return {"ok": False, "error": "the arguments were not valid JSON"}
    try:
        return tool.invoke(args)
    except Exception as exc:  # validation errors, tool errors: the model gets the message and may retry
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}


def jsonable(value: Any) -> Any:
    """A JSON-serialisable copy of a tool result (pydantic models dumped, odd values as strings)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))


def result_ok(result: Any) -> bool:
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


def evidence_part(name: str, result: Any) -> Any:
    """Keep the part of a successful tool result that may back a number (find_quantity: matches, not nearby)."""
    if name == "find_quantity" and isinstance(result, Mapping):
        return {"matches": result.get("matches", [])}
    return result


def calls_of(message: AIMessage, round_no: int) -> list[dict[str, Any]]:
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


def clean_args(args: dict[str, Any]) -> dict[str, Any]:
    """Arguments to echo back to the model: none when they were not valid JSON."""
    return {} if "__raw__" in args else args
