"""Sentence records of a document: the units the answer engine ranks and quotes.

Each sentence is indexed with its own vector (next to the chunks), so answering a question can rank
the sentences of the retrieved chunks semantically without embedding anything but the question.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.split import sentence_spans

MAX_SENTENCE_CHARS = 1200
"""Longer "sentences" (tables, lists without stops) are cut into pieces of at most this size."""


@dataclass(frozen=True)
class SentenceRecord:
    """One sentence of a document: ``document_text[start:end] == text``."""

    id: str
    source: str
    start: int
    end: int
    text: str


def sentence_id(source: str, start: int, end: int, text: str) -> str:
    """A stable id from where the sentence is and what it says."""
    digest = hashlib.sha1(f"{source}\0{start}\0{end}\0{text}".encode()).hexdigest()[:20]
    return f"s-{digest}"


def document_sentences(source: str, text: str) -> list[SentenceRecord]:
    """Split a document's text into sentence records.

    Args:
        source: The document's source name.
        text: Its indexed text.

    Returns:
        The sentences in order, each with exact offsets.

    """
    out = []
    for start, end in sentence_spans(text):
        for a in range(start, end, MAX_SENTENCE_CHARS):
            b = min(end, a + MAX_SENTENCE_CHARS)
            piece = text[a:b]
            if piece.strip():
                out.append(SentenceRecord(sentence_id(source, a, b, piece), source, a, b, piece))
    return out
