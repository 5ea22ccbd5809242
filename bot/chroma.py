"""Chroma access for the store: connecting, scoping records to one owner, failures as the bot's errors.

Connecting covers the embedded database and a server (with its tenant and database); the collection
wrapper scopes records to one owner; Chroma's failures become the bot's errors (an unreachable
server, a damaged index - which Chroma may only notice at query time).

Used by :mod:`bot.store`; nothing else needs to import it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from bot.errors import BotError, IndexCorruptError, IndexMissingError, StoreUnavailableError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from bot.settings import Settings

log = logging.getLogger("bot.store")

OWNER_KEY = "owner"  # metadata key: the project (docs folder) that wrote a record
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


# -- errors -----------------------------------------------------------------------------------
def short(exc: BaseException) -> str:
    """The first line of an error's message (at most 200 characters)."""
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
class Where:
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
                f"Cannot reach the Chroma server at {self.url}: {short(exc)}; is it running? Nothing was changed."
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


def guarded(place: Where, collection: str, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call a Chroma function; its failures arrive as the bot's errors when :meth:`Where.translate` knows them."""
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
        log.info("Chroma call on %s failed: %s", collection, short(exc))
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

    def __init__(self, collection: Collection, owner: str | None, where: Where, shared: bool = True) -> None:
        """Wrap a Chroma collection for one owner (None: unscoped); ``shared``: other owners may write to it."""
        self.raw = collection
        self.name: str = collection.name
        self.owner = owner
        self.shared = shared
        self._where_info = where
        self._prefix = f"{owner}:" if owner else ""

    def _call(self, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        return guarded(self._where_info, self.name, fn, **kwargs)

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
                f"Cannot reach the Chroma server at {settings.chroma_url}: {short(exc)}"
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
        reason = Where(str(settings.index_dir), None).reason(error)
        raise IndexCorruptError(f"Index at {settings.index_dir} cannot be opened ({reason}); {_REBUILD}.") from None
    return client
