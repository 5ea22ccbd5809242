"""Streaming that never shows an unchecked claim: text is released piece by piece, only while it passes a check."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.llm.common import visible

SENTENCE_END = re.compile(r"[.!?:;](?=\s)|\n")
"""Release whole sentences (the tool-calling engines)."""
WORD_END = re.compile(r"\s")
"""Release whole words (the local reader: token-speed streaming, a number is shown only once complete)."""


class Releaser:
    """Releases streamed text up to the last boundary, only while everything released passes ``check``.

    Once a piece fails the check (or markup appears inside released text) nothing more is released;
    the final answer then decides what the reader sees.
    """

    def __init__(self, check: Callable[[str], bool], boundary: re.Pattern[str] = SENTENCE_END) -> None:
        """Start with nothing released.

        Args:
            check: Called with all the text released so far plus the next piece; False stops the stream.
            boundary: Where a piece may end.
        """
        self.check = check
        self.boundary = boundary
        self.raw = ""
        self.released = ""
        self.blocked = False

    def feed(self, piece: str) -> str:
        """Add raw model text; return the newly released text (may be empty)."""
        self.raw += piece
        if self.blocked:
            return ""
        shown = visible(self.raw)
        if not shown.startswith(self.released):  # markup appeared inside released text: stop streaming
            self.blocked = True
            return ""
        pending = shown[len(self.released) :]
        cut = max((m.end() for m in self.boundary.finditer(pending)), default=0)
        if not cut:
            return ""
        if not self.check(self.released + pending[:cut]):
            self.blocked = True
            return ""
        self.released += pending[:cut]
        return pending[:cut]

    def rest(self) -> str:
        """The text not released yet (for a final check by the caller)."""
        shown = visible(self.raw)
        return shown[len(self.released) :] if shown.startswith(self.released) else ""
