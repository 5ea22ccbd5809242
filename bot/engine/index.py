"""What the engine needs of an index, and its implementation over the Chroma store.

The engine depends on :class:`IndexView` only (search chunks, sentences of chunks, nearest sentences,
word statistics), never on :class:`bot.service.Bot`, so the service imports the engine and not the
other way round. Every method's cost is bounded by the number of results asked for.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.engine import word_stats
from bot.hybrid import HybridSearch
from bot.language.tokens import STOPWORDS
from bot.sentences import SentenceRecord
from bot.store import Store


@dataclass(frozen=True)
class ChunkHit:
    """One retrieved chunk: where it is and how well it ranked."""

    id: str
    source: str
    start: int
    end: int
    text: str
    rank: int
    score: float


class IndexView(Protocol):
    """The index as the engine sees it."""

    def embed(self, text: str) -> list[float]:
        """The query vector of a text (normalised)."""
        ...

    def embed_words(self, words: list[str]) -> list[list[float]]:
        """Vectors of single words (normalised), for "close in meaning" checks."""
        ...

    def search(self, query: str, k: int) -> list[ChunkHit]:
        """The ``k`` best chunks for a query (hybrid dense + keyword)."""
        ...

    def sentences_of(self, chunks: list[ChunkHit]) -> list[tuple[SentenceRecord, list[float]]]:
        """The sentences inside some chunks, with their vectors."""
        ...

    def nearest_sentences(self, vector: list[float], n: int) -> list[tuple[SentenceRecord, list[float]]]:
        """The ``n`` sentences nearest to a vector, anywhere in the index."""
        ...

    def sentences_between(self, source: str, start: int, end: int) -> list[tuple[SentenceRecord, list[float]]]:
        """The sentences of one document between two offsets, with their vectors."""
        ...

    def idf(self, key: str) -> float:
        """Inverse document frequency of a word key over chunks (high for rare words; 0 if unknown)."""
        ...

    def passage(self, source: str, start: int, end: int) -> str:
        """The indexed text of a span (for reading the sentence before a cited one)."""
        ...

    def correction(self, word: str) -> str | None:
        """A word of the index one edit away from an unknown word (a typo), or None."""
        ...


class StoreIndex:
    """:class:`IndexView` over a :class:`Store` and its :class:`~bot.hybrid.HybridSearch`."""

    def __init__(self, store: Store, retriever: HybridSearch, stats_file: Path | None = None) -> None:
        """Wrap an open store and its retriever.

        Args:
            store: The open store.
            retriever: Its hybrid search.
            stats_file: Where the word statistics of the index are kept between processes
                (:mod:`bot.engine.word_stats`); None counts them in every process.
        """
        self.store = store
        self.retriever = retriever
        self.stats_file = stats_file
        self._lock = threading.Lock()
        self._df: Counter[str] = Counter()
        self._n_chunks = 0
        self._fingerprint: Any = None
        self._words: Counter[str] = Counter()
        self._deletes: dict[str, str] | None = None

    def embed(self, text: str) -> list[float]:
        """The query vector of a text (cached by the embedder)."""
        return self.retriever.embeddings.embed_query(text)

    def embed_words(self, words: list[str]) -> list[list[float]]:
        """Vectors of single words, embedded in one batch and cached (for "close in meaning" checks)."""
        cache: dict[str, list[float]] = self.__dict__.setdefault("_word_vectors", {})
        todo = sorted({w for w in words if w not in cache})
        if todo:
            vectors = self.retriever.embeddings.embed_documents(todo)
            with self._lock:
                if len(cache) > 20000:
                    cache.clear()
                cache.update(zip(todo, vectors, strict=True))
        return [cache[w] for w in words]

    def search(self, query: str, k: int) -> list[ChunkHit]:
        """Hybrid search."""
        docs = self.retriever.search(query, k)
        return [
            ChunkHit(
                str(d.metadata["chunk_id"]),
                str(d.metadata["source"]),
                int(d.metadata["start"]),
                int(d.metadata["end"]),
                d.page_content,
                rank,
                float(d.metadata.get("score", 0.0)),
            )
            for rank, d in enumerate(docs)
        ]

    def sentences_of(self, chunks: list[ChunkHit]) -> list[tuple[SentenceRecord, list[float]]]:
        """Sentences inside the chunks (one read)."""
        return self.store.sentences_within([(c.source, c.start, c.end) for c in chunks])

    def nearest_sentences(self, vector: list[float], n: int) -> list[tuple[SentenceRecord, list[float]]]:
        """Nearest sentences by vector."""
        return self.store.query_sentences(vector, n)

    def sentences_between(self, source: str, start: int, end: int) -> list[tuple[SentenceRecord, list[float]]]:
        """Sentences of a document inside a window (one read)."""
        return self.store.sentences_within([(source, start, end)])

    def _stats(self) -> tuple[Counter[str], int]:
        # Word statistics change only when the index does: read from the file beside the index when it
        # is of this index version, else counted from the chunks the keyword retriever already holds in
        # memory and saved. Once per index version, never per question.
        fingerprint = self.store.fingerprint()
        with self._lock:
            if fingerprint != self._fingerprint:
                stats = word_stats.load(self.stats_file, fingerprint)
                if stats is None:
                    _bm25, chunks = self.retriever._keyword_index()
                    stats = word_stats.count([c.text for c in chunks])
                    word_stats.save(self.stats_file, fingerprint, stats)
                words = stats.words
                top = max(words.values(), default=1)
                words.update({w: top for w in STOPWORDS if w.isalpha()})  # "wich" means "which", not "with"
                self._df, self._n_chunks, self._fingerprint = stats.df, stats.n_chunks, fingerprint
                self._words, self._deletes = words, None  # the typo table is built on the first typo
            return self._df, self._n_chunks

    def idf(self, key: str) -> float:
        """Smoothed IDF (BM25 style); 0 for a word the index never uses."""
        df, n = self._stats()
        d = df.get(key, 0)
        return 0.0 if d == 0 else math.log(1 + (n - d + 0.5) / (d + 0.5))

    def correction(self, word: str) -> str | None:
        """Symmetric-delete lookup (SymSpell style) in an index built once per index version."""
        self._stats()
        low = word.lower()
        if len(low) < 3 or not low.isalpha() or low in self._words:
            return None
        with self._lock:
            if self._deletes is None:
                self._deletes = _delete_index(self._words)
            deletes = self._deletes
        if low in deletes:  # a letter missing: "investmnt"
            return deletes[low]
        best: tuple[int, str] | None = None
        for d in _deletes(low):
            hit = d if d in self._words else deletes.get(d)  # a letter too many, or one changed
            if hit and hit != low and (best is None or self._words[hit] > best[0]):
                best = (self._words[hit], hit)
        return best[1] if best else None

    def passage(self, source: str, start: int, end: int) -> str:
        """Text of a span, from the chunks that cover it."""
        res = self.store.chunks.get(
            where={"$and": [{"source": {"$eq": source}}, {"start": {"$lte": start}}, {"end": {"$gte": end}}]},
            include=["metadatas", "documents"],
            limit=1,
        )
        if not res["ids"]:
            return ""
        meta, text = res["metadatas"][0], res["documents"][0] or ""
        return text[start - int(meta["start"]) : end - int(meta["start"])]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _delete_index(words: Counter[str]) -> dict[str, str]:
    """Every one-letter deletion of every word (length 4+) -> its most frequent source word."""
    index: dict[str, str] = {}
    for word, _n in words.most_common():
        if len(word) >= 3:
            for d in _deletes(word):
                index.setdefault(d, word)
    return index
