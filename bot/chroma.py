"""Chroma access for the store: connecting, scoping records to one owner, failures as the bot's errors.

Connecting covers the embedded database and a server (with its tenant and database); the collection
wrapper scopes records to one owner; Chroma's failures become the bot's errors (an unreachable
server, a damaged index - which Chroma may only notice at query time) through
:mod:`bot.chroma_errors`, whose :class:`Where`, :func:`guarded` and :func:`short` are re-exported here.

Used by :mod:`bot.store`; nothing else needs to import it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from bot.chroma_errors import REBUILD_HINT, Where, guarded, log, short, sqlite_problem
from bot.errors import IndexCorruptError, StoreUnavailableError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from bot.settings import Settings

OWNER_KEY = "owner"  # metadata key: the project (docs folder) that wrote a record


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
    problem = sqlite_problem(path / "chroma.sqlite3")
    if problem:
        raise IndexCorruptError(f"Index at {settings.index_dir} cannot be opened ({problem}); {REBUILD_HINT}.")
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
        raise IndexCorruptError(f"Index at {settings.index_dir} cannot be opened ({reason}); {REBUILD_HINT}.") from None
    return client
