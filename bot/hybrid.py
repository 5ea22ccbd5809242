"""Hybrid dense + keyword search over the store, without LangChain's retriever machinery.

Dense search asks Chroma for the nearest chunks to the query embedding; keyword search runs BM25
(``bm25s``) over the same chunks; the two rankings are merged with reciprocal-rank fusion (RRF),
which needs no score calibration between them. The BM25 index is built in memory from the chunks in
Chroma and rebuilt when the store's content changes (checked cheaply on each query), so the same
search serves an embedded index or a Chroma server.

:class:`HybridSearch` is what the answer engine uses; :class:`bot.retrieve.HybridRetriever` is the
LangChain ``BaseRetriever`` over it. Importing LangChain's retriever base class costs about a second
(it loads LangChain's tracing and LangSmith), which a one-shot ``bot ask`` does not need.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document

from bot.models import Chunk

if TYPE_CHECKING:
    from bot.embed import MiniLMEncoder
    from bot.store import Store

_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*", re.UNICODE)
_STOPWORD_LIST = (
    "a an the and or but if of to in on at by for with from as is are was were be been being it its this "
    "that these those there their they them he she his her we our you your i me my do does did done how "
    "what which who whom whose when where why will would can could should may might must has have had "
    "not no so than then too very into over about also any all more most much many some such only own "
    "same just"
)
STOPWORDS = frozenset(_STOPWORD_LIST.split())


def stem(word: str) -> str:
    """Strip common English suffixes, lightly (deliveries/delivered/delivery -> deliver)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + repl
            break
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 4 and word[-1] in "ey" else word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens without stopwords (numbers kept, commas dropped)."""
    out = []
    for m in _WORD.finditer(text.lower()):
        tok = m.group(0).replace(",", "").replace("’", "'")
        tok = tok.removesuffix("'s")
        if tok and tok not in STOPWORDS:
            out.append(stem(tok))
    return out


def chunk_document(chunk: Chunk, **scores: float) -> Document:
    """Make a LangChain ``Document`` for a chunk, with its offsets and scores in metadata."""
    meta: dict[str, Any] = chunk.model_dump(exclude={"text"})
    meta["chunk_id"] = meta.pop("id")
    meta.update(scores)
    return Document(id=chunk.id, page_content=chunk.text, metadata=meta)


class HybridSearch:
    """Dense (Chroma) + BM25 search fused with reciprocal-rank fusion.

    Each returned ``Document`` has metadata ``source``, ``chunk``, ``start``,
    ``end`` (exact character offsets in the source text), ``chunk_id``,
    ``doc_hash`` and ``score`` (fused), ``dense_score``, ``bm25_score``.
    """

    def __init__(
        self, store: Store, embeddings: MiniLMEncoder | None = None, k: int = 4, fetch_k: int = 20, rrf_k: int = 60
    ) -> None:
        """Search an open store.

        Args:
            store: The index.
            embeddings: The query embedder; default the bundled model (ONNX).
            k: Documents returned.
            fetch_k: Candidates taken from each of dense and BM25 search.
            rrf_k: RRF constant; larger flattens rank differences.

        """
        if embeddings is None:
            from bot.embed import MiniLMEncoder

            embeddings = MiniLMEncoder()
        self.store, self.embeddings, self.k, self.fetch_k, self.rrf_k = store, embeddings, k, fetch_k, rrf_k
        self._lock = threading.Lock()
        self._bm25: Any = None
        self._chunks: list[Chunk] = []
        self._fingerprint: Any = None

    def _keyword_index(self) -> tuple[Any, list[Chunk]]:
        fingerprint = self.store.fingerprint()
        with self._lock:
            if fingerprint != self._fingerprint:
                import bm25s

                chunks = self.store.all_chunks()
                bm25 = None
                if chunks:
                    bm25 = bm25s.BM25()
                    bm25.index([tokenize(c.text) or ["\0"] for c in chunks], show_progress=False)
                self._bm25, self._chunks, self._fingerprint = bm25, chunks, fingerprint
            return self._bm25, self._chunks

    def keyword_search(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        """BM25 search over all chunks; only chunks sharing a term are returned."""
        bm25, chunks = self._keyword_index()
        tokens = tokenize(query)
        if bm25 is None or not tokens:
            return []
        ids, scores = bm25.retrieve([tokens], k=min(n, len(chunks)), show_progress=False, n_threads=1)
        return [(chunks[i], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    def search(
        self, query: str, k: int | None = None, fetch_k: int | None = None, rrf_k: int | None = None
    ) -> list[Document]:
        """Fused search.

        Args:
            query: Free text.
            k: Number of documents (defaults to ``self.k``).
            fetch_k: Candidates from each of dense and BM25 search (defaults to ``self.fetch_k``).
            rrf_k: RRF constant (defaults to ``self.rrf_k``).

        Returns:
            Up to ``k`` documents, best first.

        """
        k = k or self.k
        fetch_k = fetch_k or self.fetch_k
        rrf_k = rrf_k or self.rrf_k
        if not query.strip():
            return []
        dense = self.store.query_chunks(self.embeddings.embed_query(query), fetch_k)
        keyword = self.keyword_search(query, fetch_k)
        fused: dict[str, dict[str, Any]] = {}
        for ranking, name in ((dense, "dense_score"), (keyword, "bm25_score")):
            for rank, (chunk, score) in enumerate(ranking):
                entry = fused.setdefault(
                    chunk.id, {"chunk": chunk, "score": 0.0, "dense_score": 0.0, "bm25_score": 0.0}
                )
                entry["score"] += 1.0 / (rrf_k + rank + 1)
                entry[name] = score
        best = sorted(fused.values(), key=lambda e: (-e["score"], e["chunk"].source, e["chunk"].start))[:k]
        return [
            chunk_document(e["chunk"], score=e["score"], dense_score=e["dense_score"], bm25_score=e["bm25_score"])
            for e in best
        ]
