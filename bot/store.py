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

Every Chroma call goes through :class:`ScopedCollection`, which turns Chroma's
failures into the bot's errors: an unreachable server into
:class:`StoreUnavailableError`, a damaged index (which Chroma may only notice
at query time) into :class:`IndexCorruptError`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from bot.errors import BotError, IndexCorruptError, IndexMissingError, StoreUnavailableError
from bot.models import Chunk, Fact
from bot.sentences import SentenceRecord

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from bot.settings import Settings

log = logging.getLogger(__name__)

_GENERATION_ID = "~generation"  # a record in the docs collection, not a document
_PAGE = 2000  # records per get() page; keeps memory and request sizes bounded
OWNER_KEY = "owner"  # metadata key: the project (docs folder) that wrote a record
LEGACY_COLLECTION = "docs"  # the one default collection name before per-folder collections
_REBUILD = "it was left untouched - move it away or pass another --index to rebuild"
# Words in Chroma's error messages that mean the stored index itself is damaged.
_DAMAGE_MARKERS = (
    "malformed",
    "hnsw",
    "pickle",
    "log store",
    "not a database",
    "disk image",
    "segment reader",
    "corrupt",
    "no such table",
)


@dataclass(frozen=True)
class DocRecord:
    """What the manifest knows about one indexed document."""

    source: str
    sha256: str
    chunks: int
    facts: int
    indexed_at: str
    splitter: str


# -- errors -----------------------------------------------------------------------------------
def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _reason(exc: BaseException) -> str:
    """The part of a Chroma error that says what is wrong (its messages nest 'a: b: c: cause')."""
    text = re.sub(r"\(code: \d+\)\s*", "", " ".join(str(exc).split()))
    quoted = re.search(r'message: "([^"]+)"', text)  # a Rust panic wrapping an SQLite error
    if quoted:
        return quoted.group(1)
    parts = [p.strip() for p in text.split(": ") if p.strip()]
    marked = [p for p in parts if any(m in p.lower() for m in _DAMAGE_MARKERS)]
    return (marked[-1] if marked else parts[-1] if parts else type(exc).__name__)[:120]


def _is_panic(exc: BaseException) -> bool:
    # pyo3's PanicException derives from BaseException and cannot be imported by name.
    return type(exc).__name__ == "PanicException"


def _is_connection_error(exc: BaseException) -> bool:
    try:
        import httpx

        if isinstance(exc, httpx.TransportError):
            return True
    except ImportError:  # pragma: no cover - httpx comes with chromadb
        pass
    if isinstance(exc, ConnectionError):
        return True
    text = str(exc).lower()
    return "could not connect to a chroma server" in text or "connection refused" in text


def _sqlite_problem(db: Path) -> str | None:
    """What SQLite itself says is wrong with the embedded index's database file (read-only check)."""
    import sqlite3

    if not db.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=2)) as con:
            rows = con.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.Error as exc:
        return f"{db.name}: {exc}"
    first = str(rows[0][0]) if rows else "ok"
    return None if first == "ok" else f"{db.name}: database disk image is malformed"


@dataclass(frozen=True)
class _Where:
    """Where a store lives, for error messages."""

    index_dir: str
    url: str | None

    def reason(self, exc: BaseException) -> str:
        """What is wrong, preferring SQLite's own diagnosis of an embedded database."""
        reason = _reason(exc)
        if not self.url and self.index_dir and "malformed" not in reason:
            reason = _sqlite_problem(Path(self.index_dir) / "chroma" / "chroma.sqlite3") or reason
        return reason

    def translate(self, exc: BaseException, collection: str) -> BotError | None:
        """The bot's error for a Chroma failure, or None when it is not one we can explain."""
        from chromadb.errors import ChromaError, NotFoundError

        if self.url and _is_connection_error(exc):
            return StoreUnavailableError(
                f"Cannot reach the Chroma server at {self.url}: {_short(exc)}; is it running? Nothing was changed."
            )
        if isinstance(exc, NotFoundError) or "does not exist" in str(exc).lower():
            return IndexMissingError(
                f"Index collection '{collection}' no longer exists (removed by another process?); "
                "run `bot index` to rebuild it."
            )
        damaged = _is_panic(exc) or any(m in str(exc).lower() for m in _DAMAGE_MARKERS)
        if not damaged and not (isinstance(exc, ChromaError) and type(exc).__name__ == "InternalError"):
            return None
        if self.url:
            return IndexCorruptError(
                f"Collection '{collection}' on the Chroma server at {self.url} is damaged ({_reason(exc)}); "
                "it was left untouched - delete it on the server or set another BOT_COLLECTION to rebuild."
            )
        return IndexCorruptError(f"Index at {self.index_dir} is damaged ({self.reason(exc)}); {_REBUILD}.")


