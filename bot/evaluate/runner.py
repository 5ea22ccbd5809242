"""Running a question set: ask, grade each answer, keep going when one breaks."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.evaluate.halves import assign_halves
from bot.evaluate.matching import (
    _CURRENCY_WORDS,
    best_f1,
    content_words,
    own_words,
    parse_numbers,
    regex_checks,
    text_match,
)
from bot.evaluate.questions import Question
from bot.evaluate.support import _numbers_in, retrieval_rank, unsupported_numbers
from bot.evaluate.trust import assertion_of, classify

ProgressFn = Callable[[int, int, str], None]
"""Called as ``progress(done, total, description)`` after each question."""


class Asker(Protocol):
    """What the runner needs of a bot."""

    def ask(self, question: str, history: Sequence[Any] = (), engine: str | None = None) -> Any:
        """Answer a question (returns a :class:`bot.models.Answer`-like object)."""
        ...


@dataclass
class ItemResult:
    """One asked question, its answer and the verdicts."""

    question: Question
    answer: str = ""
    resolved_question: str | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    refused: bool = False
    answer_kind: str | None = None
    latency_ms: float = 0.0
    checks: dict[str, bool] = field(default_factory=dict)
    passed: bool = False
    unsupported_numbers: list[str] = field(default_factory=list)
    retrieval_rank: int | None = None
    term_coverage: float | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    error: str | None = None
    own_words: bool = False
    quoted: bool = False
    f1: float | None = None
    assertion: str | None = None
    """sure, likely or abstain (see :func:`bot.evaluate.trust.assertion_of`); None when the engine raised."""
    confidence: float = 0.0
    claim: str | None = None
    claim_right: bool | None = None
    """Whether the claim's own words are right, as if stated (None without a claim)."""
    passage_right: bool = False
    """Whether the cited passages hold the expected answer."""
    outcome: str = "abstained"
    """right, wrong or abstained (:func:`bot.evaluate.trust.classify`)."""
    half: int | None = None
    signals: dict[str, float] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """Return the ``answers.jsonl`` line of this question."""
        q = self.question
        return {
            "id": q.id,
            "kind": q.kind,
            "question": q.question,
            "history": q.history,
            "answerable": q.answerable,
            "answer": self.answer,
            "resolved_question": self.resolved_question,
            "citations": self.citations,
            "refused": self.refused,
            "answer_kind": self.answer_kind,
            "latency_ms": round(self.latency_ms, 2),
            "checks": self.checks,
            "passed": self.passed,
            "unsupported_numbers": self.unsupported_numbers,
            "retrieval_rank": self.retrieval_rank,
            "term_coverage": None if self.term_coverage is None else round(self.term_coverage, 4),
            "tool_calls": self.tool_calls,
            "flags": self.flags,
            "error": self.error,
            "own_words": self.own_words,
            "quoted": self.quoted,
            "f1": None if self.f1 is None else round(self.f1, 4),
            "expected": {k: v for k, v in q.public().items() if k.startswith("expected") and v},
            "gold": q.gold,
            "assertion": self.assertion,
            "confidence": round(self.confidence, 4),
            "claim": self.claim,
            "outcome": self.outcome,
            "claim_right": self.claim_right,
            "passage_right": self.passage_right,
            "half": self.half,
            "signals": self.signals,
        }


@dataclass
class EvalResult:
    """The outcome of :func:`run_eval`."""

    items: list[ItemResult]
    engine: str | None = None
    started: str = ""
    seconds: float = 0.0

    @property
    def summary(self) -> dict[str, Any]:
        """Aggregate metrics (see :func:`summarize`)."""
        from bot.evaluate.report import summarize

        records = [i.record() for i in self.items]
        return summarize(records, engine=self.engine, started=self.started, seconds=self.seconds)

    @property
    def score(self) -> float:
        """Fraction of questions passing all their checks."""
        return self.summary["score"]


def _plain(obj: Any) -> dict[str, Any]:
    return obj.model_dump() if hasattr(obj, "model_dump") else dict(obj)


def _history_text(history: Sequence[Any]) -> str:
    return " ".join(t if isinstance(t, str) else str(t.get("content", "")) for t in history)


def _correct(q: Question, text: str, refused: bool) -> bool:
    """Whether ``text`` answers ``q``: the refusal verdict, the reference and the patterns, all on ``text``."""
    if q.answerable is False:
        return refused
    if refused and q.answerable is True:
        return False
    checks = regex_checks(q, text)
    if q.expected is not None:
        checks["expected"] = text_match(q.expected, text)
    return all(checks.values())


