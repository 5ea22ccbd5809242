"""Load stage: find documents in a folder and read them as text.

Plain text and Markdown are decoded as UTF-8 exactly as stored (no newline
translation), so character offsets slice the file's own text; a file that
starts with a UTF-16 or UTF-32 byte-order mark is decoded as such. HTML is
reduced to its visible text with BeautifulSoup and PDF to its page text with
pypdf; for those formats offsets refer to the extracted text.

Only files inside the folder are read: a link (to a file or a folder) whose
target lies outside it is skipped with a reason, never followed; so is a file
whose name is not valid UTF-8 or holds a control character, and an index folder
kept inside the docs folder is not read at all. Control characters and terminal
escape sequences in a text are replaced by as many spaces (:mod:`bot.safe_text`),
so offsets stay exact and no escape sequence becomes a number or a name.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError, DocumentError, InputError
from bot.safe_text import mask_controls, name_problem, shown_name

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES


@dataclass(frozen=True)
class LoadedDocument:
    """A document's text and identity.

    Attributes:
        source: Path relative to the folder it was found in (POSIX form); the
            document's identity in the index.
        path: Absolute path on disk.
        text: The text that chunks and facts index into.
        sha256: Hash of the file's bytes, used to detect changes.

    """

    source: str
    path: Path
    text: str
    sha256: str


def discover(
    roots: Iterable[tuple[Path, str]],
    skipped: list[tuple[str, str]] | None = None,
    exclude: Iterable[Path] = (),
) -> Iterator[tuple[str, Path]]:
    r"""Yield ``(source, path)`` for every file under the given roots, sorted.

    Links are resolved: a link to a file inside its root is read like a file; a link whose target
    is outside the root (or missing) is not yielded but reported in ``skipped``; links to folders
    are never followed (one outside the root is reported, one inside is indexed under its own name).

    Args:
        roots: ``(folder, prefix)`` pairs; ``prefix`` is prepended to the source
            names found in that folder (``""`` for the main docs folder).
        skipped: Receives ``(source, reason)`` for each link that is not followed and each file whose
            name cannot be indexed (shown escaped: ``bad\xff.txt``).
        exclude: Folders never read (the index folder, when it lies inside the docs folder).

    Yields:
        Source name and path of each regular, non-hidden file (any suffix;
        unsupported ones are reported by :func:`load_document`).

    """
    excluded = {p.resolve() for p in exclude}
    for root, prefix in roots:
        if not root.is_dir():
            continue
        base = root.resolve()
        found: list[tuple[str, Path]] = []
        for folder, dirnames, filenames in os.walk(root, followlinks=False):
            here = Path(folder)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in excluded)
            for name in dirnames:
                path = here / name
                if path.is_symlink():
                    reason = _link_problem(path, base, "folder")
                    if reason and skipped is not None:
                        skipped.append((prefix + path.relative_to(root).as_posix(), reason))
            for name in filenames:
                if name.startswith("."):
                    continue
                path = here / name
                source = prefix + path.relative_to(root).as_posix()
                bad_name = name_problem(source)
                if bad_name:
                    if skipped is not None:
                        skipped.append((shown_name(source), bad_name))
                    continue
                if path.is_symlink():
                    reason = _link_problem(path, base, "file")
                    if reason:
                        if skipped is not None:
                            skipped.append((source, reason))
                        continue
                if path.is_file():
                    found.append((source, path))
        found.sort()
        yield from found


def _link_problem(path: Path, base: Path, what: str) -> str | None:
    """Why a link must not be followed (None: it is a link to a file inside ``base``)."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing target, or a loop
        return "a broken link (its target does not exist)"
    if not target.is_relative_to(base):
        return f"a link to a {what} outside the docs folder; only files inside it are indexed"
    return None  # inside: a file is read; a folder's files are indexed under their own names already


def is_inside(path: Path, folder: Path) -> bool:
    """True when ``path``, with every link resolved, lies inside ``folder``."""
    try:
        return path.resolve(strict=True).is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def check_docs_dir(docs_dir: Path) -> None:
    """Raise a clear error when the docs folder is unusable.

    Raises:
        InputError: If it does not exist or is not a folder.

    """
    if not docs_dir.exists():
        raise InputError(f"Docs folder {docs_dir} does not exist.")
    if not docs_dir.is_dir():
        raise InputError(f"Docs folder {docs_dir} is not a folder.")


