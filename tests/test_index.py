"""Indexing through the library: incremental, idempotent, deletions, bad input, interruption, locking.

Every test runs against the real embedding model and real Chroma; the ones
taking ``store_settings`` run twice, on embedded Chroma and on a ``chroma run``
server (marked ``server``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEED_FILE

from bot.embed import MiniLMEmbeddings
from bot.errors import BotError, IndexCorruptError, InputError
from bot.indexer import sync_index, writer_lock
from bot.settings import Settings
from bot.store import Store

SEED = SEED_FILE.name

SECOND_DOC = (
    "Acme Robotics opened a plant in Leipzig in March. The plant employs 420 people.\n"
    "Acme expects to build 12,000 robot arms there next year. Dr. Weber runs the site.\n\n"
    "The company also sells software. Its U.S. revenue from software reached $48 million last year, "
    "up from $31 million a year earlier.\n"
)


def chunk_ids(store: Store) -> dict[str, set[str]]:
    """Chunk ids by source."""
    out: dict[str, set[str]] = {}
    for c in store.all_chunks():
        out.setdefault(c.source, set()).add(c.id)
    return out


def manifest(settings: Settings) -> dict[str, dict]:
    data = json.loads((settings.index_dir / "manifest.json").read_text(encoding="utf-8"))
    return {d["source"]: d for d in data["documents"]}


def assert_offsets_exact(store: Store, docs_dir: Path) -> None:
    """Every stored chunk slices exactly its text out of its source file."""
    chunks = store.all_chunks()
    assert chunks
    texts: dict[str, str] = {}
    for c in chunks:
        text = texts.setdefault(c.source, (docs_dir / c.source).read_bytes().decode("utf-8"))
        assert text[c.start : c.end] == c.text, f"{c.source} chunk {c.chunk} offsets are off"


def assert_consistent(store: Store) -> None:
    """The manifest's chunk/fact counts match what the collections hold."""
    records = store.doc_records()
    by_source = chunk_ids(store)
    assert set(by_source) == set(records)
    for source, rec in records.items():
        assert len(by_source[source]) == rec.chunks
    assert store.chunks.count() == sum(r.chunks for r in records.values())
    assert store.facts.count() == sum(r.facts for r in records.values())


# -- build, re-run, change, delete -------------------------------------------------------------


