"""Store stage: the Chroma collections that hold chunks, facts, sentences and the document manifest.

One code path serves both deployments: an embedded ``PersistentClient`` under
the index folder (default) or a Chroma server through ``HttpClient`` when
``BOT_CHROMA_URL`` is set (optionally in a ``BOT_CHROMA_TENANT`` /
``BOT_CHROMA_DATABASE``). Four collections share a base name:

* ``NAME`` - chunks with their embeddings and offsets;
* ``NAME-facts`` - numeric facts (full record as JSON in metadata; embedded
  with the vector of the chunk they were found in, which costs nothing extra);
* ``NAME-sentences`` - every sentence with its own vector;
* ``NAME-docs`` - one record per indexed document (hash, counts, time). Its
  record is written last when a document is indexed, so it doubles as the
  commit marker that makes an interrupted run safe to repeat.

Ownership: every record carries the ``owner`` id of the docs folder that wrote
it (:attr:`bot.settings.Settings.project_id`), and its id is prefixed with it,
so several docs folders can share one collection: each reads, replaces and
deletes only its own records. By default each docs folder also gets its own
collection (:attr:`bot.settings.Settings.collection_name`). An index written
before ownership existed (records without owner) opens as it is, unscoped.

Every Chroma call goes through :class:`bot.chroma.ScopedCollection`, which turns Chroma's
failures into the bot's errors: an unreachable server into
:class:`StoreUnavailableError`, a damaged index (which Chroma may only notice
at query time) into :class:`IndexCorruptError`. How records are laid out (the manifest's
:class:`DocRecord`, chunk and fact metadata, paged reads) is in :mod:`bot.store_records`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from bot.chroma import OWNER_KEY, ScopedCollection, Where, connect, guarded, short
from bot.errors import BotError, IndexCorruptError, IndexMissingError
from bot.models import Chunk, Fact
from bot.sentences import SentenceRecord
from bot.store_records import PAGE, DocRecord, chunk_from, dump_manifest, fact_meta, scan
from bot.unchanged import Unchanged

if TYPE_CHECKING:
    from pathlib import Path

    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from bot.settings import Settings

__all__ = ["OWNER_KEY", "DocRecord", "ScopedCollection", "Store", "connect", "dump_manifest"]

_GENERATION_ID = "~generation"  # a record in the docs collection, not a document
LEGACY_COLLECTION = "docs"  # the one default collection name before per-folder collections


# -- the store -----------------------------------------------------------------------------------------
class Store:
    """The four collections of one index, with the operations the stages need."""

    def __init__(
        self,
        client: ClientAPI,
        name: str,
        create: bool = True,
        owner: str | None = None,
        index_dir: str = "",
        url: str | None = None,
        shared: bool = True,
        db_file: Path | None = None,
    ) -> None:
        """Open (and by default create) the collections.

        Args:
            client: A Chroma client.
            name: Base collection name.
            create: If False and the chunk collection does not exist, raise.
            owner: Project id that scopes every record (None: unscoped, as before ownership existed).
            shared: Other owners may write to these collections (an explicitly named collection):
                reads are filtered to ``owner`` too. False for a collection named after the owner.
            index_dir: Index folder, for error messages.
            url: Chroma server URL, for error messages.
            db_file: The embedded index's ``chroma.sqlite3``: while it is untouched, the fingerprint and
                the collection sizes are not read again (see :mod:`bot.unchanged`). None: always read.

        Raises:
            IndexMissingError: If ``create`` is False and there is no index.
            IndexCorruptError: If a collection cannot be opened.
            StoreUnavailableError: If the server cannot be reached.

        """
        self.client = client
        self.name = name
        self._where = Where(index_dir or "the index", url)
        self.notes: list[str] = []  # things to tell a person once (e.g. an older, unscoped index)
        self._unchanged = Unchanged(db_file)
        try:
            if not create and name not in {c.name for c in self._call(name, client.list_collections)}:
                raise IndexMissingError(f"No index named '{name}' yet: run `bot index` first.")
            cols = {
                "chunks": self._collection(name),
                "facts": self._collection(f"{name}-facts"),
                "docs": self._collection(f"{name}-docs"),
                "sentences": self._collection(f"{name}-sentences"),
            }
        except BotError:
            raise
        except Exception as exc:
            raise IndexCorruptError(f"Index collection '{name}' cannot be opened: {short(exc)}") from None
        if owner and guarded(self._where, name, cols["docs"].get, ids=[_GENERATION_ID], include=[])["ids"]:
            # Written before records had owners: keep it readable as it is (nothing is migrated).
            self.notes.append(
                f"Collection '{name}' was written by an older version (records without owner): it is used "
                "as it is. To give this docs folder its own, scoped collection, move the index away "
                "(or unset BOT_COLLECTION) and re-index."
            )
            owner = None
        self.owner = owner
        self.chunks = ScopedCollection(cols["chunks"], owner, self._where, shared)
        self.facts = ScopedCollection(cols["facts"], owner, self._where, shared)
        self.docs = ScopedCollection(cols["docs"], owner, self._where, shared)
        self.sentences = ScopedCollection(cols["sentences"], owner, self._where, shared)

    def _call(self, collection: str, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        return guarded(self._where, collection, fn, **kwargs)

    @classmethod
    def open(cls, settings: Settings, create: bool = True) -> Store:
        """Connect to the store the settings point at, in this docs folder's collection.

        With ``BOT_COLLECTION`` unset, the collection is the docs folder's own
        (:attr:`Settings.collection_name`); an embedded index that only has the collection of older
        versions (``docs``) keeps using it.
        """
        client = connect(settings)
        name = settings.collection_name
        notes: list[str] = []
        if not settings.collection:
            where = Where(str(settings.index_dir), settings.chroma_url)
            names = {c.name for c in guarded(where, name, client.list_collections)}
            if name not in names and LEGACY_COLLECTION in names:
                if settings.chroma_url:
                    notes.append(
                        f"The Chroma server has a collection '{LEGACY_COLLECTION}' from an older version; it is "
                        f"left untouched. This docs folder uses its own collection '{name}'."
                    )
                else:
                    name = LEGACY_COLLECTION
        store = cls(
            client,
            name,
            create=create,
            owner=settings.project_id,
            index_dir=str(settings.index_dir),
            url=settings.chroma_url,
            # a derived name is this docs folder's alone; a named (or an older) collection may be shared
            shared=bool(settings.collection) or name != settings.collection_name,
            db_file=None if settings.chroma_url else settings.chroma_dir / "chroma.sqlite3",
        )
        store.notes[:0] = notes
        return store

    def _collection(self, name: str) -> Collection:
        return self._call(
            name,
            self.client.get_or_create_collection,
            name=name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )

    def verify(self) -> None:
        """Read one record of each collection, so that a damaged index is found before anything is written.

        Raises:
            IndexCorruptError: If a collection cannot be read.
            StoreUnavailableError: If the server cannot be reached.

        """
        for col in (self.docs, self.chunks, self.facts, self.sentences):
            col.get(limit=1, include=["metadatas"])

    # -- manifest ---------------------------------------------------------
    def doc_records(self) -> dict[str, DocRecord]:
        """All indexed documents (of this owner) by source."""
        out = {}
        for id_, meta, _doc, _emb in scan(self.docs):
            if id_ != _GENERATION_ID:
                out[meta["source"]] = DocRecord(**{k: meta[k] for k in DocRecord.__dataclass_fields__})
        return out

    def set_docs(self, records: Sequence[DocRecord]) -> None:
        """Write documents' manifest records (the commit marker of their indexing)."""
        if records:
            self.docs.upsert(
                ids=[r.source for r in records],
                embeddings=[[1.0]] * len(records),
                metadatas=[r.__dict__ for r in records],
            )
        self._touch()

    def fingerprint(self) -> str:
        """Return a cheap value that changes whenever the indexed content changes (one read by id).

        Every write stores a fresh random token, so readers in other processes (or on other
        machines, in server mode) see a change without scanning the index. An embedded index is only
        read again once its database file changed (an answer asks several times).
        """

        def read() -> str:
            res = self.docs.get(ids=[_GENERATION_ID], include=["metadatas"])
            return str(res["metadatas"][0]["token"]) if res["ids"] else ""

        return self._unchanged.get("fingerprint", read)

    def _touch(self) -> None:
        self._unchanged.clear()
        self.docs.upsert(ids=[_GENERATION_ID], embeddings=[[1.0]], metadatas=[{"token": uuid.uuid4().hex}])
        self._unchanged.clear()

    # -- chunks -----------------------------------------------------------
    def chunk_embeddings(self, source: str) -> dict[str, list[float]]:
        """Existing chunk ids of a source with their vectors."""
        return self.vectors_by_source([source])[source]

    def vectors_by_source(self, sources: Sequence[str]) -> dict[str, dict[str, list[float]]]:
        """Existing chunk ids and vectors of several sources, in one read."""
        out: dict[str, dict[str, list[float]]] = {s: {} for s in sources}
        if not sources:
            return out
        where = {"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}}
        for i, m, _d, e in scan(self.chunks, where=where, embeddings=True):
            out[m["source"]][i] = list(e)
        return out

    def upsert_chunks(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        """Add or replace chunks with their vectors."""
        for i in range(0, len(chunks), PAGE):
            part = chunks[i : i + PAGE]
            self.chunks.upsert(
                ids=[c.id for c in part],
                embeddings=[list(e) for e in embeddings[i : i + PAGE]],
                documents=[c.text for c in part],
                metadatas=[c.model_dump(exclude={"id", "text"}) for c in part],
            )

    def delete_chunks(self, ids: Iterable[str]) -> None:
        """Delete chunks by id."""
        ids = list(ids)
        for i in range(0, len(ids), PAGE):
            self.chunks.delete(ids=ids[i : i + PAGE])

    def all_chunks(self) -> list[Chunk]:
        """Every chunk (for keyword search and listings)."""
        return [chunk_from(i, m, d) for i, m, d, _e in scan(self.chunks, documents=True)]

    def query_chunks(self, embedding: Sequence[float], n: int) -> list[tuple[Chunk, float]]:
        """Nearest chunks to a vector, with cosine similarity."""
        n = min(n, self._unchanged.get("chunks", self.chunks.upper_count))
        if n <= 0:
            return []
        res = self.chunks.query(
            query_embeddings=[list(embedding)], n_results=n, include=["metadatas", "documents", "distances"]
        )
        return [
            (chunk_from(i, m, d), 1.0 - dist)
            for i, m, d, dist in zip(
                res["ids"][0], res["metadatas"][0], res["documents"][0], res["distances"][0], strict=True
            )
        ]

    def passage_chunks(self, source: str, lo: int, hi: int) -> list[Chunk]:
        """The chunks of a source that overlap the character range ``[lo, hi)``."""
        res = self.chunks.get(
            where={"$and": [{"source": {"$eq": source}}, {"start": {"$lt": hi}}, {"end": {"$gt": lo}}]},
            include=["metadatas", "documents"],
        )
        return [chunk_from(i, m, d) for i, m, d in zip(res["ids"], res["metadatas"], res["documents"], strict=True)]

    # -- facts ------------------------------------------------------------
    def replace_facts(
        self, sources: Sequence[str], facts: Sequence[Fact], embeddings: Sequence[Sequence[float]]
    ) -> None:
        """Replace the facts of some sources."""
        if sources:
            self.facts.delete(where={"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}})
        for i in range(0, len(facts), PAGE):
            part = facts[i : i + PAGE]
            self.facts.upsert(
                ids=[f.id for f in part],
                embeddings=[list(e) for e in embeddings[i : i + PAGE]],
                documents=[f.sentence for f in part],
                metadatas=[fact_meta(f) for f in part],
            )

    def all_facts(self) -> list[Fact]:
        """Every fact, in document order."""
        facts = [Fact.model_validate_json(m["json"]) for _i, m, _d, _e in scan(self.facts)]
        return sorted(facts, key=lambda f: (f.source, f.start))

    # -- sentences --------------------------------------------------------
    def sentence_vectors(self, sources: Sequence[str]) -> dict[str, list[float]]:
        """Existing sentence ids and vectors of some sources, in one read."""
        if not sources:
            return {}
        where = {"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}}
        return {i: list(e) for i, _m, _d, e in scan(self.sentences, where=where, embeddings=True)}

    def replace_sentences(
        self, sources: Sequence[str], records: Sequence[SentenceRecord], vectors: Sequence[Sequence[float]]
    ) -> None:
        """Write the sentences of some sources and drop their sentences that are gone."""
        keep = {r.id for r in records}
        stale = [i for i in self.sentence_vectors(sources) if i not in keep]
        for i in range(0, len(stale), PAGE):
            self.sentences.delete(ids=stale[i : i + PAGE])
        for i in range(0, len(records), PAGE):
            part = records[i : i + PAGE]
            self.sentences.upsert(
                ids=[r.id for r in part],
                embeddings=[list(v) for v in vectors[i : i + PAGE]],
                documents=[r.text for r in part],
                metadatas=[{"source": r.source, "start": r.start, "end": r.end} for r in part],
            )

    def sentences_within(self, spans: Sequence[tuple[str, int, int]]) -> list[tuple[SentenceRecord, list[float]]]:
        """The sentences (with vectors) that lie inside some ``(source, start, end)`` spans, in document order.

        Two reads by equality (the spans' documents, then the chosen ids): a range filter on ``start`` and
        ``end`` would make Chroma compare every sentence of the index, so its cost grew with the corpus.
        """
        if not spans:
            return []
        sources = sorted({src for src, _a, _b in spans})
        listed = self.sentences.get(where={"source": {"$in": sources}}, include=["metadatas"])
        keep = [
            i
            for i, m in zip(listed["ids"], listed["metadatas"], strict=True)
            if any(m["source"] == src and int(m["start"]) >= a and int(m["end"]) <= b for src, a, b in spans)
        ]
        if not keep:
            return []
        res = self.sentences.get(ids=keep, include=["metadatas", "documents", "embeddings"])
        out = [
            (SentenceRecord(i, m["source"], int(m["start"]), int(m["end"]), d or ""), list(e))
            for i, m, d, e in zip(res["ids"], res["metadatas"], res["documents"], res["embeddings"], strict=True)
        ]
        return sorted(out, key=lambda r: (r[0].source, r[0].start))

    def query_sentences(self, embedding: Sequence[float], n: int) -> list[tuple[SentenceRecord, list[float]]]:
        """The ``n`` sentences nearest to a vector (with their vectors)."""
        n = min(n, self._unchanged.get("sentences", self.sentences.upper_count))
        if n <= 0:
            return []
        res = self.sentences.query(
            query_embeddings=[list(embedding)], n_results=n, include=["metadatas", "documents", "embeddings"]
        )
        return [
            (SentenceRecord(i, m["source"], int(m["start"]), int(m["end"]), d or ""), list(e))
            for i, m, d, e in zip(
                res["ids"][0], res["metadatas"][0], res["documents"][0], res["embeddings"][0], strict=True
            )
        ]

    # -- removal ----------------------------------------------------------
    def delete_source(self, source: str) -> None:
        """Remove everything this owner indexed from a source (manifest record first)."""
        self.docs.delete(ids=[source])
        self.chunks.delete(where={"source": source})
        self.facts.delete(where={"source": source})
        self.sentences.delete(where={"source": source})
        self._touch()
