"""Reads of an embedded index that are reused while its database files stay untouched.

An answer asks the store several times whether the index changed (:meth:`bot.store.Store.fingerprint`)
and how many records a collection has; each is a Chroma read, and under parallel load every read is
also a wait for the GIL. An embedded Chroma writes every change to its SQLite database first, so
while ``chroma.sqlite3`` and its journal files keep their size, modification time and inode, a value
read before is still the value a read would return. Checking that costs three ``stat`` calls.

A value is only kept when the files were last modified at least :data:`SETTLE_S` seconds before it
was read, so a write in the same clock tick as the read cannot go unnoticed. Against a Chroma server
(no files to look at) every call reads.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SETTLE_S = 2.0  # files modified more recently than this are not trusted to show the next write
_SUFFIXES = ("", "-wal", "-journal")

FileState = tuple[tuple[int, int, int] | None, ...]


class Unchanged:
    """Values read from an embedded index, reused while its SQLite files are untouched.

    Example:
        >>> cache = Unchanged(None)  # a Chroma server: nothing to watch, every call reads
        >>> cache.get("count", lambda: 3)
        3
    """

    def __init__(self, db_file: Path | None) -> None:
        """Watch ``db_file`` (the embedded index's ``chroma.sqlite3``); None watches nothing."""
        self._files = [Path(f"{db_file}{s}") for s in _SUFFIXES] if db_file else []
        self._lock = threading.Lock()
        self._state: FileState | None = None
        self._values: dict[str, Any] = {}

    def state(self) -> FileState | None:
        """Size, modification time and inode of the database files (None: nothing to watch)."""
        if not self._files:
            return None
        out: list[tuple[int, int, int] | None] = []
        for f in self._files:
            try:
                st = os.stat(f)
            except OSError:
                out.append(None)
            else:
                out.append((st.st_size, st.st_mtime_ns, st.st_ino))
        return tuple(out)

    def get(self, key: str, read: Callable[[], T]) -> T:
        """The value of ``read()``, reused while the files are as they were when it was read."""
        state = self.state()  # before the read: a write in between makes the next call read again
        if state is None:
            return read()
        with self._lock:
            if state == self._state and key in self._values:
                return self._values[key]
        value = read()
        newest = max((s[1] for s in state if s is not None), default=0)
        if newest <= (time.time() - SETTLE_S) * 1e9:
            with self._lock:
                if state != self._state:
                    self._state, self._values = state, {}
                self._values[key] = value
        return value

    def clear(self) -> None:
        """Forget every value (after a write of this process)."""
        with self._lock:
            self._state, self._values = None, {}
