"""Chroma's failures as the bot's errors: an unreachable server, a missing collection, a damaged index.

Chroma may only notice a damaged index at query time, and its messages nest ('a: b: c: cause'):
:meth:`Where.translate` picks the part that says what is wrong (preferring SQLite's own diagnosis of an
embedded database) and :func:`guarded` wraps every Chroma call with it.

Used by :mod:`bot.chroma` (and so :mod:`bot.store`); nothing else needs to import it.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import BotError, IndexCorruptError, IndexMissingError, StoreUnavailableError

log = logging.getLogger("bot.store")

REBUILD_HINT = "it was left untouched - move it away or pass another --index to rebuild"
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


def sqlite_problem(db: Path) -> str | None:
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
            reason = sqlite_problem(Path(self.index_dir) / "chroma" / "chroma.sqlite3") or reason
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
        return IndexCorruptError(f"Index at {self.index_dir} is damaged ({self.reason(exc)}); {REBUILD_HINT}.")


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
