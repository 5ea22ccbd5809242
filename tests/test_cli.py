"""The real ``bot`` command in a subprocess: summaries, one-line errors and warnings, a fast ``--help``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEED_FILE

from bot.embed import MiniLMEmbeddings
from bot.indexer import sync_index
from bot.settings import Settings
from bot.store import Store

BOT = str(Path(sys.executable).with_name("bot"))
SUMMARY = re.compile(
    r"^(?P<files>\d+) files \((?P<indexed>\d+) indexed, (?P<unchanged>\d+) unchanged, (?P<removed>\d+) removed\), "
    r"(?P<chunks>\d+) chunks \((?P<embedded>\d+) embedded\), (?P<facts>\d+) facts, (?P<skipped>\d+) skipped, "
    r"[\d.]+ s$"
)


def run_bot(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BOT, *map(str, args)], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def summary(stdout: str) -> dict[str, int]:
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, stdout
    m = SUMMARY.match(lines[0])
    assert m, f"unexpected summary line: {lines[0]!r}"
    return {k: int(v) for k, v in m.groupdict().items()}


def one_line(stderr: str, prefix: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert lines[0].startswith(prefix), lines[0]
    return lines[0]


@pytest.fixture
def indexed(seed_settings: Settings, embeddings: MiniLMEmbeddings) -> Settings:
    """The seeds indexed in-process (so the CLI runs below need not load the model)."""
    sync_index(seed_settings, embedder=embeddings)
    return seed_settings


def chunk_count(settings: Settings) -> int:
    return Store.open(settings, create=False).chunks.count()


# -- --help ------------------------------------------------------------------------------------------


def test_help_is_fast() -> None:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        proc = run_bot("--help", timeout=60)
        times.append(time.perf_counter() - t0)
        assert proc.returncode == 0 and "index" in proc.stdout and "Usage" in proc.stdout
    assert min(times) < 1.0, f"bot --help took {min(times):.2f} s at best ({times})"


def test_help_imports_no_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['bot', '--help']\n"
        "from bot.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'torch', 'sentence_transformers', 'transformers', 'gradio', 'chromadb', 'bm25s'}\n"
        "print('LOADED:' + ','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "LOADED:"
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert not imported & {"torch", "sentence_transformers", "gradio", "chromadb"}


# -- bot index -----------------------------------------------------------------------------------------


def test_cli_index_builds_then_skips(seed_docs: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    first = run_bot("index", "--docs", seed_docs, "--index", index)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr and "Loading weights" not in first.stderr
    s1 = summary(first.stdout)
    assert s1["files"] == 1 and s1["indexed"] == 1 and s1["chunks"] > 5 and s1["embedded"] == s1["chunks"]
    assert s1["facts"] > 0 and s1["skipped"] == 0
    manifest = json.loads((index / "manifest.json").read_text())
    assert [d["source"] for d in manifest["documents"]] == [SEED_FILE.name]

    second = run_bot("index", "--docs", seed_docs, "--index", index)
    assert second.returncode == 0 and second.stderr == ""
    s2 = summary(second.stdout)
    assert s2["embedded"] == 0 and s2["unchanged"] == 1 and s2["chunks"] == s1["chunks"] and s2["facts"] == s1["facts"]

    quiet = run_bot("index", "--docs", seed_docs, "--index", index, "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_cli_index_reads_env(indexed: Settings) -> None:
    proc = run_bot("index", env={"BOT_DOCS_DIR": str(indexed.docs_dir), "BOT_INDEX_DIR": str(indexed.index_dir)})
    assert proc.returncode == 0, proc.stderr
    assert summary(proc.stdout)["unchanged"] == 1


def test_cli_deleted_file(indexed: Settings, embeddings: MiniLMEmbeddings) -> None:
    before = chunk_count(indexed)
    (indexed.docs_dir / "extra.txt").write_text("Globex sold 77 ships in June.\n")
    sync_index(indexed, embedder=embeddings)
    assert chunk_count(indexed) == before + 1
    (indexed.docs_dir / "extra.txt").unlink()
    proc = run_bot("index", "--docs", indexed.docs_dir, "--index", indexed.index_dir)
    assert proc.returncode == 0, proc.stderr
    s = summary(proc.stdout)
    assert s["removed"] == 1 and s["embedded"] == 0 and s["chunks"] == before
    assert chunk_count(indexed) == before
    manifest = json.loads((indexed.index_dir / "manifest.json").read_text())
    assert [d["source"] for d in manifest["documents"]] == [SEED_FILE.name]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("blob.txt", b"\x00\x01\x02\x03binary", "Warning: Skipped blob.txt: binary file"),
        ("latin1.txt", "Caf\u00e9 cr\u00e8me".encode("cp1252"), "Warning: Skipped latin1.txt: not UTF-8"),
        ("empty.txt", b"", "Warning: Skipped empty.txt: empty"),
    ],
)
def test_cli_bad_file_warns_in_one_line(indexed: Settings, name: str, data: bytes, expected: str) -> None:
    before = chunk_count(indexed)
    (indexed.docs_dir / name).write_bytes(data)
    proc = run_bot("index", "--docs", indexed.docs_dir, "--index", indexed.index_dir)
    assert proc.returncode == 0
    one_line(proc.stderr, expected)
    s = summary(proc.stdout)
    assert s["files"] == 2 and s["skipped"] == 1 and s["unchanged"] == 1 and s["embedded"] == 0
    assert chunk_count(indexed) == before


def test_cli_empty_docs_folder(indexed: Settings, tmp_path: Path) -> None:
    before = chunk_count(indexed)
    (indexed.docs_dir / SEED_FILE.name).rename(tmp_path / SEED_FILE.name)  # the folder is empty for a while
    proc = run_bot("index", "--docs", indexed.docs_dir, "--index", indexed.index_dir)
    assert proc.returncode == 2
    one_line(proc.stderr, "Error: No documents in")
    assert "the index keeps its 1 documents" in proc.stderr
    assert chunk_count(indexed) == before
    other = tmp_path / "other-empty"  # another folder is another project: its own (empty) collection
    other.mkdir()
    proc = run_bot("index", "--docs", other, "--index", indexed.index_dir)
    assert proc.returncode == 2
    one_line(proc.stderr, "Error: No documents in")
    assert chunk_count(indexed) == before


def test_cli_missing_docs_folder(indexed: Settings, tmp_path: Path) -> None:
    before = chunk_count(indexed)
    proc = run_bot("index", "--docs", tmp_path / "does-not-exist", "--index", indexed.index_dir)
    assert proc.returncode == 2
    line = one_line(proc.stderr, "Error: Docs folder")
    assert line.endswith("does-not-exist does not exist.")
    assert chunk_count(indexed) == before


def test_cli_corrupt_index(seed_docs: Path, tmp_path: Path) -> None:
    db = tmp_path / "index" / "chroma" / "chroma.sqlite3"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"garbage" * 1000)
    for args in (("index",), ("search", "deliveries")):
        proc = run_bot(*args, "--docs", seed_docs, "--index", tmp_path / "index")
        assert proc.returncode == 1, proc.stderr
        line = one_line(proc.stderr, "Error: Index at")
        assert "cannot be opened" in line and "left untouched" in line
    assert db.read_bytes() == b"garbage" * 1000


def test_cli_invalid_setting(seed_docs: Path) -> None:
    proc = run_bot("index", "--docs", seed_docs, env={"BOT_CHUNK_SIZE": "huge"})
    assert proc.returncode == 2
    one_line(proc.stderr, "Error: Invalid setting chunk_size:")


def test_cli_unreachable_server(seed_docs: Path, tmp_path: Path) -> None:
    from chroma_server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    proc = run_bot("index", "--docs", seed_docs, "--index", tmp_path / "index", env={"BOT_CHROMA_URL": url})
    assert proc.returncode == 1
    one_line(proc.stderr, f"Error: Cannot reach the Chroma server at {url}")


# -- bot search ----------------------------------------------------------------------------------------


def test_cli_search_json(indexed: Settings) -> None:
    proc = run_bot(
        "search",
        "How many vehicles did HIMA deliver in November?",
        "--docs",
        indexed.docs_dir,
        "--index",
        indexed.index_dir,
        "-k",
        "2",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Loading weights" not in proc.stderr
    hits = json.loads(proc.stdout)
    assert len(hits) == 2 and "81,864" in hits[0]["text"]
    source = (indexed.docs_dir / hits[0]["source"]).read_bytes().decode("utf-8")
    assert source[hits[0]["start"] : hits[0]["end"]] == hits[0]["text"]


# -- bot ask -------------------------------------------------------------------------------------------

HIMA_Q = "How many vehicles did HIMA deliver in November?"
TIER_LINE = {"sure": r"Sure", "likely": r"Likely \(a guess\)", "abstain": r"Not sure"}
TIER_THRESHOLDS = {"sure": ("0", "0"), "likely": ("1", "0"), "abstain": ("1", "1")}  # (sure, likely): force a tier


OPENING = {  # how each tier's answer to HIMA_Q starts
    "sure": "81,864 vehicles [1]",
    "likely": "Probably 81,864 vehicles [1] — the passage: “",
    "abstain": "I can't tell for sure from the documents. The closest passage [1]: “",
}


@pytest.mark.parametrize("tier", ["sure", "likely", "abstain"])
def test_cli_ask_says_the_tier_and_its_confidence(indexed: Settings, tier: str) -> None:
    """Issue 19.2: a line after the answer gives its tier and confidence (``--json``: for a guess, which has all)."""
    sure_at, likely_at = TIER_THRESHOLDS[tier]
    env = {"BOT_SURE_CONFIDENCE": sure_at, "BOT_LIKELY_CONFIDENCE": likely_at}
    args = ("ask", HIMA_Q, "--docs", indexed.docs_dir, "--index", indexed.index_dir)
    plain = run_bot(*args, env=env)
    assert plain.returncode == 0 and "Traceback" not in plain.stderr, plain.stderr
    lines = plain.stdout.splitlines()
    assert lines[0].startswith(OPENING[tier]) and ("“" in lines[0]) == (tier != "sure"), plain.stdout
    assert re.fullmatch(rf"{TIER_LINE[tier]} · confidence \d{{1,3}}%", lines[1]), plain.stdout
    assert lines[2].startswith("[1] huawei_auto_brand_alliances.txt:"), plain.stdout  # the source, with offsets
    if tier != "likely":
        return
    as_json = run_bot(*args, "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    answer = json.loads(as_json.stdout)
    assert answer["text"] == lines[0] and answer["assertion"] == "likely" and not answer["refused"], answer
    assert lines[1].endswith(f" {answer['confidence']:.0%}") and 0.0 <= answer["confidence"] < 1.0, answer
    assert answer["claim"].startswith("81,864 vehicles [1]") and "signals" in answer, answer
    assert {"answer_start", "answer_end"} <= set(answer["citations"][0]), answer


def test_cli_ask_help_has_examples() -> None:
    proc = run_bot("ask", "--help", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Examples" in proc.stdout and 'bot ask "' in proc.stdout and "confidence" in proc.stdout
