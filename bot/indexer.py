"""Index stage: bring the Chroma index in line with the documents folder.

Incremental and idempotent: a document whose bytes (and splitter settings) are
unchanged is skipped; a changed one is re-split, only its new chunks are
embedded, and its stale chunks and facts are removed; a document that
disappeared from the folder is removed from the index. Work is committed one
batch of documents at a time, each document's manifest record last, so an
interrupted run leaves a usable index and the next run finishes the job.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.atomic import write_text
from bot.embed import MiniLMEncoder
from bot.errors import BotError, DocumentError, InputError
from bot.load import LoadedDocument, check_docs_dir, discover, file_sha256, index_inside_docs, load_document
from bot.models import Chunk, Fact
from bot.sentences import SentenceRecord, document_sentences
from bot.settings import Settings
from bot.split import SPLITTER_VERSION, split_document
from bot.store import DocRecord, Store, dump_manifest

ProgressFn = Callable[[int, int, str], None]
"""Called as ``progress(done, total, description)`` while chunks are embedded."""
WarnFn = Callable[[str], None]

_COMMIT_CHUNKS = 256  # chunks and sentences embedded per commit batch
FACTS_VERSION = "q4"  # sentences and facts as the engine reads them (q4: spans of days are dates); a change re-indexes


@dataclass
class IndexReport:
    """What one indexing run did."""

    files: int = 0
    indexed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded: int = 0
    chunks: int = 0
    facts: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # about the index itself (e.g. an older layout)

    def summary(self) -> str:
        """One line for people: files, chunks, facts, skipped, seconds."""
        return (
            f"{self.files} files ({len(self.indexed)} indexed, {self.unchanged} unchanged, "
            f"{len(self.removed)} removed), {self.chunks} chunks ({self.embedded} embedded), "
            f"{self.facts} facts, {len(self.skipped)} skipped, {self.seconds:.1f} s"
        )


def splitter_key(settings: Settings) -> str:
    """Identify the splitting that produced a document's chunks; a change forces re-indexing."""
    return f"{SPLITTER_VERSION}/{settings.chunk_size}/{settings.chunk_overlap}/{FACTS_VERSION}"


