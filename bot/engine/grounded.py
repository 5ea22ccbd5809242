"""The grounded engine: question and history in, a cited answer in the bot's own words out.

    resolve (conversation) -> analyse (question) -> evidence -> compute | extract -> decide -> phrase -> check

Every engine shares this run: the generative ones take its :class:`Outcome` (the evidence sentences,
the tools' results and the findings) and only rewrite the *phrase* step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.engine import compute, summary
from bot.engine.conversation import Resolved, resolve
from bot.engine.decide import judge, yes_or_no
from bot.engine.evidence import Evidence, gather
from bot.engine.extract import Candidate, candidates
from bot.engine.index import IndexView
from bot.engine.phrase import Cites, finish, join_list, refusal, span_answer, yes_no
from bot.engine.question import Question, analyse
from bot.guard import numbers_supported
from bot.models import Answer, Citation, ToolCall

TOP_SENTENCES = 4
"""Evidence sentences the extractor reads."""
EVIDENCE_FOR_READERS = 6
"""Evidence sentences handed to a generative reader."""


@dataclass
class Outcome:
    """Everything the grounded run found: the answer, the evidence and plain-language findings."""

    answer: Answer
    evidence: list[Citation]
    findings: list[str] = field(default_factory=list)
    answer_type: str = "other"


@dataclass
class Work:
    """The state of one question through the stages."""

    index: IndexView
    asked: str
    resolved: Resolved
    q: Question
    ev: Evidence | None = None
    cites: Cites = field(default_factory=Cites)
    tool_calls: list[ToolCall] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def answer(self, text: str, refused: bool = False, kind: str | None = None) -> Answer:
        """Build the final answer (and run the numeric guard on it)."""
        flags = []
        if not refused:
            bad = numbers_supported(text, self.cites.items, [t.result for t in self.tool_calls] + [self.asked])
            if bad:
                flags.append(f"unsupported numbers: {', '.join(bad)}")
        return Answer(
            question=self.asked,
            resolved_question=self.resolved.text,
            text=text,
            citations=self.cites.items,
            tool_calls=self.tool_calls,
            refused=refused,
            kind=kind or self.q.atype,
            engine="grounded",
            flags=flags,
        )


def run(index: IndexView, question: str, history: Sequence[str | Mapping[str, Any]] = ()) -> Outcome:
    """Answer a question from the documents alone.

    Args:
        index: The index (see :class:`bot.engine.index.IndexView`).
        question: A validated question.
        history: Earlier turns: user questions (text) or ``{"role", "content"[, "citations"]}`` messages.

    Returns:
        The outcome: the answer and the evidence it rests on.

    """
    resolved = resolve(question, history)
    w = Work(index, question, resolved, analyse(resolved.text))
    answer = _answer(w)
    evidence = list(answer.citations)
    if w.ev is not None:
        extra = Cites(list(evidence))
        for s in w.ev.top(EVIDENCE_FOR_READERS):
            extra.add(s)
        evidence = extra.items
    return Outcome(answer, evidence, w.findings, w.q.atype)


def _answer(w: Work) -> Answer:
    q = w.q
    if q.atype == "summary":
        return summary.summarize(w)
    computed = compute.try_compute(w)
    if computed is not None:
        return computed
    w.ev = gather(w.index, q, w.resolved.query, w.resolved.extra_terms, w.resolved.near)
    top = w.ev.top(TOP_SENTENCES)
    found = candidates(q, top)
    best = found[0] if found else None
    verdict = judge(q, w.ev, best, lambda word: w.index.idf(word) > 0)
    if not verdict.ok:
        return _refuse(w, verdict.why)
    if q.atype in ("yesno", "choice"):
        return _yes_no(w)
    assert best is not None
    if q.atype == "list":
        return _list(w, found)
    marks = w.cites.marks([best.sentence])
    return w.answer(span_answer(best.text, marks))


def _yes_no(w: Work) -> Answer:
    assert w.ev is not None
    s = w.ev.sentences[0]
    marks = w.cites.marks([s])
    if w.q.options:
        low = s.text.lower()
        hits = [o for o in w.q.options if o.lower().split()[-1] in low]
        if len(hits) == 1:
            return w.answer(span_answer(hits[0], marks))
    return w.answer(yes_no(yes_or_no(w.q, s), marks), kind="yesno")


def _list(w: Work, found: list[Candidate]) -> Answer:
    best = found[0]
    same = [c for c in found if c.sentence is best.sentence and c.kind == best.kind and c.score > best.score - 0.15]
    names = list(dict.fromkeys(c.text for c in sorted(same, key=lambda c: c.start)))
    marks = w.cites.marks([best.sentence])
    return w.answer(finish(join_list(names), marks), kind="list")


def _refuse(w: Work, why: str) -> Answer:
    text = refusal(why)
    if w.ev is not None and w.ev.sentences:
        closest = w.ev.sentences[0]
        n = w.cites.add(closest)
        text = f"{text} The closest passage is cited as [{n}]."
    w.findings.append(text)
    return w.answer(text, refused=True)
