"""Word statistics kept beside the index: read back by the next process, recounted when not current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.engine import word_stats
from bot.engine.index import StoreIndex
from bot.indexer import sync_index

QUESTION = "How many vehicles did HIMA deliver in November?"


def fresh_view(bot) -> StoreIndex:
    """A new engine view over the same store, as a new process would open it."""
    return StoreIndex(bot.store, bot.hybrid, stats_file=bot.engine_index.stats_file)


def no_counting(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(texts: list[str]) -> word_stats.WordStats:
        raise AssertionError("counted again although the file was current")

    monkeypatch.setattr(word_stats, "count", fail)


def test_the_next_process_reads_the_counts_instead_of_counting(seed_bot, monkeypatch: pytest.MonkeyPatch) -> None:
    first = seed_bot.engine_index
    df, n = first._stats()
    assert first.stats_file is not None and first.stats_file.parent == seed_bot.settings.index_dir
    assert first.stats_file.exists() and n > 0 and len(df) > 0
    no_counting(monkeypatch)
    again = fresh_view(seed_bot)
    df2, n2 = again._stats()
    assert (df2, n2) == (df, n)
    assert again._words == first._words
    assert again.correction("Novmber") == first.correction("Novmber") == "november"
    answer_before = seed_bot.ask(QUESTION).text
    seed_bot.__dict__["engine_index"] = again
    assert seed_bot.ask(QUESTION).text == answer_before


def test_a_changed_index_is_counted_again(seed_bot) -> None:
    view = seed_bot.engine_index
    _df, n = view._stats()
    saved = json.loads(view.stats_file.read_text(encoding="utf-8"))
    (seed_bot.settings.docs_dir / "extra.txt").write_text("Zorblatt Motors sold 12 trucks in 2024.\n", "utf-8")
    sync_index(seed_bot.settings, store=seed_bot.store, embedder=seed_bot.embeddings)
    df2, n2 = fresh_view(seed_bot)._stats()
    assert n2 > n and df2["zorblatt"] == 1
    now = json.loads(view.stats_file.read_text(encoding="utf-8"))
    assert now["fingerprint"] != saved["fingerprint"] and now["n_chunks"] == n2


@pytest.mark.parametrize("damage", ["garbage", "wrong types", "other tokenizer", "empty"])
def test_a_damaged_or_foreign_file_is_counted_again_and_rewritten(seed_bot, damage: str) -> None:
    view = seed_bot.engine_index
    df, n = view._stats()
    path: Path = view.stats_file
    data = json.loads(path.read_text(encoding="utf-8"))
    if damage == "garbage":
        path.write_bytes(b"\x00\xff not json")
    elif damage == "wrong types":
        path.write_text(json.dumps({**data, "df": [1, 2], "n_chunks": "many"}), encoding="utf-8")
    elif damage == "other tokenizer":
        path.write_text(json.dumps({**data, "tokenizer": "0" * 16, "n_chunks": 1}), encoding="utf-8")
    else:
        path.write_text("", encoding="utf-8")
    assert fresh_view(seed_bot)._stats() == (df, n)
    assert json.loads(path.read_text(encoding="utf-8"))["n_chunks"] == n


def test_a_file_that_cannot_be_written_only_means_counting(seed_bot) -> None:
    gone = seed_bot.settings.index_dir / "gone"
    view = StoreIndex(seed_bot.store, seed_bot.hybrid, stats_file=gone / "w.json")
    assert view._stats() == seed_bot.engine_index._stats()
    assert not gone.exists()  # no folder is created for it
    blocked = seed_bot.settings.index_dir / "blocked.json"
    blocked.mkdir()  # a folder where the file should be: the rename fails
    view = StoreIndex(seed_bot.store, seed_bot.hybrid, stats_file=blocked)
    assert view._stats() == seed_bot.engine_index._stats()
    assert blocked.is_dir() and not list(blocked.parent.glob(".blocked.json.*.tmp"))


def test_collections_sharing_an_index_folder_keep_their_own_files(tmp_path: Path) -> None:
    a, b = word_stats.file_for(tmp_path, "docs-1/owner"), word_stats.file_for(tmp_path, "docs-2/owner")
    assert a != b and a.parent == b.parent == tmp_path


def test_atomic_write_replaces_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    from bot.atomic import write_text

    target = tmp_path / "f.json"
    write_text(target, "old")
    write_text(target, "new ünïcode")
    assert target.read_text(encoding="utf-8") == "new ünïcode"
    with pytest.raises(OSError):
        write_text(tmp_path / "missing" / "f.json", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]
