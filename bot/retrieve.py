"""Retrieve stage: hybrid dense + keyword search as a LangChain ``BaseRetriever``.

The search itself is :class:`bot.hybrid.HybridSearch` (dense Chroma search and BM25 fused with
reciprocal-rank fusion); this module wraps it in LangChain's retriever interface (``invoke``,
callbacks, ``langchain-tests``' standard tests). The answer engine uses the search directly, so a
one-shot ``bot ask`` does not import LangChain's retriever machinery.

Example:
    >>> from bot import HybridRetriever, load_settings
    >>> retriever = HybridRetriever.from_settings(load_settings(index_dir="index"))  # doctest: +SKIP
    >>> retriever.invoke("How many vehicles were delivered?")[0].metadata["source"]  # doctest: +SKIP

"""

from __future__ import annotations

import threading
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr

from bot.embed import MiniLMEmbeddings, MiniLMEncoder
from bot.hybrid import STOPWORDS, HybridSearch, chunk_document, stem, tokenize
from bot.models import Chunk
from bot.settings import Settings
from bot.store import Store

__all__ = ["STOPWORDS", "HybridRetriever", "chunk_document", "stem", "tokenize"]


class HybridRetriever(BaseRetriever):
    """Dense (Chroma) + BM25 retriever fused with reciprocal-rank fusion (LangChain interface).

    Each returned ``Document`` has metadata ``source``, ``chunk``, ``start``,
    ``end`` (exact character offsets in the source text), ``chunk_id``,
    ``doc_hash`` and ``score`` (fused), ``dense_score``, ``bm25_score``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Store
    embeddings: MiniLMEncoder = Field(default_factory=MiniLMEmbeddings)
    k: int = Field(4, ge=1, description="Documents returned.")
    fetch_k: int = Field(20, ge=1, description="Candidates taken from each of dense and BM25 search.")
    rrf_k: int = Field(60, ge=1, description="RRF constant; larger flattens rank differences.")

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _core: HybridSearch | None = PrivateAttr(default=None)

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
        if "embeddings" not in params:
            params["embeddings"] = MiniLMEmbeddings.from_settings(settings)
        return cls(**params)

    @classmethod
    def over(cls, search: HybridSearch, **kwargs: Any) -> HybridRetriever:
        """A retriever sharing an existing search (its store, embedder and BM25 index)."""
        params: dict[str, Any] = {"k": search.k, "fetch_k": search.fetch_k, "rrf_k": search.rrf_k, **kwargs}
        retriever = cls(store=search.store, embeddings=search.embeddings, **params)
        retriever._core = search
        return retriever

    @property
    def core(self) -> HybridSearch:
        """The search this retriever runs (created on first use)."""
        with self._lock:
            if self._core is None:
                self._core = HybridSearch(self.store, self.embeddings, self.k, self.fetch_k, self.rrf_k)
            return self._core

    def _keyword_index(self) -> tuple[Any, list[Chunk]]:
        return self.core._keyword_index()

    def keyword_search(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        """BM25 search over all chunks; only chunks sharing a term are returned."""
        return self.core.keyword_search(query, n)

    def search(self, query: str, k: int | None = None) -> list[Document]:
        """Fused search; the retriever's public core (``invoke`` calls this).

        Args:
            query: Free text.
            k: Number of documents (defaults to the retriever's ``k``).

        Returns:
            Up to ``k`` documents, best first.

        """
        return self.core.search(query, k or self.k, fetch_k=self.fetch_k, rrf_k=self.rrf_k)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None, **_: Any
    ) -> list[Document]:
        return self.search(query, k)
