"""The hybrid retriever: the right chunk for the seed question, exact offsets, LangChain's standard suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import SEED_FILE
from langchain_tests.integration_tests import RetrieversIntegrationTests

from bot.embed import MiniLMEmbeddings
from bot.errors import IndexMissingError
from bot.indexer import sync_index
from bot.retrieve import HybridRetriever, tokenize
from bot.settings import Settings
from bot.store import Store

QUESTION = "How many vehicles did HIMA deliver in November?"


def test_top_result_holds_the_answer(store_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    sync_index(store_settings, embedder=embeddings)
    retriever = HybridRetriever.from_settings(store_settings, embeddings=embeddings)
    docs = retriever.invoke(QUESTION)
    assert len(docs) == store_settings.top_k
    top = docs[0]
    assert "81,864" in top.page_content
    meta = top.metadata
    source = (store_settings.docs_dir / meta["source"]).read_bytes().decode("utf-8")
    assert meta["source"] == SEED_FILE.name
    assert source[meta["start"] : meta["end"]] == top.page_content
    assert top.id == meta["chunk_id"]
    assert meta["score"] >= docs[1].metadata["score"]
    assert meta["dense_score"] > 0 and meta["bm25_score"] > 0  # both searches found it
    for d in docs:  # every result slices its source exactly
        assert source[d.metadata["start"] : d.metadata["end"]] == d.page_content


def test_keyword_index_follows_the_store(store_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    store = Store.open(store_settings)
    sync_index(store_settings, store=store, embedder=embeddings)
    retriever = HybridRetriever(store=store, embeddings=embeddings, k=2)
    assert not retriever.keyword_search("Zorblatt", 5)
    (store_settings.docs_dir / "zorb.txt").write_text("The Zorblatt factory produced 321 widgets in May.\n")
    sync_index(store_settings, store=store, embedder=embeddings)
    hits = retriever.keyword_search("Zorblatt widgets", 5)
    assert hits and hits[0][0].source == "zorb.txt"
    assert retriever.invoke("How many widgets did the Zorblatt factory produce?")[0].metadata["source"] == "zorb.txt"
    (store_settings.docs_dir / "zorb.txt").unlink()
    sync_index(store_settings, store=store, embedder=embeddings)
    assert not retriever.keyword_search("Zorblatt", 5)
    assert all(d.metadata["source"] != "zorb.txt" for d in retriever.invoke("Zorblatt widgets"))


def test_edge_queries(store_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    sync_index(store_settings, embedder=embeddings)
    retriever = HybridRetriever.from_settings(store_settings, embeddings=embeddings)
    assert retriever.invoke("   ") == []
    # Stopwords only: no keyword hits, dense search still answers.
    assert tokenize("what is the") == []
    assert len(retriever.invoke("what is the", k=2)) == 2
    assert len(retriever.invoke(QUESTION, k=50)) == Store.open(store_settings).chunks.count()


def test_missing_index(tmp_path: Path, chroma_url: str | None, collection: str) -> None:
    settings = Settings(docs_dir=tmp_path, index_dir=tmp_path / "index", chroma_url=chroma_url, collection=collection)
    with pytest.raises(IndexMissingError, match="run `bot index` first"):
        HybridRetriever.from_settings(settings)


def test_tokenize() -> None:
    assert tokenize("HIMA delivered 81,864 vehicles") == ["hima", "deliver", "81864", "vehicl"]
    assert tokenize("deliveries") == tokenize("delivered") == tokenize("delivery") == ["deliver"]
    assert "huawei" in tokenize("Huawei’s")


# -- LangChain standard retriever tests -----------------------------------------------------------


class _HybridRetrieverStandard(RetrieversIntegrationTests):
    """Shared set-up: the seed index is built once per class on the class's backend."""

    params: ClassVar[dict[str, Any]] = {}

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def retriever_query_example(self) -> str:
        return QUESTION

    @staticmethod
    def _build(request: pytest.FixtureRequest, tmp: Path, embeddings: MiniLMEmbeddings, url: str | None) -> None:
        import shutil

        docs = tmp / "docs"
        shutil.copytree(SEED_FILE.parent, docs)
        name = "std-" + request.cls.__name__.lower()
        settings = Settings(docs_dir=docs, index_dir=tmp / "index", chroma_url=url, collection=name)
        store = Store.open(settings)
        sync_index(settings, store=store, embedder=embeddings)
        request.cls.params = {"store": store, "embeddings": embeddings}


class TestHybridRetrieverEmbedded(_HybridRetrieverStandard):
    @pytest.fixture(autouse=True, scope="class")
    def _index(
        self, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embeddings: MiniLMEmbeddings
    ) -> None:
        self._build(request, tmp_path_factory.mktemp("std-embedded"), embeddings, None)


@pytest.mark.server
class TestHybridRetrieverServer(_HybridRetrieverStandard):
    @pytest.fixture(autouse=True, scope="class")
    def _index(
        self,
        request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory,
        embeddings: MiniLMEmbeddings,
        chroma_server: Any,
    ) -> None:
        self._build(request, tmp_path_factory.mktemp("std-server"), embeddings, chroma_server.url)