def _guarded(place: _Where, collection: str, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except BotError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        err = place.translate(exc, collection)
        if err is None:
            raise
        log.info("Chroma call on %s failed: %s", collection, _short(exc))
        raise err from None


# -- a collection scoped to one owner -------------------------------------------------------------
class ScopedCollection:
    """A Chroma collection as one project sees it: only its own records, failures as bot errors.

    With an ``owner``, ids are stored as ``<owner>:<id>`` and every record carries ``owner`` in its
    metadata; deletes are always restricted to the owner's records, and reads too unless the
    collection is the owner's own (``shared=False``: a filter there would only cost time). Results
    come back with plain ids and without the ``owner`` key, so callers never see the scoping.
    Without an owner (an index written before ownership existed) calls pass through unchanged.

    Supports the subset of Chroma's ``Collection`` the bot uses: ``get``, ``query``, ``upsert``,
    ``delete`` and ``count``.
    """

    def __init__(self, collection: Collection, owner: str | None, where: _Where, shared: bool = True) -> None:
        """Wrap a Chroma collection for one owner (None: unscoped); ``shared``: other owners may write to it."""
        self.raw = collection
        self.name: str = collection.name
        self.owner = owner
        self.shared = shared
        self._where_info = where
        self._prefix = f"{owner}:" if owner else ""

    def _call(self, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        return _guarded(self._where_info, self.name, fn, **kwargs)

    # -- scoping helpers
    def _ids(self, ids: Sequence[str] | str | None) -> list[str] | None:
        if ids is None:
            return None
        if isinstance(ids, str):
            ids = [ids]
        return [self._prefix + i for i in ids]

    def _strip(self, i: str) -> str:
        return i[len(self._prefix) :] if self._prefix and i.startswith(self._prefix) else i

    def _filter(self, where: dict[str, Any] | None, reading: bool = True) -> dict[str, Any] | None:
        if not self.owner or (reading and not self.shared):
            return where
        own = {OWNER_KEY: self.owner}
        return own if not where else {"$and": [own, where]}

    def _meta(self, metas: Sequence[dict[str, Any]] | None, n: int) -> list[dict[str, Any]] | None:
        if not self.owner:
            return list(metas) if metas is not None else None
        return [{**(m or {}), OWNER_KEY: self.owner} for m in (metas if metas is not None else [{}] * n)]

    @staticmethod
    def _unmeta(meta: dict[str, Any] | None) -> dict[str, Any] | None:
        if meta and OWNER_KEY in meta:
            return {k: v for k, v in meta.items() if k != OWNER_KEY}
        return meta

    # -- Collection API
    def get(
        self,
        ids: Sequence[str] | str | None = None,
        where: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        include: Sequence[str] = ("metadatas", "documents"),
    ) -> dict[str, Any]:
        """Like ``Collection.get``, restricted to the owner's records."""
        res = self._call(
            self.raw.get,
            ids=self._ids(ids),
            where=self._filter(where),
            limit=limit,
            offset=offset,
            include=list(include),
        )
        out = dict(res)
        out["ids"] = [self._strip(i) for i in res["ids"]]
        if res.get("metadatas") is not None:
            out["metadatas"] = [self._unmeta(m) for m in res["metadatas"]]
        return out

    def query(
        self,
        query_embeddings: Sequence[Sequence[float]],
        n_results: int = 10,
        where: dict[str, Any] | None = None,
        include: Sequence[str] = ("metadatas", "documents", "distances"),
    ) -> dict[str, Any]:
        """Like ``Collection.query``, restricted to the owner's records."""
        res = self._call(
            self.raw.query,
            query_embeddings=[list(e) for e in query_embeddings],
            n_results=n_results,
            where=self._filter(where),
            include=list(include),
        )
        out = dict(res)
        out["ids"] = [[self._strip(i) for i in row] for row in res["ids"]]
        if res.get("metadatas") is not None:
            out["metadatas"] = [[self._unmeta(m) for m in row] for row in res["metadatas"]]
        return out

    def upsert(
        self,
        ids: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        metadatas: Sequence[dict[str, Any]] | None = None,
        documents: Sequence[str] | None = None,
    ) -> None:
        """Add or replace records; they are tagged with the owner."""
        kwargs: dict[str, Any] = {
            "ids": self._ids(ids),
            "embeddings": [list(e) for e in embeddings],
            "metadatas": self._meta(metadatas, len(ids)),
        }
        if documents is not None:
            kwargs["documents"] = list(documents)
        self._call(self.raw.upsert, **kwargs)

    def delete(self, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None) -> None:
        """Delete records by id and/or filter - never another owner's."""
        if ids is not None and not ids:
            return
        self._call(self.raw.delete, ids=self._ids(ids), where=self._filter(where, reading=False))

    def count(self) -> int:
        """Number of the owner's records (a scan of ids when the collection is shared)."""
        if not self.owner or not self.shared:
            return int(self._call(self.raw.count))
        return len(self.get(include=[])["ids"])

    def upper_count(self) -> int:
        """A cheap upper bound of :meth:`count` (every record, whoever wrote it)."""
        return int(self._call(self.raw.count))


# -- connecting --------------------------------------------------------------------------------------
@contextlib.contextmanager
def _native_stderr_captured() -> Iterator[list[str]]:
    """Capture what native code (Chroma's Rust core) writes to file descriptor 2 meanwhile.

    A damaged SQLite file makes Chroma's Rust code panic, and its panic hook prints a backtrace
    straight to fd 2, past Python; the error is reported as one line instead.
    """
    out: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr: nothing to protect
        yield out
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))


