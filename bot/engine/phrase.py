"""Phrase stage: the answer in the bot's own words, then its citation markers.

The answer comes first and short - the value, name, date, place, reason or yes/no that was asked -
followed by ``[n]`` markers that point at the evidence sentences. The quoted sentences themselves go
into the citations (the UI's Sources panel, the CLI's source list), never into the answer text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.engine.evidence import Sentence
from bot.models import Citation


@dataclass
class Cites:
    """Numbered citations of one answer (each an evidence sentence)."""

    items: list[Citation] = field(default_factory=list)

    def add(self, s: Sentence) -> int:
        """Cite a sentence and return its marker number (reusing an existing one)."""
        r = s.record
        for c in self.items:
            if (c.source, c.start, c.end) == (r.source, r.start, r.end):
                return c.n
        n = len(self.items) + 1
        self.items.append(Citation(n=n, source=r.source, start=r.start, end=r.end, quote=r.text))
        return n

    def marks(self, sentences: list[Sentence]) -> str:
        """Markers for some sentences: ``[1][2]``."""
        nums = []
        for s in sentences:
            n = self.add(s)
            if n not in nums:
                nums.append(n)
        return "".join(f"[{n}]" for n in nums)


_SPACES = re.compile(r"[ \t]{2,}")


def sentence_case(text: str) -> str:
    """Capitalise the first letter (leave the rest as written)."""
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def finish(text: str, marks: str) -> str:
    """``text [1].`` - the answer, its markers, one full stop."""
    body = text.strip().rstrip(".;:,")
    return f"{body} {marks}." if marks else f"{body}."


def span_answer(span: str, marks: str) -> str:
    """A short answer that is a span of the evidence ("Condé Nast [1].")."""
    text = _SPACES.sub(" ", span).strip(" ,;:")  # a run of spaces (a masked escape sequence) reads as one
    if text.count('"') % 2 or text.count("“") != text.count("”"):
        text = text.strip('"“”')  # a quote the span cut in two
    elif text[:1] in '"“' and text[-1:] in '"”' and text.count('"') + text.count("“") <= 2:
        text = text[1:-1]  # a quoted span whole: the quotation marks are the document's, not the answer's
    return finish(sentence_case(text.strip(" ,;:'’")), marks)


def yes_no(yes: bool, marks: str) -> str:
    """``Yes [1].`` or ``No [1].``."""
    return finish("Yes" if yes else "No", marks)


def join_list(items: list[str]) -> str:
    """``A, B and C``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


ABSTAIN_LEAD = "I can't tell for sure from the documents."
"""How an abstention opens: there is related evidence, but it does not settle the question."""


def refusal(what: str, nearby: str = "") -> str:
    """The documents do not say; optionally what they do say nearby (already cited)."""
    text = f"The documents do not say {what}." if what else "The documents do not say."
    return f"{text} {nearby}".strip()
