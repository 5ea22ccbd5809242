"""The state of one question as it moves through the stages, and how its answer is built."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine.conversation import Resolved
from bot.engine.evidence import Evidence
from bot.engine.index import IndexView
from bot.engine.phrase import Cites
from bot.engine.question import Question
from bot.guard import numbers_supported
from bot.models import Answer, ToolCall


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
