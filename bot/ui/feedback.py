"""Thumbs up/down on answers, appended to ``index/feedback.jsonl`` in the evaluation runner's format."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.ui.render import CITE_RE, said

FEEDBACK_FILE = "feedback.jsonl"
_FEEDBACK_LOCK = threading.Lock()


def feedback_record(turn: dict[str, Any], verdict: str) -> dict[str, Any]:
    """Build a feedback line in the evaluation runner's question-set format.

    ``expected`` (the answer text without citation markers; for a hedged guess, its claim) and
    ``answerable`` are only set for a thumbs-up, when the answer is known to be right. The answer's
    ``assertion``, ``confidence`` and ``claim`` are kept (material for calibrating the confidence).
    """
    ans = turn["answer"]
    rec: dict[str, Any] = {
        "id": f"fb-{uuid.uuid4().hex[:12]}",
        "question": turn["question"],
        "history": list(turn["history"]),
    }
    if verdict == "up":
        rec["answerable"] = not ans["refused"]
        if not ans["refused"]:
            rec["expected"] = " ".join(CITE_RE.sub("", said(ans)).split())
    rec.update(
        {
            "feedback": verdict,
            "answer": ans["text"],
            "citations": ans["citations"],
            "refused": ans["refused"],
            "engine": ans["engine"],
            "assertion": ans.get("assertion"),
            "confidence": ans.get("confidence"),
            "claim": ans.get("claim"),
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    return rec


def append_feedback(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line (thread-safe within the process)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _FEEDBACK_LOCK, path.open("a", encoding="utf-8") as fh:
        fh.write(line)