def index_inside_docs(docs_dir: Path, index_dir: Path) -> bool:
    """Whether the index folder lies inside the docs folder (its files are then never read as documents).

    Raises:
        ConfigError: If the index folder is the docs folder itself.

    """
    docs, index = docs_dir.expanduser().resolve(), index_dir.expanduser().resolve()
    if docs == index:
        raise ConfigError(
            f"The index folder {index_dir} is the docs folder itself; keep the index in a folder of its own "
            "(--index or BOT_INDEX_DIR)."
        )
    return index.is_relative_to(docs)


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_document(source: str, path: Path, max_bytes: int | None = None) -> LoadedDocument:
    """Read one document.

    Args:
        source: Its name in the index.
        path: Where it is on disk.
        max_bytes: Larger files are refused.

    Returns:
        The loaded document.

    Raises:
        DocumentError: If the type is unsupported or the file is too large,
            binary, not UTF-8, unparsable or has no text.

    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"unsupported file type {suffix or '(none)'}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror or exc}") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise DocumentError(f"too large ({len(data) / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)")
    if suffix in PDF_SUFFIXES:
        text = _pdf_text(data)
    else:
        text = _decode(data)
        if suffix in HTML_SUFFIXES:
            text = _html_text(text)
    text = mask_controls(text)
    if not text.strip():
        raise DocumentError("empty (no text)")
    return LoadedDocument(source=source, path=path, text=text, sha256=hashlib.sha256(data).hexdigest())


def read_source_text(path: Path) -> str:
    """Return the indexed text of a file (same decoding as indexing), for quoting."""
    return load_document(path.name, path).text


# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def _decode(data: bytes) -> str:
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise DocumentError(
                    f"not UTF-8 or {label} (it starts with a {label} byte-order mark, but has invalid data "
                    f"at offset {exc.start}); convert it to UTF-8"
                ) from None
    if b"\x00" in data[:8192]:
        raise DocumentError(_without_bom(data) or "binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 (invalid byte at offset {exc.start}); convert it to UTF-8") from None
    return text


def _without_bom(data: bytes) -> str | None:
    """What a file with NUL bytes is when it is UTF-16 or UTF-32 text without a byte-order mark (else None)."""
    head = data[:8192]
    for width, label in ((4, "UTF-32"), (2, "UTF-16")):
        usable = head[: len(head) - len(head) % width]
        for order, codec in (("little-endian", "le"), ("big-endian", "be")):
            try:
                text = usable.decode(f"{label.lower()}-{codec}")
            except UnicodeDecodeError:
                continue
            printable = sum(ch.isprintable() or ch in "\t\n\r" for ch in text)
            if text and printable >= 0.95 * len(text) and sum(ch.isascii() for ch in text) >= 0.5 * len(text):
                return (
                    f"{label} text ({order}) without a byte-order mark; save it as UTF-8 "
                    f"(or as {label} with a byte-order mark)"
                )
    return None


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


class _PdfLogCollector(logging.Handler):
    """Collects pypdf's log lines for the file being read in this thread (they go in its warning)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        sink = getattr(self.local, "messages", None)
        message = " ".join(record.getMessage().split())
        if sink is not None and message and message not in sink:
            sink.append(message)


_PDF_LOG = _PdfLogCollector()
_PDF_LOG_LOCK = threading.Lock()


def _pdf_logger() -> logging.Logger:
    """Return pypdf's logger, routed into :data:`_PDF_LOG` instead of stderr (set up once)."""
    logger = logging.getLogger("pypdf")
    with _PDF_LOG_LOCK:
        if _PDF_LOG not in logger.handlers:
            logger.addHandler(_PDF_LOG)
            logger.propagate = False
    return logger


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    _pdf_logger()
    _PDF_LOG.local.messages = notes = []
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        detail = "; ".join([str(exc), *notes][:4])
        raise DocumentError(f"unreadable PDF ({detail})") from None
    finally:
        _PDF_LOG.local.messages = None
    if notes:
        logging.getLogger(__name__).debug("pypdf repaired a PDF while reading it: %s", "; ".join(notes))
    return "\n\n".join(p.strip() for p in pages if p.strip())