def test_index_build_and_rerun_is_idempotent(store_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    store = Store.open(store_settings)
    first = sync_index(store_settings, store=store, embedder=embeddings)
    assert first.files == 1 and first.indexed == [SEED] and first.unchanged == 0
    assert first.chunks > 5 and first.embedded == first.chunks
    assert first.facts > 0
    assert store.chunks.count() == first.chunks
    ids_before = chunk_ids(store)
    assert_offsets_exact(store, store_settings.docs_dir)
    assert_consistent(store)
    assert manifest(store_settings)[SEED]["chunks"] == first.chunks

    second = sync_index(store_settings, store=store, embedder=embeddings)
    assert second.embedded == 0 and second.indexed == [] and second.unchanged == 1 and second.removed == []
    assert second.chunks == first.chunks and second.facts == first.facts
    assert store.chunks.count() == first.chunks
    assert chunk_ids(store) == ids_before

    # A fresh client (a new process would do the same) sees the same index and also does nothing.
    third = sync_index(store_settings, embedder=embeddings)
    assert third.embedded == 0 and third.chunks == first.chunks
    assert "1 files (0 indexed, 1 unchanged, 0 removed)" in third.summary()
    assert f"{first.chunks} chunks (0 embedded)" in third.summary()


def test_changed_file_reindexes_only_that_file(store_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    docs = store_settings.docs_dir
    (docs / "acme.txt").write_text(SECOND_DOC, encoding="utf-8")
    store = Store.open(store_settings)
    sync_index(store_settings, store=store, embedder=embeddings)
    before = chunk_ids(store)
    records_before = store.doc_records()
    assert set(before) == {SEED, "acme.txt"}

    # Append a paragraph: the unchanged leading chunks of acme.txt keep their ids and vectors.
    (docs / "acme.txt").write_text(
        SECOND_DOC + "\nIn May the Leipzig plant shipped its first 900 arms to customers in Poland and Austria.\n",
        encoding="utf-8",
    )
    report = sync_index(store_settings, store=store, embedder=embeddings)
    after = chunk_ids(store)
    assert report.indexed == ["acme.txt"] and report.unchanged == 1
    assert after[SEED] == before[SEED], "the untouched document's chunks changed"
    new_ids = after["acme.txt"] - before["acme.txt"]
    assert new_ids and report.embedded == len(new_ids), "only the new chunks should be embedded"
    assert report.embedded < len(after["acme.txt"]) or len(after["acme.txt"]) == 1
    records = store.doc_records()
    assert records[SEED] == records_before[SEED]  # same hash, same indexed_at: not touched
    assert records["acme.txt"].sha256 != records_before["acme.txt"].sha256
    assert_offsets_exact(store, docs)
    assert_consistent(store)
    assert any("900" in c.text for c in store.all_chunks() if c.source == "acme.txt")

    # Rewrite it completely: stale chunks and facts of the old version are gone.
    (docs / "acme.txt").write_text("Globex sold 77 ships in June. Nothing else happened.\n", encoding="utf-8")
    report = sync_index(store_settings, store=store, embedder=embeddings)
    assert report.indexed == ["acme.txt"]
    acme_chunks = [c for c in store.all_chunks() if c.source == "acme.txt"]
    assert [c.text for c in acme_chunks] == ["Globex sold 77 ships in June. Nothing else happened."]
    acme_facts = [f for f in store.all_facts() if f.source == "acme.txt"]
    assert acme_facts and all("Leipzig" not in f.sentence for f in acme_facts)
    assert chunk_ids(store)[SEED] == before[SEED]
    assert_consistent(store)


def test_deleted_file_is_removed(store_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    docs = store_settings.docs_dir
    (docs / "sub").mkdir()
    (docs / "sub" / "acme.txt").write_text(SECOND_DOC, encoding="utf-8")
    store = Store.open(store_settings)
    sync_index(store_settings, store=store, embedder=embeddings)
    assert {f.source for f in store.all_facts()} == {SEED, "sub/acme.txt"}
    assert set(manifest(store_settings)) == {SEED, "sub/acme.txt"}
    seed_ids = chunk_ids(store)[SEED]

    (docs / "sub" / "acme.txt").unlink()
    report = sync_index(store_settings, store=store, embedder=embeddings)
    assert report.removed == ["sub/acme.txt"] and report.embedded == 0 and report.unchanged == 1
    assert set(chunk_ids(store)) == {SEED}
    assert chunk_ids(store)[SEED] == seed_ids
    assert {f.source for f in store.all_facts()} == {SEED}
    assert set(store.doc_records()) == {SEED}
    assert set(manifest(store_settings)) == {SEED}
    assert_consistent(store)


def test_stored_chunks_slice_crlf_document(store_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    from test_split import CRLF_DOC

    (store_settings.docs_dir / "review.txt").write_bytes(CRLF_DOC.encode("utf-8"))
    store = Store.open(store_settings)
    sync_index(store_settings, store=store, embedder=embeddings)
    assert_offsets_exact(store, store_settings.docs_dir)
    ids = chunk_ids(store)
    # Stable ids: a brand-new index of the same files gets the same chunk ids.
    other = store_settings.model_copy(
        update={"index_dir": store_settings.index_dir.parent / "index2", "collection": store_settings.collection + "-b"}
    )
    sync_index(other, embedder=embeddings)
    assert chunk_ids(Store.open(other)) == ids


# -- bad input -------------------------------------------------------------------------------------


def test_sentences_within_spans_come_from_those_spans_only(
    store_settings: Settings, embeddings: MiniLMEmbeddings
) -> None:
    from bot.sentences import document_sentences

    (store_settings.docs_dir / "acme.txt").write_text(SECOND_DOC, encoding="utf-8")
    store = Store.open(store_settings)
    sync_index(store_settings, store=store, embedder=embeddings)
    texts = {p.name: p.read_text(encoding="utf-8") for p in store_settings.docs_dir.iterdir()}
    seed_len = len(texts[SEED])
    # All of the second document (its offsets reach over the whole seed, whose sentences must not come
    # along), and two spans of the seed that start and end inside sentences.
    spans = [("acme.txt", 0, 10_000), (SEED, 401, seed_len // 3), (SEED, seed_len // 2 + 1, seed_len // 2 + 400)]
    seed_sentences = document_sentences(SEED, texts[SEED])
    straddling = [r for r in seed_sentences for _s, a, b in spans[1:] if r.start < a < r.end or r.start < b < r.end]
    assert straddling, "the spans should cut through some sentences"
    expected = sorted(
        (r.source, r.start, r.end, r.text)
        for src, text in texts.items()
        for r in document_sentences(src, text)
        if any(r.source == s and r.start >= a and r.end <= b for s, a, b in spans)
    )
    got = store.sentences_within(spans)
    assert [(r.source, r.start, r.end, r.text) for r, _v in got] == expected
    assert {r.source for r, _v in got} == {SEED, "acme.txt"}
    assert all(len(v) == 384 for _r, v in got)
    assert store.sentences_within([("acme.txt", 10_000, 20_000)]) == []
    assert store.sentences_within([("nowhere.txt", 0, 100)]) == []


BAD_FILES = {
    "binary": ("blob.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "Skipped blob.txt: binary file"),
    "non_utf8": (
        "latin1.txt",
        "Caf\u00e9 cr\u00e8me co\u00fbte 3 \u20ac.".encode("cp1252"),
        "Skipped latin1.txt: not UTF-8",
    ),
    "empty": ("empty.md", b"", "Skipped empty.md: empty"),
    "blank": ("blank.txt", b" \n\n \t\n", "Skipped blank.txt: empty"),
    "unsupported": ("photo.png", b"\x89PNG\r\n\x1a\n", "Skipped photo.png: unsupported file type .png"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_is_skipped_with_warning(kind: str, store_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    store = Store.open(store_settings)
    sync_index(store_settings, store=store, embedder=embeddings)
    ids = chunk_ids(store)
    name, data, expected = BAD_FILES[kind]
    (store_settings.docs_dir / name).write_bytes(data)

    warnings: list[str] = []
    report = sync_index(store_settings, store=store, embedder=embeddings, warn=warnings.append)
    assert len(warnings) == 1 and warnings[0].startswith(expected), warnings
    assert "\n" not in warnings[0]
    assert [s for s, _ in report.skipped] == [name]
    assert report.embedded == 0 and report.unchanged == 1 and report.removed == []
    assert chunk_ids(store) == ids, "previously indexed data must stay"


def test_only_bad_files_and_no_index_is_an_error(tmp_path: Path, embeddings: MiniLMEmbeddings) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "blob.txt").write_bytes(b"\x00\x01\x02")
    settings = Settings(docs_dir=docs, index_dir=tmp_path / "index")
    warnings: list[str] = []
    with pytest.raises(InputError, match=r"No readable documents in .*nothing was indexed"):
        sync_index(settings, embedder=embeddings, warn=warnings.append)
    assert warnings == ["Skipped blob.txt: binary file (contains NUL bytes)"]


def test_file_turned_unreadable_keeps_previous_version(store_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    store = Store.open(store_settings)
    sync_index(store_settings, store=store, embedder=embeddings)
    ids = chunk_ids(store)
    facts = store.facts.count()
    (store_settings.docs_dir / SEED).write_bytes(b"\xff\xfe broken \x81")
    warnings: list[str] = []
    report = sync_index(store_settings, store=store, embedder=embeddings, warn=warnings.append)
    assert len(warnings) == 1 and "not UTF-8" in warnings[0] and "previous version stays indexed" in warnings[0]
    assert report.removed == [] and chunk_ids(store) == ids and store.facts.count() == facts


def test_empty_docs_folder(store_settings: Settings, embeddings: MiniLMEmbeddings, tmp_path: Path) -> None:
    empty = tmp_path / "empty-docs"
    empty.mkdir()
    # With no index yet: a clear error, nothing created in the store.
    fresh = store_settings.model_copy(update={"docs_dir": empty})
    with pytest.raises(InputError, match=r"^No documents in .*empty-docs\.$"):
        sync_index(fresh, embedder=embeddings)

    store = Store.open(store_settings)
    sync_index(store_settings, store=store, embedder=embeddings)
    ids = chunk_ids(store)
    # An existing index is never wiped because the folder is (temporarily) empty.
    with pytest.raises(InputError, match="the index keeps its 1 documents"):
        sync_index(store_settings.model_copy(update={"docs_dir": empty}), store=store, embedder=embeddings)
    assert chunk_ids(store) == ids
    assert set(store.doc_records()) == {SEED}


def test_missing_docs_folder(store_settings: Settings, embeddings: MiniLMEmbeddings, tmp_path: Path) -> None:
    store = Store.open(store_settings)
    sync_index(store_settings, store=store, embedder=embeddings)
    ids = chunk_ids(store)
    missing = store_settings.model_copy(update={"docs_dir": tmp_path / "nope"})
    with pytest.raises(InputError, match=r"Docs folder .*nope does not exist"):
        sync_index(missing, store=store, embedder=embeddings)
    a_file = store_settings.model_copy(update={"docs_dir": store_settings.docs_dir / SEED})
    with pytest.raises(InputError, match="is not a folder"):
        sync_index(a_file, store=store, embedder=embeddings)
    assert chunk_ids(store) == ids


def test_corrupt_index_is_reported_and_left_alone(seed_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    db = seed_settings.chroma_dir / "chroma.sqlite3"
    db.parent.mkdir(parents=True)
    garbage = b"this is not a sqlite database\n" * 100
    db.write_bytes(garbage)
    with pytest.raises(IndexCorruptError, match=r"cannot be opened .*left untouched"):
        sync_index(seed_settings, embedder=embeddings)
    assert db.read_bytes() == garbage
    assert sorted(p.name for p in seed_settings.chroma_dir.iterdir()) == ["chroma.sqlite3"]


def test_index_dir_that_is_a_file(seed_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    seed_settings.index_dir.mkdir()
    seed_settings.chroma_dir.write_text("oops")
    with pytest.raises(IndexCorruptError, match="is not a folder"):
        sync_index(seed_settings, embedder=embeddings)
    assert seed_settings.chroma_dir.read_text() == "oops"


# -- interruption and concurrency --------------------------------------------------------------------


class InterruptingEmbeddings(MiniLMEmbeddings):
    """The real model, but the Nth call to ``encode`` raises KeyboardInterrupt (as Ctrl-C would)."""

    def __init__(self, fail_on_call: int) -> None:
        super().__init__()
        self.fail_on_call = fail_on_call
        self.calls = 0

    def encode(self, texts, on_batch=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt
        return super().encode(texts, on_batch)


def test_interrupted_run_leaves_usable_index(
    store_settings: Settings, embeddings: MiniLMEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import indexer
    from bot.retrieve import HybridRetriever

    docs = store_settings.docs_dir
    (docs / "acme.txt").write_text(SECOND_DOC, encoding="utf-8")
    (docs / "globex.txt").write_text("Globex sold 77 ships in June. Its yard in Kiel employs 1,300 people.\n")
    # Commit after every document so that the first batch is durable before the interruption.
    monkeypatch.setattr(indexer, "_COMMIT_CHUNKS", 1)
    with pytest.raises(KeyboardInterrupt):
        sync_index(store_settings, embedder=InterruptingEmbeddings(fail_on_call=2))

    store = Store.open(store_settings)
    done = store.doc_records()
    assert set(done) == {"acme.txt"}, "the first batch (acme.txt, sorted first) should be committed"
    assert_consistent(store)
    retriever = HybridRetriever(store=store, embeddings=embeddings, k=2)
    hits = retriever.invoke("How many people work at the Leipzig plant?")
    assert hits and hits[0].metadata["source"] == "acme.txt"

    report = sync_index(store_settings, store=store, embedder=embeddings)
    assert sorted(report.indexed) == ["globex.txt", SEED] and report.unchanged == 1
    assert report.embedded == report.chunks - done["acme.txt"].chunks
    assert set(store.doc_records()) == {"acme.txt", "globex.txt", SEED}
    assert_consistent(store)
    assert_offsets_exact(store, docs)


def test_interrupt_before_commit_marker_reuses_vectors(
    store_settings: Settings, embeddings: MiniLMEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks written without their manifest record (killed mid-commit) are reused, not re-embedded."""
    store = Store.open(store_settings)

    def killed(*_args: object, **_kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "set_docs", killed)
    with pytest.raises(KeyboardInterrupt):
        sync_index(store_settings, store=store, embedder=embeddings)
    monkeypatch.undo()
    written = store.chunks.count()
    assert written > 0 and store.doc_records() == {}

    report = sync_index(store_settings, store=store, embedder=embeddings)
    assert report.indexed == [SEED] and report.embedded == 0 and report.chunks == written
    assert_consistent(store)


def test_second_writer_gets_clear_error(seed_settings: Settings, embeddings: MiniLMEmbeddings) -> None:
    sync_index(seed_settings, embedder=embeddings)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from bot.settings import Settings\n"
            "from bot.indexer import writer_lock\n"
            f"s = Settings(docs_dir={str(seed_settings.docs_dir)!r}, index_dir={str(seed_settings.index_dir)!r})\n"
            "with writer_lock(s):\n"
            "    print('locked', flush=True)\n"
            "    sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(BotError, match=r"^Another process is writing to the index in .*BOT_CHROMA_URL"):
            sync_index(seed_settings, embedder=embeddings)
        # The CLI says the same in one line.
        cli = subprocess.run(
            [
                str(Path(sys.executable).with_name("bot")),
                "index",
                "--docs",
                str(seed_settings.docs_dir),
                "--index",
                str(seed_settings.index_dir),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert cli.returncode == 1
        assert cli.stderr.strip().startswith("Error: Another process is writing to the index")
        assert len(cli.stderr.strip().splitlines()) == 1 and "Traceback" not in cli.stderr
    finally:
        holder.communicate("", timeout=30)
    # Lock released: writing works again, and in-process the lock is re-entrant-safe to re-take.
    assert sync_index(seed_settings, embedder=embeddings).embedded == 0
    with writer_lock(seed_settings):
        pass


# -- the server keeps its index across restarts --------------------------------------------------


def _generated_corpus(docs: Path, n_files: int, lines: int) -> int:
    """Write short one-sentence lines (one chunk each at chunk_size=100); return the number of lines."""
    import random

    rng = random.Random(7090)
    words = [
        "amber",
        "basalt",
        "cedar",
        "delta",
        "ember",
        "fjord",
        "garnet",
        "harbor",
        "indigo",
        "jasper",
        "kelp",
        "lagoon",
        "marble",
        "nectar",
        "onyx",
        "pine",
        "quartz",
        "reef",
        "slate",
        "tundra",
        "umber",
        "violet",
        "willow",
        "xenon",
        "yarrow",
        "zinc",
    ]
    docs.mkdir(parents=True, exist_ok=True)
    n = 0
    for f in range(n_files):
        rows = []
        for i in range(lines):
            a, b, c = rng.sample(words, 3)
            rows.append(f"Depot {f}-{i} in {a.title()} shipped {rng.randint(100, 99999)} crates of {b} and {c}.")
            n += 1
        (docs / f"depots_{f:02d}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return n


@pytest.mark.server
def test_server_restart_keeps_index(tmp_path: Path, embeddings: MiniLMEmbeddings) -> None:
    """Index >1,000 chunks on a server, restart it on the same path, check the index (Chroma #7090).

    1,100 short chunks take ~35-60 s to embed on a loaded 2-core machine; short
    one-sentence chunks keep that affordable while exceeding the 1,000-embedding
    threshold at which #7090 reports corruption after a restart.
    """
    from chroma_server import ChromaServer

    from bot.retrieve import HybridRetriever

    n = _generated_corpus(tmp_path / "docs", n_files=11, lines=100)
    server = ChromaServer(tmp_path / "chroma-data").start()
    try:
        settings = Settings(
            docs_dir=tmp_path / "docs",
            index_dir=tmp_path / "index",
            chroma_url=server.url,
            collection="restart-test",
            chunk_size=100,
            chunk_overlap=0,
        )
        t0 = time.perf_counter()
        report = sync_index(settings, embedder=embeddings)
        assert report.chunks == n == report.embedded and n > 1000, report.summary()
        print(f"indexed {n} chunks in {time.perf_counter() - t0:.1f} s")
        store = Store.open(settings)
        before = {c.id: c for c in store.all_chunks()}
        facts_before = store.facts.count()
        probe = next(c for c in before.values() if c.text.startswith("Depot 7-42 "))

        server.stop()
        server.start()

        store = Store.open(settings, create=False)
        assert store.chunks.count() == n and store.facts.count() == facts_before
        assert {c.id: c for c in store.all_chunks()} == before
        assert store.chunk_embeddings("depots_07.txt")  # vectors readable
        nearest = store.query_chunks(embeddings.embed_query(probe.text), 5)
        assert nearest[0][0].id == probe.id and nearest[0][1] > 0.99
        hits = HybridRetriever(store=store, embeddings=embeddings, k=3).invoke(probe.text)
        assert hits[0].id == probe.id
        # Still writable and still incremental after the restart.
        assert sync_index(settings, store=store, embedder=embeddings).embedded == 0
        (tmp_path / "docs" / "extra.txt").write_text("The Zinc depot shipped 5 crates of quartz after the restart.\n")
        report = sync_index(settings, store=store, embedder=embeddings)
        assert report.indexed == ["extra.txt"] and report.embedded == 1 and store.chunks.count() == n + 1
    finally:
        server.stop()
