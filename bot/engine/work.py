"""The state of one question as it moves through the stages, and how its answer is built."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.engine.conversation import Resolved
from bot.engine.evidence import Evidence
from bot.engine.index import IndexView
from bot.engine.phrase import Cites
from bot.engine.question import Question
from bot.guard import numbers_supported
from bot.models import Answer, Citation, ToolCall


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
    found: list[Any] = field(default_factory=list)  # the candidates of the asked type, best first
    claim: Any = None  # the candidate the answer states (a span of an evidence sentence), when it is one
    stated: float = 0.0  # for a yes/no question: the share of its words the evidence states
    path: str = ""  # the route that made the answer: span, compute, explanation, yesno, list, count, refuse, ...

    def state(self, found: list[Any] | None = None, claim: Any = None, path: str | None = None) -> None:
        """Record what the verdict will read: the candidates, the stated span and the route taken."""
        if found is not None:
            self.found = found
        if claim is not None:
            self.claim = claim
        if path is not None:
            self.path = path

    def answer(self, text: str, refused: bool = False, kind: str | None = None) -> Answer:
        """Build the final answer (and run the numeric guard on it)."""
        flags = []
        if not refused:
            bad = numbers_supported(text, self.cites.items, [t.result for t in self.tool_calls] + [self.asked])
            if bad:
                flags.append(f"unsupported numbers: {', '.join(bad)}")
        citations = self.cites.items
        if self.claim is not None and not refused:
            citations = [_marked(c, self.claim.start, self.claim.end) for c in citations]
        return Answer(
            question=self.asked,
            resolved_question=self.resolved.text,
            text=text,
            citations=citations,
            tool_calls=self.tool_calls,
            refused=refused,
            kind=kind or self.q.atype,
            engine="grounded",
            flags=flags,
        )


def _marked(c: Citation, start: int, end: int) -> Citation:
    """A citation with the answer's span marked, when the span lies inside it."""
    if c.start <= start < end <= c.end:
        return c.model_copy(update={"answer_start": start, "answer_end": end})
    return c
