"""Hardening of the load/index/store stages: links out of the docs folder, odd encodings and PDFs,
warnings once, and a damaged index reported in one line by the CLI, the Python API and the UI.

Real files, real Chroma, the real embedding model and the real ``bot`` command.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEEDS, make_settings

from bot.embed import MiniLMEmbeddings
from bot.errors import IndexCorruptError
from bot.indexer import sync_index
from bot.store import Store

BOT = str(Path(sys.executable).with_name("bot"))
HIMA_Q = "How many vehicles did HIMA deliver in November?"
SEED_NAME = "huawei_auto_brand_alliances.txt"


def run_bot(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([BOT, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=os.environ)


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr and "panicked" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    return lines[0]


def sources(store: Store) -> set[str]:
    return {c.source for c in store.all_chunks()}


# -- 1. links out of the docs folder ----------------------------------------------------------------
def test_links_out_of_the_docs_folder_are_skipped_with_a_warning(tmp_path: Path, embeddings: MiniLMEmbeddings) -> None:
    outside = tmp_path / "outside"
    (outside / "private").mkdir(parents=True)
    (outside / "vault.txt").write_text("The vault code of Zorblat Industries is 7741.\n")
    (outside / "private" / "memo.txt").write_text("Quuxco sold 99 rockets to Zorblat in May.\n")
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "real.txt").write_text("Acme sold 12 boats in June.\n")
    (docs / "vault.txt").symlink_to(outside / "vault.txt")
    (docs / "passwd.txt").symlink_to("/etc/passwd")
    (docs / "sub" / "memos").symlink_to(outside / "private", target_is_directory=True)
    (docs / "alias.txt").symlink_to(docs / "real.txt")  # inside the folder: read like a file
    (docs / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    settings = make_settings(docs, tmp_path / "index")
    settings.uploads_dir.mkdir(parents=True)
    (settings.uploads_dir / "up.txt").symlink_to(outside / "vault.txt")

    warnings: list[str] = []
    store = Store.open(settings)
    report = sync_index(settings, store=store, embedder=embeddings, warn=warnings.append)
    assert sources(store) == {"real.txt", "alias.txt"}
    assert not any("7741" in c.text or "root:" in c.text or "rockets" in c.text for c in store.all_chunks())
    skipped = dict(report.skipped)
    assert set(skipped) == {"vault.txt", "passwd.txt", "sub/memos", "dangling.txt", "uploads/up.txt"}, skipped
    for name in ("vault.txt", "passwd.txt", "uploads/up.txt"):
        assert f"Skipped {name}: a link to a file outside the docs folder" in "\n".join(warnings)
    assert any(w.startswith("Skipped sub/memos: a link to a folder outside the docs folder") for w in warnings)
    assert any(w.startswith("Skipped dangling.txt: a broken link") for w in warnings)
    assert all("\n" not in w for w in warnings)

    # The CLI on the same folder: the secret never becomes an answer.
    proc = run_bot("ask", "What is the vault code of Zorblat Industries?", "--docs", docs, "--index", tmp_path / "i2")
    assert proc.returncode == 0, proc.stderr
    assert "7741" not in proc.stdout
    assert "Warning: Skipped vault.txt: a link to a file outside the docs folder" in proc.stderr


# -- 8. encodings, PDFs, warnings once ----------------------------------------------------------------
def make_pdf(text: str) -> bytes:
    """A minimal one-page PDF with a text layer (Helvetica), with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_utf16_files_with_a_bom_are_read(tmp_path: Path, embeddings: MiniLMEmbeddings) -> None:
    from bot.load import read_source_text

    docs = tmp_path / "docs"
    docs.mkdir()
    le = "Zorblat Industries delivered 4,321 hover-bikes in March.\r\nQuuxco paid €7 million for them.\n"
    be = "Fjordline Nord cancelled 42 sailings in January. Its ferries carry 900 cars.\n"
    (docs / "le.txt").write_bytes(le.encode("utf-16"))  # BOM + little-endian
    (docs / "be.md").write_bytes(b"\xfe\xff" + be.encode("utf-16-be"))
    (docs / "u8bom.txt").write_bytes(b"\xef\xbb\xbf" + b"Kestrel hired 1,500 engineers.\n")
    settings = make_settings(docs, tmp_path / "index")
    warnings: list[str] = []
    store = Store.open(settings)
    report = sync_index(settings, store=store, embedder=embeddings, warn=warnings.append)
    assert warnings == [] and report.skipped == []
    chunks = store.all_chunks()
    assert sources(store) == {"le.txt", "be.md", "u8bom.txt"}
    for c in chunks:  # offsets slice the decoded text, as for every other text file
        assert read_source_text(docs / c.source)[c.start : c.end] == c.text
    assert any("4,321 hover-bikes" in c.text for c in chunks) and any("42 sailings" in c.text for c in chunks)
    assert not any(c.text.startswith("\ufeff") for c in chunks)


