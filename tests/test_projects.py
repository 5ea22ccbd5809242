"""Several docs folders on one Chroma server: each owns its records, none touches another's.

Every test here starts its own ``chroma run`` (a real server), so nothing is shared with other tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from _corpora import BATTERY_TEXT
from chroma_server import ChromaServer
from conftest import SEEDS

from bot.embed import MiniLMEmbeddings
from bot.indexer import sync_index
from bot.service import Bot
from bot.settings import Settings
from bot.store import Store

pytestmark = pytest.mark.server

HIMA_Q = "How many vehicles did HIMA deliver in November?"
NORDVOLT_Q = "How many people does Nordvolt employ?"
COMMON = "Globex sold 77 ships in June. Its yard in Kiel employs 1,300 people.\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    srv = ChromaServer(tmp_path / "chroma-data").start()
    yield srv
    srv.stop()


def two_folders(tmp_path: Path) -> tuple[Path, Path]:
    a = tmp_path / "project-a" / "docs"
    shutil.copytree(SEEDS, a)
    b = tmp_path / "project-b" / "docs"  # the same folder name, another path
    b.mkdir(parents=True)
    (b / "batteries.txt").write_text(BATTERY_TEXT)
    for folder in (a, b):  # the same file in both: same source name, same content, same chunk ids
        (folder / "common.txt").write_text(COMMON)
    return a, b


def settings_for(docs: Path, url: str, **kw: object) -> Settings:
    return Settings(docs_dir=docs, index_dir=docs.parent / "index", chroma_url=url, **kw)


def answer(settings: Settings, embeddings: MiniLMEmbeddings, question: str) -> str:
    return Bot(settings, embeddings=embeddings).ask(question).text


def index_in_turn(sa: Settings, sb: Settings, embeddings: MiniLMEmbeddings) -> None:
    first_a = sync_index(sa, embedder=embeddings)
    first_b = sync_index(sb, embedder=embeddings)
    assert sorted(first_a.indexed) == ["common.txt", "huawei_auto_brand_alliances.txt"]
    assert sorted(first_b.indexed) == ["batteries.txt", "common.txt"]
    assert first_b.removed == [], "indexing B must not see A's documents as removed"
    for s in (sa, sb, sa, sb):  # second passes: nothing to do for either
        again = sync_index(s, embedder=embeddings)
        assert again.embedded == 0 and again.indexed == [] and again.removed == [], again.summary()
        assert again.unchanged == 2
    assert "81,864" in answer(sa, embeddings, HIMA_Q)
    assert "12,400" in answer(sb, embeddings, NORDVOLT_Q)
    assert {d.source for d in Bot(sa, embeddings=embeddings).documents()} == {
        "common.txt",
        "huawei_auto_brand_alliances.txt",
    }
    assert {d.source for d in Bot(sb, embeddings=embeddings).documents()} == {"batteries.txt", "common.txt"}


def test_two_folders_with_default_collections_keep_their_documents(
    server: ChromaServer, tmp_path: Path, embeddings: MiniLMEmbeddings
) -> None:
    a, b = two_folders(tmp_path)
    sa, sb = settings_for(a, server.url), settings_for(b, server.url)
    assert sa.collection is None and sa.collection_name != sb.collection_name
    assert sa.collection_name.startswith("docs-") and sb.collection_name.startswith("docs-")
    index_in_turn(sa, sb, embeddings)
    import chromadb

    names = {c.name for c in chromadb.HttpClient(host="127.0.0.1", port=server.port).list_collections()}
    assert {sa.collection_name, sb.collection_name} <= names and "docs" not in names


def test_two_folders_sharing_one_collection_never_delete_each_others_records(
    server: ChromaServer, tmp_path: Path, embeddings: MiniLMEmbeddings
) -> None:
    a, b = two_folders(tmp_path)
    sa, sb = settings_for(a, server.url, collection="shared"), settings_for(b, server.url, collection="shared")
    index_in_turn(sa, sb, embeddings)
    store_b = Store.open(sb)
    b_chunks = {c.id for c in store_b.all_chunks()}
    b_facts = store_b.facts.count()

    # A removes its copy of the common file (same name and content as B's): B keeps its own.
    (a / "common.txt").unlink()
    report = sync_index(sa, embedder=embeddings)
    assert report.removed == ["common.txt"] and report.embedded == 0
    assert {c.id for c in store_b.all_chunks()} == b_chunks and store_b.facts.count() == b_facts
    assert "1,300" in answer(sb, embeddings, "How many people does the Globex yard in Kiel employ?")
    again = sync_index(sb, embedder=embeddings)
    assert again.embedded == 0 and again.removed == [] and again.unchanged == 2
    # Neither sees the other's documents when answering.
    assert "81,864" not in answer(sb, embeddings, HIMA_Q)
    assert "12,400" not in answer(sa, embeddings, NORDVOLT_Q)


def test_tenant_and_database_settings(server: ChromaServer, tmp_path: Path, embeddings: MiniLMEmbeddings) -> None:
    import chromadb

    a, _ = two_folders(tmp_path)
    sa = settings_for(a, server.url, chroma_tenant="team-a", chroma_database="reports")
    report = sync_index(sa, embedder=embeddings)
    assert report.chunks > 0
    assert "81,864" in answer(sa, embeddings, HIMA_Q)
    scoped = chromadb.HttpClient(host="127.0.0.1", port=server.port, tenant="team-a", database="reports")
    assert sa.collection_name in {c.name for c in scoped.list_collections()}
    default = chromadb.HttpClient(host="127.0.0.1", port=server.port)
    assert sa.collection_name not in {c.name for c in default.list_collections()}
    assert sync_index(sa, embedder=embeddings).embedded == 0


def test_embedded_index_of_an_older_version_still_opens(tmp_path: Path, embeddings: MiniLMEmbeddings) -> None:
    """An index written before per-folder collections (collection ``docs``, records without owner)."""
    from bot.store import connect

    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    settings = Settings(docs_dir=docs, index_dir=tmp_path / "index")
    old = Store(connect(settings), "docs", owner=None)  # the layout older versions wrote
    first = sync_index(settings, store=old, embedder=embeddings)
    assert first.chunks > 0

    store = Store.open(settings)
    assert store.name == "docs" and store.owner is None
    report = sync_index(settings, store=store, embedder=embeddings)
    assert report.embedded == 0 and report.unchanged == 1 and report.removed == []
    assert "81,864" in Bot(settings, store=store, embeddings=embeddings).ask(HIMA_Q).text
    # Explicitly named, it opens the same way, and says once what it is.
    named = Store.open(settings.model_copy(update={"collection": "docs"}))
    assert named.owner is None and any("older version" in n for n in named.notes)
