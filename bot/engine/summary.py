"""Summaries: "summarize the document" or "the part about X" as a few central, cited sentences.

The sentences come from the evidence for the request (or for its scope, "the part about X"); the
most *central* ones - closest to the mean vector of that document's gathered sentences - are kept in
document order, each with its marker. Cost is bounded by the evidence, like every answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bot.engine.evidence import gather

if TYPE_CHECKING:
    from bot.engine.work import Work
    from bot.models import Answer

SENTENCES = 3
"""Sentences in a summary."""
MAX_CHARS = 260
"""A longer sentence is cut at a clause boundary near this length."""


def _short(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text.strip()
    cut = max(text.rfind(", ", 0, MAX_CHARS), text.rfind("; ", 0, MAX_CHARS))
    return (text[:cut] if cut > 80 else text[:MAX_CHARS].rsplit(" ", 1)[0]).rstrip(",; ") + " …"


def summarize(w: Work) -> Answer:
    """A short summary of the document (or part) the request is about."""
    query = w.q.summary_scope or w.resolved.query
    w.ev = gather(w.index, w.q, query, w.resolved.extra_terms, w.resolved.near, chunks=8)
    if not w.ev.sentences:
        return w.answer("The documents have nothing to summarize.", refused=True)
    source = w.resolved.near[0] if w.resolved.near and not w.q.summary_scope else w.ev.sentences[0].record.source
    pool = [s for s in w.ev.sentences if s.record.source == source and len(s.text) > 40]
    if not pool:
        pool = w.ev.sentences
    centre = np.mean([s.vector for s in pool], axis=0)
    scope = w.ev.vector if w.q.summary_scope else centre
    ranked = sorted(pool, key=lambda s: -(float(np.dot(s.vector, centre)) + float(np.dot(s.vector, scope))))
    chosen = sorted(ranked[:SENTENCES], key=lambda s: s.record.start)
    parts = [f"{_short(s.text).rstrip('.')} [{w.cites.add(s)}]." for s in chosen]
    return w.answer(" ".join(parts), kind="summary")