def test_pdf_problems_are_one_warning_per_file_on_the_cli(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    good = make_pdf("Zorblat Industries delivered 4,321 hover-bikes in March.")
    (docs / "good.pdf").write_bytes(good)
    (docs / "truncated.pdf").write_bytes(good[: len(good) // 2])
    (docs / "garbage.pdf").write_bytes(b"garbage header\n" + good[9:200])
    proc = run_bot("index", "--docs", docs, "--index", tmp_path / "index")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert len(lines) == 2, proc.stderr  # exactly one line per bad file, nothing stray from pypdf
    garbage, truncated = sorted(lines)
    assert garbage.startswith("Warning: Skipped garbage.pdf: unreadable PDF (") and "invalid pdf header" in garbage
    assert truncated.startswith("Warning: Skipped truncated.pdf: unreadable PDF (") and "EOF marker" in truncated
    assert "1 indexed" in proc.stdout and "2 skipped" in proc.stdout


def test_skipped_file_warnings_show_when_indexing_once(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    (docs / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    index = tmp_path / "index"
    first = run_bot("index", "--docs", docs, "--index", index)
    assert first.returncode == 0 and "Warning: Skipped blob.txt: binary file" in first.stderr
    for _ in range(2):  # answering does not repeat what indexing already said
        ask = run_bot("ask", HIMA_Q, "--docs", docs, "--index", index)
        assert ask.returncode == 0 and "81,864" in ask.stdout
        assert "Skipped" not in ask.stderr, ask.stderr
    again = run_bot("index", "--docs", docs, "--index", index)  # asking for indexing lists them again
    assert "Warning: Skipped blob.txt: binary file" in again.stderr and "1 skipped" in again.stdout
    (docs / "blob.txt").write_bytes(b"\x00\x01\x02changed binary")  # a changed file is news again
    ask = run_bot("ask", HIMA_Q, "--docs", docs, "--index", index)
    assert ask.returncode == 0
    assert one_line(ask.stderr).startswith("Warning: Skipped blob.txt: binary file")


# -- 4. a damaged index -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_index(tmp_path_factory: pytest.TempPathFactory, embeddings: MiniLMEmbeddings) -> tuple[Path, Path]:
    """The seed plus 1,100 short sentences: enough vectors for Chroma to write its HNSW files to disk."""
    root = tmp_path_factory.mktemp("big")
    docs = root / "docs"
    shutil.copytree(SEEDS, docs)
    rng = random.Random(4)
    words = [
        "amber",
        "basalt",
        "cedar",
        "delta",
        "ember",
        "fjord",
        "garnet",
        "harbor",
        "indigo",
        "jasper",
        "kelp",
        "lagoon",
        "marble",
    ]
    lines = [f"The {rng.choice(words)} depot near {rng.choice(words).title()} is quiet." for _ in range(1100)]
    (docs / "depots.txt").write_text("\n".join(lines) + "\n")
    settings = make_settings(docs, root / "index")
    sync_index(settings, embedder=embeddings)
    assert list(settings.chroma_dir.glob("*/index_metadata.pickle")), "Chroma wrote no HNSW files"
    return docs, settings.index_dir


def _damage(index: Path, kind: str) -> None:
    chroma = index / "chroma"
    if kind == "sqlite_mid_file":
        db = chroma / "chroma.sqlite3"
        data = bytearray(db.read_bytes())
        rng = random.Random(7)
        start = len(data) // 3
        data[start:] = bytes(rng.randrange(256) for _ in range(len(data) - start))
        db.write_bytes(bytes(data))
    elif kind == "zeroed_hnsw_header":
        for header in chroma.glob("*/header.bin"):
            header.write_bytes(b"\0" * header.stat().st_size)
    elif kind == "garbage_metadata_pickle":
        for pickle in chroma.glob("*/index_metadata.pickle"):
            pickle.write_bytes(b"this is not a pickle " * 50)


def _snapshot(index: Path, kind: str) -> dict[str, bytes]:
    """The damaged files and the manifest (Chroma itself rewrites small segments' files on any open)."""
    big = [p.parent for p in index.glob("chroma/*/index_metadata.pickle")]
    damaged = {
        "sqlite_mid_file": [index / "chroma" / "chroma.sqlite3"],
        "zeroed_hnsw_header": [d / "header.bin" for d in big],
        "garbage_metadata_pickle": [d / "index_metadata.pickle" for d in big],
    }[kind]
    return {str(p.relative_to(index)): p.read_bytes() for p in [index / "manifest.json", *damaged]}


DAMAGE = {
    "sqlite_mid_file": "malformed",
    "zeroed_hnsw_header": "hnsw",
    "garbage_metadata_pickle": "pickle",
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damaged_index_is_one_line_from_cli_api_and_ui(
    kind: str, big_index: tuple[Path, Path], tmp_path: Path, embeddings: MiniLMEmbeddings
) -> None:
    import gradio as gr

    from bot.service import Bot
    from bot.ui import _Actions

    docs, built = big_index
    index = tmp_path / "index"
    shutil.copytree(built, index)
    _damage(index, kind)
    (index / ".lock").unlink(missing_ok=True)
    before = _snapshot(index, kind)
    what = DAMAGE[kind]

    def check(message: str) -> None:
        assert "\n" not in message and "Traceback" not in message
        assert message.startswith(f"Index at {index}") and what in message.lower(), message
        assert "left untouched" in message and "rebuild" in message, message

    # CLI: one line, exit 1, for indexing and for answering
    for args in (("index",), ("ask", HIMA_Q)):
        proc = run_bot(*args, "--docs", docs, "--index", index)
        assert proc.returncode == 1, (proc.stdout, proc.stderr)
        line = one_line(proc.stderr)
        assert line.startswith("Error: ")
        check(line.removeprefix("Error: "))

    # Python API: IndexCorruptError with the same message
    settings = make_settings(docs, index)
    with pytest.raises(IndexCorruptError) as err:
        bot = Bot(settings, embeddings=embeddings)
        bot.ask(HIMA_Q)
    check(str(err.value))

    # UI: the chat handler and the API endpoint raise gr.Error with it (when the store opens at all)
    try:
        bot = Bot(settings, embeddings=embeddings)
    except IndexCorruptError as exc:  # damaged so early that `bot chat` stops at start-up (CLI above)
        check(str(exc))
    else:
        act = _Actions(bot)
        with pytest.raises(gr.Error) as ui_err:
            act.api_ask(HIMA_Q, [])
        check(ui_err.value.message)
        with pytest.raises(gr.Error) as ui_err:
            list(act.respond(HIMA_Q, [], [], {"engine": "grounded", "top_k": 4}))
        check(ui_err.value.message)
    assert _snapshot(index, kind) == before, "the damaged files and the manifest must stay as they were"


def test_relative_docs_and_index_paths(tmp_path: Path, embeddings: MiniLMEmbeddings) -> None:
    """The defaults are relative paths (``seeds``, ``index``): the index opens and reopens with them."""
    shutil.copytree(SEEDS, tmp_path / "seeds")  # conftest runs every test in its tmp_path
    settings = make_settings(Path("seeds"), Path("index"))
    assert sync_index(settings, embedder=embeddings).chunks > 0
    again = sync_index(settings, embedder=embeddings)
    assert again.embedded == 0 and again.unchanged == 1
    assert {c.source for c in Store.open(settings, create=False).all_chunks()} == {SEED_NAME}
