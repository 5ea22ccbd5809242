"""Load stage: find documents in a folder and read them as text.

Plain text and Markdown are decoded as UTF-8 exactly as stored (no newline
translation), so character offsets slice the file's own text. HTML is reduced
to its visible text with BeautifulSoup and PDF to its page text with pypdf;
for those formats offsets refer to the extracted text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.errors import DocumentError, InputError

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


def discover(roots: Iterable[tuple[Path, str]]) -> Iterator[tuple[str, Path]]:
    """Yield ``(source, path)`` for every file under the given roots, sorted.

    Args:
        roots: ``(folder, prefix)`` pairs; ``prefix`` is prepended to the source
            names found in that folder (``""`` for the main docs folder).

    Yields:
        Source name and path of each regular, non-hidden file (any suffix;
        unsupported ones are reported by :func:`load_document`).

    """
    for root, prefix in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                continue
            yield prefix + rel.as_posix(), path


def check_docs_dir(docs_dir: Path) -> None:
    """Raise a clear error when the docs folder is unusable.

    Raises:
        InputError: If it does not exist or is not a folder.

    """
    if not docs_dir.exists():
        raise InputError(f"Docs folder {docs_dir} does not exist.")
    if not docs_dir.is_dir():
        raise InputError(f"Docs folder {docs_dir} is not a folder.")


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
    if not text.strip():
        raise DocumentError("empty (no text)")
    return LoadedDocument(source=source, path=path, text=text, sha256=hashlib.sha256(data).hexdigest())


def read_source_text(path: Path) -> str:
    """Return the indexed text of a file (same decoding as indexing), for quoting."""
    return load_document(path.name, path).text


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 (invalid byte at offset {exc.start}); convert it to UTF-8") from None
    return text.removeprefix("\ufeff")


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"unreadable PDF ({exc})") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())