def grade(q: Question, answer: Any) -> ItemResult:
    """Check one answer (a :class:`bot.models.Answer` or anything shaped like it) against its question.

    Besides the checks, the answer gets its tier (``assertion``; an object without one is ``sure`` unless it
    refuses), its ``confidence``, ``claim`` (an object without one claims its text unless it refuses) and
    ``signals``, whether the claim is right (``claim_right``, graded like own words as if stated), whether the
    cited passages hold the answer (``passage_right``) and its ``outcome`` (right, wrong or abstained).
    """
    text = str(getattr(answer, "text", "") or "")
    citations = [_plain(c) for c in getattr(answer, "citations", None) or []]
    refused = bool(getattr(answer, "refused", False))
    tool_calls = [_plain(t) for t in getattr(answer, "tool_calls", None) or []]
    res = ItemResult(
        question=q,
        answer=text,
        resolved_question=getattr(answer, "resolved_question", None),
        citations=citations,
        refused=refused,
        answer_kind=getattr(answer, "kind", None),
        latency_ms=float(getattr(answer, "latency_ms", 0.0) or 0.0),
        tool_calls=tool_calls,
        flags=list(getattr(answer, "flags", []) or []),
    )
    checks: dict[str, bool] = {}
    if q.answerable is not None:
        checks["refusal"] = refused == (not q.answerable)
    if q.expected is not None and q.answerable is not False:
        checks["expected"] = text_match(q.expected, text)
    checks.update(regex_checks(q, text))
    quotes = [str(c.get("quote", "")) for c in citations]
    own = own_words(text)
    res.own_words = _correct(q, own, refused)
    res.quoted = _correct(q, text + "\n" + "\n".join(quotes), refused)
    if q.gold and q.answerable is not False:
        res.f1 = 0.0 if refused else best_f1(own, q.gold)
    res.assertion = assertion_of(answer, refused)
    res.confidence = float(getattr(answer, "confidence", 0.0) or 0.0)
    claim = getattr(answer, "claim", None) if hasattr(answer, "claim") else (None if refused else text)
    res.claim = None if claim is None else str(claim)
    res.claim_right = None if res.claim is None else _correct(q, own_words(res.claim), False)
    res.passage_right = bool(quotes) and _correct(q, "\n".join(quotes), False)
    res.outcome = classify(q.answerable, res.assertion, res.own_words)
    res.signals = {str(k): float(v) for k, v in (getattr(answer, "signals", None) or {}).items()}
    if q.expected_sources:
        res.retrieval_rank = retrieval_rank([str(c.get("source", "")) for c in citations], q.expected_sources)
        if q.answerable is not False and not refused:
            checks["sources"] = res.retrieval_rank is not None
    if not refused:
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
        checks["cited"] = bool(citations) and numbers <= {int(c.get("n", -1)) for c in citations}
        given: list[float] = [n.value for n in parse_numbers(q.question + " " + _history_text(q.history), True)]
        for f in getattr(answer, "facts", []) or []:
            values = (getattr(f, "value", None), getattr(f, "low", None), getattr(f, "high", None))
            given.extend(float(v) for v in values if v is not None)
        given.extend(_numbers_in([{"args": t.get("args"), "result": t.get("result")} for t in tool_calls]))
        res.unsupported_numbers = unsupported_numbers(text, quotes, given)
        checks["numbers_supported"] = not res.unsupported_numbers
        words = content_words(text) - _CURRENCY_WORDS
        if words and citations:
            known = content_words(" ".join(quotes) + " " + q.question + " " + _history_text(q.history))
            res.term_coverage = len(words & known) / len(words)
    res.checks = checks
    res.passed = all(checks.values())
    return res


def conversation(history: Sequence[Any], said: dict[tuple[str, ...], dict[str, Any]]) -> list[Any]:
    """A question's history as chat messages, with the bot's own earlier answers put back in.

    A question set gives earlier *questions* only; in a real conversation the bot also knows what it
    answered. When this run already answered those questions (same conversation, same order), their
    answers (text and citations) are inserted as assistant messages.
    """
    if not history or not all(isinstance(h, str) for h in history):
        return list(history)
    out: list[Any] = []
    for i, turn in enumerate(history):
        out.append({"role": "user", "content": turn})
        reply = said.get(tuple(history[: i + 1]))
        if reply is not None:
            out.append({"role": "assistant", **reply})
    return out


def run_eval(
    questions: Sequence[Question],
    bot: Asker,
    engine: str | None = None,
    progress: ProgressFn | None = None,
    replay: bool = True,
    halves: Mapping[str, int] | None = None,
) -> EvalResult:
    """Ask every question and grade the answers.

    A question whose ``ask`` raises is recorded as failed with its error; the run goes on.

    Args:
        questions: The question set (see :func:`load_questions`).
        bot: Anything with ``.ask(question, history, engine=...)`` returning an answer.
        engine: Passed to ``ask`` (``None`` = the bot's default).
        progress: Called as ``progress(done, total, description)`` after each question.
        replay: Give follow-ups the bot's own earlier answers of the same conversation (see
            :func:`conversation`); False passes the history exactly as the set writes it.
        halves: Question id -> half (1 tuning, 2 held out); default :func:`assign_halves` of ``questions``.
            Pass the halves of the whole set when asking a sample or one half of it.

    Returns:
        The graded answers.

    """
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t_run = time.perf_counter()
    items: list[ItemResult] = []
    total = len(questions)
    if progress:
        progress(0, total, "Evaluating")
    said: dict[tuple[str, ...], dict[str, Any]] = {}
    half_of = assign_halves(questions) if halves is None else halves
    for done, q in enumerate(questions, 1):
        t0 = time.perf_counter()
        try:
            history = conversation(q.history, said) if replay else q.history
            answer = bot.ask(q.question, history, engine=engine)
            item = grade(q, answer)
            if all(isinstance(h, str) for h in q.history):
                said[(*q.history, q.question)] = {
                    "content": item.answer,
                    "citations": [{k: c.get(k) for k in ("source", "start", "end")} for c in item.citations[:1]],
                }
        except Exception as exc:  # a question that breaks the engine must not stop the run
            item = ItemResult(question=q, error=f"{type(exc).__name__}: {exc}")
        if not item.latency_ms:
            item.latency_ms = (time.perf_counter() - t0) * 1000
        item.half = half_of.get(q.id)
        items.append(item)
        if progress:
            progress(done, total, "Evaluating")
    return EvalResult(items=items, engine=engine, started=started, seconds=time.perf_counter() - t_run)