def _http_settings(url: str, headers: dict[str, str]) -> Any:
    from chromadb.config import Settings as ChromaSettings

    u = urlparse(url)
    return ChromaSettings(
        chroma_api_impl="chromadb.api.fastapi.FastAPI",
        chroma_server_host=u.hostname or "localhost",
        chroma_server_http_port=u.port or (443 if u.scheme == "https" else 80),
        chroma_server_ssl_enabled=u.scheme == "https",
        chroma_server_headers=headers or None,
        anonymized_telemetry=False,
    )


def _ensure_tenant_database(admin: Any, tenant: str, database: str) -> None:
    """Create the tenant and database when they do not exist yet."""
    try:
        admin.get_tenant(tenant)
    except Exception:
        admin.create_tenant(tenant)
    try:
        admin.get_database(database, tenant=tenant)
    except Exception:
        admin.create_database(database, tenant=tenant)


def connect(settings: Settings) -> ClientAPI:
    """Open the Chroma client the settings point at (in its tenant and database, created if missing).

    Raises:
        StoreUnavailableError: If the server cannot be reached.
        IndexCorruptError: If the embedded database cannot be opened.

    """
    import chromadb
    from chromadb.config import DEFAULT_DATABASE, DEFAULT_TENANT
    from chromadb.config import Settings as ChromaSettings

    tenant = settings.chroma_tenant or DEFAULT_TENANT
    database = settings.chroma_database or DEFAULT_DATABASE
    custom = (tenant, database) != (DEFAULT_TENANT, DEFAULT_DATABASE)
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        headers = {}
        if settings.chroma_token:
            token = settings.chroma_token.get_secret_value()
            headers = {"Authorization": f"Bearer {token}", "X-Chroma-Token": token}
        try:
            if custom:
                _ensure_tenant_database(
                    chromadb.AdminClient(_http_settings(settings.chroma_url, headers)), tenant, database
                )
            client = chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if url.scheme == "https" else 80),
                ssl=url.scheme == "https",
                headers=headers,
                settings=chroma_settings,
                tenant=tenant,
                database=database,
            )
            client.heartbeat()
        except Exception as exc:  # chromadb raises plain ValueError/httpx errors here
            raise StoreUnavailableError(
                f"Cannot reach the Chroma server at {settings.chroma_url}: {_short(exc)}"
            ) from None
        return client
    path = settings.chroma_dir
    if path.exists() and not path.is_dir():
        raise IndexCorruptError(f"Index at {path} is not a folder; move it away or pass another --index.")
    # Checked before Chroma opens it: Chroma writes to its database on every open, even a damaged one.
    problem = _sqlite_problem(path / "chroma.sqlite3")
    if problem:
        raise IndexCorruptError(f"Index at {settings.index_dir} cannot be opened ({problem}); {_REBUILD}.")
    error: BaseException | None = None
    with _native_stderr_captured() as native:
        try:
            if custom:
                admin = chromadb.AdminClient(ChromaSettings(is_persistent=True, persist_directory=str(path)))
                _ensure_tenant_database(admin, tenant, database)
            client = chromadb.PersistentClient(
                path=str(path), settings=chroma_settings, tenant=tenant, database=database
            )
            client.list_collections()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # includes the Rust core's PanicException
            error = exc
    if error is not None:
        log.debug("opening %s failed: %s; native output: %s", path, error, "".join(native).strip())
        reason = _Where(str(settings.index_dir), None).reason(error)
        raise IndexCorruptError(f"Index at {settings.index_dir} cannot be opened ({reason}); {_REBUILD}.") from None
    return client


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

        Raises:
            IndexMissingError: If ``create`` is False and there is no index.
            IndexCorruptError: If a collection cannot be opened.
            StoreUnavailableError: If the server cannot be reached.

        """
        self.client = client
        self.name = name
        self._where = _Where(index_dir or "the index", url)
        self.notes: list[str] = []  # things to tell a person once (e.g. an older, unscoped index)
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
            raise IndexCorruptError(f"Index collection '{name}' cannot be opened: {_short(exc)}") from None
        if owner and _guarded(self._where, name, cols["docs"].get, ids=[_GENERATION_ID], include=[])["ids"]:
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
        return _guarded(self._where, collection, fn, **kwargs)

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
            where = _Where(str(settings.index_dir), settings.chroma_url)
            names = {c.name for c in _guarded(where, name, client.list_collections)}
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
        for id_, meta, _doc, _emb in self._scan(self.docs):
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
        machines, in server mode) see a change without scanning the index.
        """
        res = self.docs.get(ids=[_GENERATION_ID], include=["metadatas"])
        return str(res["metadatas"][0]["token"]) if res["ids"] else ""

    def _touch(self) -> None:
        self.docs.upsert(ids=[_GENERATION_ID], embeddings=[[1.0]], metadatas=[{"token": uuid.uuid4().hex}])

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
        for i, m, _d, e in self._scan(self.chunks, where=where, embeddings=True):
            out[m["source"]][i] = list(e)
        return out

    def upsert_chunks(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        """Add or replace chunks with their vectors."""
        for i in range(0, len(chunks), _PAGE):
            part = chunks[i : i + _PAGE]
            self.chunks.upsert(
                ids=[c.id for c in part],
                embeddings=[list(e) for e in embeddings[i : i + _PAGE]],
                documents=[c.text for c in part],
                metadatas=[c.model_dump(exclude={"id", "text"}) for c in part],
            )

    def delete_chunks(self, ids: Iterable[str]) -> None:
        """Delete chunks by id."""
        ids = list(ids)
        for i in range(0, len(ids), _PAGE):
            self.chunks.delete(ids=ids[i : i + _PAGE])

    def all_chunks(self) -> list[Chunk]:
        """Every chunk (for keyword search and listings)."""
        return [_chunk(i, m, d) for i, m, d, _e in self._scan(self.chunks, documents=True)]

    def query_chunks(self, embedding: Sequence[float], n: int) -> list[tuple[Chunk, float]]:
        """Nearest chunks to a vector, with cosine similarity."""
        n = min(n, self.chunks.upper_count())
        if n <= 0:
            return []
        res = self.chunks.query(
            query_embeddings=[list(embedding)], n_results=n, include=["metadatas", "documents", "distances"]
        )
        return [
            (_chunk(i, m, d), 1.0 - dist)
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
        return [_chunk(i, m, d) for i, m, d in zip(res["ids"], res["metadatas"], res["documents"], strict=True)]

    # -- facts ------------------------------------------------------------
    def replace_facts(
        self, sources: Sequence[str], facts: Sequence[Fact], embeddings: Sequence[Sequence[float]]
    ) -> None:
        """Replace the facts of some sources."""
        if sources:
            self.facts.delete(where={"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}})
        for i in range(0, len(facts), _PAGE):
            part = facts[i : i + _PAGE]
            self.facts.upsert(
                ids=[f.id for f in part],
                embeddings=[list(e) for e in embeddings[i : i + _PAGE]],
                documents=[f.sentence for f in part],
                metadatas=[_fact_meta(f) for f in part],
            )

    def all_facts(self) -> list[Fact]:
        """Every fact, in document order."""
        facts = [Fact.model_validate_json(m["json"]) for _i, m, _d, _e in self._scan(self.facts)]
        return sorted(facts, key=lambda f: (f.source, f.start))

    # -- sentences --------------------------------------------------------
    def sentence_vectors(self, sources: Sequence[str]) -> dict[str, list[float]]:
        """Existing sentence ids and vectors of some sources, in one read."""
        if not sources:
            return {}
        where = {"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}}
        return {i: list(e) for i, _m, _d, e in self._scan(self.sentences, where=where, embeddings=True)}

    def replace_sentences(
        self, sources: Sequence[str], records: Sequence[SentenceRecord], vectors: Sequence[Sequence[float]]
    ) -> None:
        """Write the sentences of some sources and drop their sentences that are gone."""
        keep = {r.id for r in records}
        stale = [i for i in self.sentence_vectors(sources) if i not in keep]
        for i in range(0, len(stale), _PAGE):
            self.sentences.delete(ids=stale[i : i + _PAGE])
        for i in range(0, len(records), _PAGE):
            part = records[i : i + _PAGE]
            self.sentences.upsert(
                ids=[r.id for r in part],
                embeddings=[list(v) for v in vectors[i : i + _PAGE]],
                documents=[r.text for r in part],
                metadatas=[{"source": r.source, "start": r.start, "end": r.end} for r in part],
            )

    def sentences_within(self, spans: Sequence[tuple[str, int, int]]) -> list[tuple[SentenceRecord, list[float]]]:
        """The sentences (with vectors) that lie inside some ``(source, start, end)`` spans, in one read."""
        if not spans:
            return []
        clauses = [
            {"$and": [{"source": {"$eq": s}}, {"start": {"$gte": a}}, {"end": {"$lte": b}}]} for s, a, b in spans
        ]
        where = clauses[0] if len(clauses) == 1 else {"$or": clauses}
        res = self.sentences.get(where=where, include=["metadatas", "documents", "embeddings"])
        return [
            (SentenceRecord(i, m["source"], int(m["start"]), int(m["end"]), d or ""), list(e))
            for i, m, d, e in zip(res["ids"], res["metadatas"], res["documents"], res["embeddings"], strict=True)
        ]

    def query_sentences(self, embedding: Sequence[float], n: int) -> list[tuple[SentenceRecord, list[float]]]:
        """The ``n`` sentences nearest to a vector (with their vectors)."""
        n = min(n, self.sentences.upper_count())
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

    def _scan(
        self,
        col: ScopedCollection,
        where: dict[str, Any] | None = None,
        documents: bool = False,
        embeddings: bool = False,
    ) -> Iterable[tuple[str, dict[str, Any], str | None, Any]]:
        include: list[str] = (
            ["metadatas"] + (["documents"] if documents else []) + (["embeddings"] if embeddings else [])
        )
        offset = 0
        while True:
            res = col.get(where=where, include=include, limit=_PAGE, offset=offset)
            ids = res["ids"]
            docs = res["documents"] if documents else [None] * len(ids)
            embs = res["embeddings"] if embeddings else [None] * len(ids)
            yield from zip(ids, res["metadatas"], docs, embs, strict=True)
            if len(ids) < _PAGE:
                return
            offset += _PAGE


def _chunk(id_: str, meta: dict[str, Any], text: str | None) -> Chunk:
    return Chunk(id=id_, text=text or "", **meta)


def _fact_meta(f: Fact) -> dict[str, Any]:
    meta: dict[str, Any] = {"source": f.source, "kind": f.kind, "json": f.model_dump_json()}
    for key in ("subject", "measure", "unit", "period"):
        if getattr(f, key):
            meta[key] = getattr(f, key)
    return meta


def dump_manifest(records: dict[str, DocRecord]) -> str:
    """Render the manifest as pretty JSON (written to ``index/manifest.json`` for people and tools)."""
    return json.dumps({"documents": [r.__dict__ for r in sorted(records.values(), key=lambda r: r.source)]}, indent=2)
