"""Writing a small file so that a reader sees the old content or the new one, never half of it."""

from __future__ import annotations

import os
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file beside it and an atomic rename.

    The temporary name carries the process id, so two processes writing the same file never share one;
    on failure it is removed and the error raised (callers decide whether a failed write matters).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