@contextlib.contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold the index's writer lock (embedded Chroma is not safe for two writers).

    Raises:
        BotError: If another process is writing to the same index.

    """
    if settings.chroma_url:  # the server serialises writes itself
        yield
        return
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with (settings.index_dir / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BotError(
                f"Another process is writing to the index in {settings.index_dir}; "
                "wait for it, or use a Chroma server (BOT_CHROMA_URL) for many processes."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def doc_roots(settings: Settings) -> list[tuple[Path, str]]:
    """Folders whose documents make up the index: the docs folder and the upload folder."""
    return [(settings.docs_dir, ""), (settings.uploads_dir, "uploads/")]


def sync_index(
    settings: Settings,
    store: Store | None = None,
    embedder: MiniLMEncoder | None = None,
    progress: ProgressFn | None = None,
    warn: WarnFn | None = None,
    repeat_warnings: bool = True,
) -> IndexReport:
    """Build or update the index of ``settings.docs_dir`` (plus uploads).

    Args:
        settings: Where the documents and the index are.
        store: An open store (opened from the settings if omitted).
        embedder: The embedding model wrapper (created if omitted).
        progress: Receives embedding progress.
        warn: Receives one-line warnings (skipped files and links, kept documents).
        repeat_warnings: If False, a file skipped for the same reason by the previous run, and
            unchanged since, is not warned about again (it is still in ``report.skipped``).

    Returns:
        What was done.

    Raises:
        InputError: If the docs folder is missing, or holds no usable
            document and the index is empty (nothing is deleted then).
        IndexCorruptError, StoreUnavailableError: If the store cannot be used.

    """
    t0 = time.perf_counter()
    warn = warn or (lambda _msg: None)
    check_docs_dir(settings.docs_dir)
    nested = index_inside_docs(settings.docs_dir, settings.index_dir)
    report = IndexReport()
    with writer_lock(settings):
        store = store or Store.open(settings)
        store.verify()
        report.notes = list(store.notes)
        if nested:
            report.notes.append(
                f"The index folder {settings.index_dir} is inside the docs folder; its files are not indexed."
            )
        records = store.doc_records()
        links: list[tuple[str, str]] = []
        found = list(discover(doc_roots(settings), skipped=links, exclude=[settings.index_dir] if nested else []))
        report.files = len(found) + len(links)
        previous = _read_skipped(settings)
        seen: dict[str, list[Any]] = {}

        def skip(source: str, reason: str, path: Path | None, kept: bool) -> None:
            report.skipped.append((source, reason))
            mark = [*_stat_key(path), reason]
            seen[source] = mark
            if repeat_warnings or previous.get(source) != mark:
                warn(f"Skipped {source}: {reason}" + (" (its previous version stays indexed)" if kept else ""))

        for source, reason in links:
            skip(source, reason, None, False)
        if not found:
            _write_skipped(settings, seen)
            raise InputError(
                f"No documents in {settings.docs_dir}"
                + (f"; the index keeps its {len(records)} documents." if records else ".")
            )
        key = splitter_key(settings)
        todo: list[LoadedDocument] = []
        for source, path in found:
            rec = records.get(source)
            try:
                if rec and rec.splitter == key and rec.sha256 == file_sha256(path):
                    report.unchanged += 1
                    continue
                todo.append(load_document(source, path, max_bytes=int(settings.max_file_mb * 1e6)))
            except (DocumentError, OSError) as exc:
                skip(source, str(exc), path, rec is not None)
        _write_skipped(settings, seen)
        present = {source for source, _ in found}
        report.removed = sorted(s for s in records if s not in present)
        if not todo and not report.unchanged and not records:
            raise InputError(f"No readable documents in {settings.docs_dir}; nothing was indexed.")
        for source in report.removed:
            store.delete_source(source)
        _index_documents(store, todo, settings, embedder or MiniLMEncoder.from_settings(settings), progress, report)
        records = store.doc_records()
        report.chunks = sum(r.chunks for r in records.values())
        report.facts = sum(r.facts for r in records.values())
        _write_manifest(settings, records)
    report.seconds = time.perf_counter() - t0
    return report


def _index_documents(
    store: Store,
    docs: list[LoadedDocument],
    settings: Settings,
    embedder: MiniLMEncoder,
    progress: ProgressFn | None,
    report: IndexReport,
) -> None:
    key = splitter_key(settings)
    sources = [d.source for d in docs]
    existing_by_source = store.vectors_by_source(sources)
    sentence_vectors = store.sentence_vectors(sources)
    plans: list[_Plan] = []
    for doc in docs:
        chunks = split_document(doc.source, doc.text, doc.sha256, settings.chunk_size, settings.chunk_overlap)
        existing = existing_by_source[doc.source]
        sentences = document_sentences(doc.source, doc.text)
        plan = _Plan(doc, chunks, existing, [c for c in chunks if c.id not in existing], sentences)
        plan.known_sentences = {r.id: sentence_vectors[r.id] for r in sentences if r.id in sentence_vectors}
        plan.new_sentences = [r for r in sentences if r.id not in sentence_vectors]
        plans.append(plan)
    total = sum(p.work for p in plans)
    done = 0
    if progress:
        progress(0, total, "Embedding chunks and sentences")

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total, "Embedding chunks and sentences")

    batch: list[_Plan] = []
    for i, plan in enumerate(plans):
        batch.append(plan)
        if i + 1 < len(plans) and sum(p.work for p in batch) + plans[i + 1].work <= _COMMIT_CHUNKS:
            continue
        items = [(c.id, c.text) for p in batch for c in p.new] + [
            (r.id, r.text) for p in batch for r in p.new_sentences
        ]
        vectors = dict(zip((i for i, _ in items), embedder.encode([t for _, t in items], tick), strict=True))
        _commit(store, batch, vectors, key)
        report.indexed.extend(p.doc.source for p in batch)
        report.embedded += sum(len(p.new) for p in batch)
        batch = []


@dataclass
class _Plan:
    """What indexing one document involves."""

    doc: LoadedDocument
    chunks: list[Chunk]
    existing: dict[str, list[float]]  # chunk id -> vector already in the store
    new: list[Chunk]  # chunks to embed
    sentences: list[SentenceRecord] = field(default_factory=list)
    new_sentences: list[SentenceRecord] = field(default_factory=list)  # sentences to embed
    known_sentences: dict[str, list[float]] = field(default_factory=dict)  # sentence id -> stored vector

    @property
    def work(self) -> int:
        """Texts to embed for this document."""
        return len(self.new) + len(self.new_sentences)


def _commit(store: Store, batch: list[_Plan], vectors: dict[str, list[float]], key: str) -> None:
    """Write a batch of documents: chunks, then facts, then (last) their manifest records."""
    from bot.facts import extract_facts

    new = [c for p in batch for c in p.new]
    store.upsert_chunks(new, [vectors[c.id] for c in new])
    store.delete_chunks(i for p in batch for i in p.existing if i not in {c.id for c in p.chunks})
    facts: list[Fact] = []
    fact_vectors: list[list[float]] = []
    records = []
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for p in batch:
        all_vectors = {**p.existing, **vectors}
        doc_facts = extract_facts(p.doc.text, p.doc.source)
        facts.extend(doc_facts)
        fact_vectors.extend(all_vectors[_chunk_of(f, p.chunks).id] for f in doc_facts)
        records.append(DocRecord(p.doc.source, p.doc.sha256, len(p.chunks), len(doc_facts), now, key))
    store.replace_facts([p.doc.source for p in batch], facts, fact_vectors)
    sentences = [r for p in batch for r in p.sentences]
    known = {k: v for p in batch for k, v in p.known_sentences.items()}
    store.replace_sentences(
        [p.doc.source for p in batch], sentences, [vectors.get(r.id) or known[r.id] for r in sentences]
    )
    store.set_docs(records)


def _chunk_of(fact: Fact, chunks: list[Chunk]) -> Chunk:
    """Return the first chunk that contains the fact's number (chunks cover every sentence)."""
    for c in chunks:
        if c.start <= fact.start and fact.end <= c.end:
            return c
    return min(chunks, key=lambda c: abs(c.start - fact.start))


_SKIPPED_FILE = "skipped.json"  # what the last run skipped, so that it is not warned about twice


def _stat_key(path: Path | None) -> list[Any]:
    try:
        st = path.stat() if path is not None else None
    except OSError:
        st = None
    return [st.st_size, st.st_mtime_ns] if st else []


def _read_skipped(settings: Settings) -> dict[str, list[Any]]:
    try:
        data = json.loads((settings.index_dir / _SKIPPED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_skipped(settings: Settings, seen: dict[str, list[Any]]) -> None:
    path = settings.index_dir / _SKIPPED_FILE
    try:
        if not seen:
            path.unlink(missing_ok=True)
            return
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(seen, indent=1, sort_keys=True))
    except OSError:  # only a convenience: warnings may then repeat
        pass


def _write_manifest(settings: Settings, records: dict[str, DocRecord]) -> None:
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    write_text(settings.index_dir / "manifest.json", dump_manifest(records))
