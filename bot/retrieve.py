"""Retrieve stage: hybrid dense + keyword search as a LangChain ``BaseRetriever``.

Dense search asks Chroma for the nearest chunks to the query embedding; keyword
search runs BM25 (``bm25s``) over the same chunks; the two rankings are merged
with reciprocal-rank fusion (RRF), which needs no score calibration between
them. The BM25 index is built in memory from the chunks in Chroma and rebuilt
when the store's content changes (checked cheaply on each query), so the same
retriever serves an embedded index or a Chroma server.

Example:
    >>> from bot import HybridRetriever, load_settings
    >>> retriever = HybridRetriever.from_settings(load_settings(index_dir="index"))  # doctest: +SKIP
    >>> retriever.invoke("How many vehicles were delivered?")[0].metadata["source"]  # doctest: +SKIP

"""

from __future__ import annotations

import re
import threading
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr

from bot.embed import MiniLMEmbeddings
from bot.models import Chunk
from bot.settings import Settings
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


class HybridRetriever(BaseRetriever):
    """Dense (Chroma) + BM25 retriever fused with reciprocal-rank fusion.

    Each returned ``Document`` has metadata ``source``, ``chunk``, ``start``,
    ``end`` (exact character offsets in the source text), ``chunk_id``,
    ``doc_hash`` and ``score`` (fused), ``dense_score``, ``bm25_score``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Store
    embeddings: MiniLMEmbeddings = Field(default_factory=MiniLMEmbeddings)
    k: int = Field(4, ge=1, description="Documents returned.")
    fetch_k: int = Field(20, ge=1, description="Candidates taken from each of dense and BM25 search.")
    rrf_k: int = Field(60, ge=1, description="RRF constant; larger flattens rank differences.")

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _bm25: Any = PrivateAttr(default=None)
    _chunks: list[Chunk] = PrivateAttr(default_factory=list)
    _fingerprint: Any = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> HybridRetriever:
        """Open the index the settings point at (it must exist: see ``bot.build_index``).

        Args:
            settings: Index location and top-k.
            **kwargs: Overrides of the retriever's fields.

        Raises:
            IndexMissingError: If there is no index yet.

        """
        params: dict[str, Any] = {"k": settings.top_k, "fetch_k": settings.fetch_k, **kwargs}
        params.setdefault("store", Store.open(settings, create=False))
        return cls(**params)

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

    def search(self, query: str, k: int | None = None) -> list[Document]:
        """Fused search; the retriever's public core (``invoke`` calls this).

        Args:
            query: Free text.
            k: Number of documents (defaults to the retriever's ``k``).

        Returns:
            Up to ``k`` documents, best first.

        """
        k = k or self.k
        if not query.strip():
            return []
        dense = self.store.query_chunks(self.embeddings.embed_query(query), self.fetch_k)
        keyword = self.keyword_search(query, self.fetch_k)
        fused: dict[str, dict[str, Any]] = {}
        for ranking, name in ((dense, "dense_score"), (keyword, "bm25_score")):
            for rank, (chunk, score) in enumerate(ranking):
                entry = fused.setdefault(
                    chunk.id, {"chunk": chunk, "score": 0.0, "dense_score": 0.0, "bm25_score": 0.0}
                )
                entry["score"] += 1.0 / (self.rrf_k + rank + 1)
                entry[name] = score
        best = sorted(fused.values(), key=lambda e: (-e["score"], e["chunk"].source, e["chunk"].start))[:k]
        return [
            chunk_document(e["chunk"], score=e["score"], dense_score=e["dense_score"], bm25_score=e["bm25_score"])
            for e in best
        ]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None, **_: Any
    ) -> list[Document]:
        return self.search(query, k)
