"""Reads of an embedded index reused while its files are untouched (:mod:`bot.unchanged`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from bot.embed import MiniLMEmbeddings
from bot.indexer import sync_index
from bot.settings import Settings
from bot.store import DocRecord, Store
from bot.unchanged import SETTLE_S, Unchanged


def _age(path: Path, seconds: float = 60.0) -> None:
    """Set a file's modification time to ``seconds`` ago (as if nothing wrote it since)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def _counter() -> tuple[list[int], Callable[[], int]]:
    reads: list[int] = []

    def read() -> int:
        reads.append(1)
        return len(reads)

    return reads, read


def test_value_is_reused_until_the_file_changes(tmp_path: Path) -> None:
    db = tmp_path / "chroma.sqlite3"
    db.write_bytes(b"one")
    _age(db)
    cache = Unchanged(db)
    reads, read = _counter()
    assert [cache.get("k", read) for _ in range(3)] == [1, 1, 1] and len(reads) == 1
    db.write_bytes(b"two")  # a write: new size and modification time
    assert cache.get("k", read) == 2
    _age(db)
    assert cache.get("k", read) == 3 and cache.get("k", read) == 3
    (tmp_path / "chroma.sqlite3-wal").write_bytes(b"frame")  # a write that only reaches the journal
    assert cache.get("k", read) == 4
    cache.clear()
    assert cache.get("k", read) == 5


def test_recently_written_files_are_always_read(tmp_path: Path) -> None:
    db = tmp_path / "chroma.sqlite3"
    db.write_bytes(b"fresh")  # modified now: a second write in the same clock tick would look the same
    cache = Unchanged(db)
    _, read = _counter()
    assert [cache.get("k", read) for _ in range(3)] == [1, 2, 3]
    then = time.time() - SETTLE_S - 1
    os.utime(db, (then, then))
    assert [cache.get("k", read) for _ in range(2)] == [4, 4]


def test_nothing_to_watch_always_reads() -> None:
    cache = Unchanged(None)
    _, read = _counter()
    assert [cache.get("k", read) for _ in range(3)] == [1, 2, 3]


def test_store_sees_a_write_of_another_store(store_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    """A reader that reuses its fingerprint still notices another writer's change at once."""
    writer = Store.open(store_settings)
    sync_index(store_settings, store=writer, embedder=embeddings)
    reader = Store.open(store_settings, create=False)
    for f in store_settings.chroma_dir.glob("chroma.sqlite3*"):
        _age(f)
    before = reader.fingerprint()
    n_chunks = len(reader.query_chunks(embeddings.embed_query("deliveries"), 1000))
    assert reader.fingerprint() == before and n_chunks > 0
    writer.set_docs([DocRecord("extra.txt", "0" * 64, 0, 0, "2026-01-01T00:00:00", "test")])
    assert reader.fingerprint() != before
    assert reader.fingerprint() == writer.fingerprint()
    assert len(reader.query_chunks(embeddings.embed_query("deliveries"), 1000)) == n_chunks
