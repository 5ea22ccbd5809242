"""Split stage: sentence-aware chunks with exact character offsets.

Sentences are found with a small rule set (terminal punctuation followed by
space and an upper-case letter, digit or quote; line breaks; a guard for common
abbreviations and initials). Whole sentences are packed into chunks of about
``chunk_size`` characters, with ``overlap`` sentences repeated between
neighbours. Each chunk's text is exactly ``text[start:end]``, which is what
citations quote.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator

from bot.models import Chunk

_ABBREVIATION_LIST = (
    "mr mrs ms dr prof sr jr st inc ltd co corp plc no nos vs etc fig figs approx dept est jan feb mar "
    "apr jun jul aug sep sept oct nov dec e.g i.e u.s u.k u.n e.u a.m p.m"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_LIST.split())
# End of sentence: ., ! or ? (plus closing quotes/brackets), then whitespace.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
_STARTER = re.compile(r"\s+[\"'“‘(\[]?[A-Z0-9]")
_NEWLINE = re.compile(r"\n")
SPLITTER_VERSION = "s1"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` of each sentence, stripped of surrounding whitespace.

    Args:
        text: Any text.

    Returns:
        Non-overlapping spans in order; ``text[start:end]`` is a sentence.

    """
    cuts = {0, len(text)}
    for m in _NEWLINE.finditer(text):
        cuts.add(m.end())
    for m in _BOUNDARY.finditer(text):
        if _STARTER.match(text, m.end()) and not _is_abbreviation(text, m.start()):
            cuts.add(m.end())
    spans = []
    ordered = sorted(cuts)
    for a, b in itertools.pairwise(ordered):
        seg = text[a:b]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        if b - trail > a + lead:
            spans.append((a + lead, b - trail))
    return spans


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    m = re.search(r"(\S+)$", text[max(0, dot - 20) : dot])
    if not m:
        return False
    word = m.group(1).lstrip("\"'“‘(").lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _hard_split(text: str, start: int, end: int, limit: int) -> Iterator[tuple[int, int]]:
    """Split an over-long sentence at whitespace so no piece exceeds ``limit``."""
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = cut if cut > start else start + limit
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        yield start, end


def chunk_spans(text: str, chunk_size: int = 600, overlap: int = 1) -> list[tuple[int, int]]:
    """Pack sentences into chunk spans.

    Args:
        text: The document text.
        chunk_size: Target maximum chunk length in characters (a single
            sentence longer than twice this is cut at whitespace).
        overlap: Number of trailing sentences of a chunk repeated at the start
            of the next one.

    Returns:
        ``(start, end)`` spans in document order.

    """
    sentences: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        sentences.extend(_hard_split(text, s, e, 2 * chunk_size) if e - s > 2 * chunk_size else [(s, e)])
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        j = i + 1
        while j < len(sentences) and sentences[j][1] - sentences[i][0] <= chunk_size:
            j += 1
        chunks.append((sentences[i][0], sentences[j - 1][1]))
        if j >= len(sentences):
            break
        i = max(j - overlap, i + 1)
    return chunks


def chunk_id(source: str, start: int, end: int, text: str) -> str:
    """Stable id of a chunk, from its source, offsets and content."""
    return hashlib.sha1(f"{source}\0{start}\0{end}\0{text}".encode()).hexdigest()[:20]


def split_document(source: str, text: str, doc_hash: str, chunk_size: int = 600, overlap: int = 1) -> list[Chunk]:
    """Split one document into :class:`Chunk` records.

    Args:
        source: The document's name in the index.
        text: Its text.
        doc_hash: Hash of the file, stored on each chunk.
        chunk_size: See :func:`chunk_spans`.
        overlap: See :func:`chunk_spans`.

    Returns:
        Chunks with exact offsets and stable ids.

    """
    out = []
    for n, (s, e) in enumerate(chunk_spans(text, chunk_size, overlap)):
        piece = text[s:e]
        out.append(
            Chunk(
                id=chunk_id(source, s, e, piece), source=source, chunk=n, start=s, end=e, text=piece, doc_hash=doc_hash
            )
        )
    return out
