"""Uploads from the web UI: safe names, type and size checks, and what happens to the uploaded file.

Gradio first stores an upload in its cache (served to whoever has the path). A rejected upload is
deleted from there at once; an accepted one is moved into ``index/uploads`` (and so leaves the cache).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from bot.errors import InputError
from bot.load import is_inside
from bot.settings import Settings

UPLOAD_PREFIX = "uploads/"


def size_limit_text(settings: Settings) -> str:
    """The upload size cap as the label and every size error write it, e.g. ``10 MB``."""
    return f"{settings.upload_max_mb:g} MB"


def size_limit_bytes(settings: Settings) -> int:
    """The upload size cap in bytes (decimal megabytes, like the text)."""
    return int(settings.upload_max_mb * 1e6)


def too_large_text(size: int, settings: Settings) -> str:
    """The size error, in the same unit and rounding as the label."""
    return f"too large ({size / 1e6:.1f} MB; the limit is {size_limit_text(settings)})"


def sanitize_filename(name: str) -> str:
    r"""Make a safe file name for an upload: no folders, no traversal, no odd characters.

    Args:
        name: The name the browser sent (may contain ``/``, ``\\``, ``..``, control characters).

    Returns:
        A plain file name of letters, digits, ``.``, ``-`` and ``_`` (at most 120
        characters, suffix lower-cased); ``upload`` if nothing usable is left.

    Example:
        >>> sanitize_filename("../../etc/passwd.TXT")
        'passwd.txt'

    """
    base = re.split(r"[/\\]", unicodedata.normalize("NFKC", name or ""))[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    clean_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-") or "upload"
    clean_suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()
    clean_stem = clean_stem[: 120 - len(clean_suffix) - 1]
    return f"{clean_stem}.{clean_suffix}" if clean_suffix else clean_stem


def check_upload(path: Path, name: str, settings: Settings) -> str:
    """Validate one uploaded file against the type allow-list and size cap.

    Args:
        path: Where Gradio stored the upload.
        name: The original file name.
        settings: Supplies ``upload_types`` and ``upload_max_mb``.

    Returns:
        The sanitised name to store it under.

    Raises:
        InputError: If the type is not allowed, the file is too large or empty, or it is a link.

    """
    safe = sanitize_filename(name)
    suffix = Path(safe).suffix.lower()
    allowed = [t.lower() for t in settings.upload_types]
    if suffix not in allowed:
        raise InputError(f"file type {suffix or '(none)'} is not allowed; allowed: {', '.join(allowed)}")
    if path.is_symlink():
        raise InputError("a link, not an uploaded file")
    size = path.stat().st_size
    if size > size_limit_bytes(settings):
        raise InputError(too_large_text(size, settings))
    if size == 0:
        raise InputError("empty file")
    return safe


def upload_cache() -> Path:
    """Gradio's upload cache folder (``GRADIO_TEMP_DIR`` or the system temp folder's ``gradio``)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


def in_upload_cache(path: Path) -> bool:
    """True when ``path`` is a file in Gradio's upload cache (only those are moved or deleted)."""
    return not path.is_symlink() and is_inside(path, upload_cache())


def discard_upload(path: Path) -> bool:
    """Delete a rejected upload from Gradio's cache (with its per-upload folder once empty).

    Returns:
        True if it was deleted; files outside the cache are never touched.

    """
    if not in_upload_cache(path):
        return False
    path.unlink(missing_ok=True)
    folder, root = path.parent.resolve(), upload_cache().resolve()
    if folder != root and folder.is_relative_to(root):
        with contextlib.suppress(OSError):  # not empty: another upload shares it
            folder.rmdir()
    return True


def store_upload(path: Path, dest: Path) -> None:
    """Put an accepted upload at ``dest`` atomically: moved out of Gradio's cache, copied otherwise."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-")
    os.close(fd)
    try:
        if in_upload_cache(path):
            try:
                os.replace(path, tmp)
            except OSError:  # another file system
                shutil.copyfile(path, tmp)
            discard_upload(path)
        else:
            shutil.copyfile(path, tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# Before Gradio's own size check (whose message uses other units), the browser checks the size with
# the same limit and wording as the server. Its message goes in a note of its own under the status
# (Gradio's components are left alone), and the previous status is hidden meanwhile, so it never
# stays on screen after a new upload; the next accepted upload shows the status again.
UPLOAD_GUARD_JS = """
() => {
  if (window.__botUploadGuard) { return; }
  window.__botUploadGuard = true;
  const LIMIT = %(limit)d;
  const LIMIT_TEXT = %(limit_text)s;
  const esc = (t) => String(t).replace(/[&<>"']/g,
    (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const note = () => {
    let n = document.getElementById("upload-note");
    const status = document.getElementById("upload-status");
    if (!n && status) {
      n = document.createElement("div");
      n.id = "upload-note";
      status.insertAdjacentElement("afterend", n);
    }
    return n;
  };
  const check = (files, ev) => {
    const all = Array.from(files || []);
    if (!all.length) { return; }
    const big = all.filter((f) => f.size > LIMIT);
    const n = note();
    if (big.length) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
      if (ev.type === "change" && ev.target) { ev.target.value = ""; }
      document.body.classList.add("bot-upload-stale");
      if (n) {
        n.innerHTML = big.map((f) => "<p>✗ <strong>" + esc(f.name) + "</strong> was not added: too large (" +
          (f.size / 1e6).toFixed(1) + " MB; the limit is " + LIMIT_TEXT + ")</p>").join("");
      }
      return;
    }
    document.body.classList.remove("bot-upload-stale");
    if (n) { n.innerHTML = ""; }
  };
  document.addEventListener("change", (ev) => {
    const t = ev.target;
    if (t instanceof HTMLInputElement && t.type === "file" && t.closest("#upload")) { check(t.files, ev); }
  }, true);
  document.addEventListener("drop", (ev) => {
    const t = ev.target;
    if (t instanceof Element && t.closest("#upload") && ev.dataTransfer) { check(ev.dataTransfer.files, ev); }
  }, true);
}
"""

UPLOAD_CSS = """
body.bot-upload-stale #upload-status { display: none !important; }
#upload-note p { margin: 4px 0; }
"""


def upload_guard_js(settings: Settings) -> str:
    """:data:`UPLOAD_GUARD_JS` with this server's limit filled in."""
    import json

    return UPLOAD_GUARD_JS % {"limit": size_limit_bytes(settings), "limit_text": json.dumps(size_limit_text(settings))}
