"""Fixed halves of a question set: half 1 is the tuning half, half 2 the held-out half.

Tune thresholds, weights and wording on half 1 only; half 2 measures whether a change generalizes. The
split is by document (or, in a set about one or a few documents, by conversation), so no document - and
no conversation - has questions in both halves, and it never changes: no randomness, no dependence on
the order of the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from bot.evaluate.questions import Question

MIN_DOCUMENTS = 4
"""A set with at least this many distinct documents is split by document, a smaller one by conversation."""


def _turn_text(turn: Any) -> str:
    return turn if isinstance(turn, str) else str(turn.get("content", ""))


def _conversation_root(q: Question) -> str:
    return _turn_text(q.history[0]) if q.history else q.question


def group_key(q: Question, by_document: bool) -> str:
    """What keeps questions together: the first expected source (by document) or the conversation's first question."""
    if by_document and q.expected_sources:
        return q.expected_sources[0]
    return _conversation_root(q)


def assign_halves(questions: Sequence[Question]) -> dict[str, int]:
    """Put every question of a set in half 1 (tuning) or half 2 (held out).

    Questions are grouped by their document (the first ``expected_sources`` entry) when the set names at
    least :data:`MIN_DOCUMENTS` distinct documents; otherwise by conversation (the first ``history`` turn,
    or the question itself when it has no history). A question without a source in a set split by
    document is grouped by its conversation. The distinct groups are sorted by the SHA-1 of their key and
    alternate: groups at even positions go to half 1, odd ones to half 2. So the halves hold the same
    number of groups (one more in half 1 when the count is odd), a conversation is never split, and the
    assignment depends only on the set's groups, never on the file order.

    Args:
        questions: The whole question set (assign before sampling or filtering, or the groups change).

    Returns:
        Question id -> 1 or 2.

    """
    documents = {q.expected_sources[0] for q in questions if q.expected_sources}
    by_document = len(documents) >= MIN_DOCUMENTS
    keys = {q.id: group_key(q, by_document) for q in questions}
    ordered = sorted(set(keys.values()), key=lambda k: (hashlib.sha1(k.encode("utf-8")).hexdigest(), k))
    half_of = {key: 1 + pos % 2 for pos, key in enumerate(ordered)}
    return {qid: half_of[key] for qid, key in keys.items()}
