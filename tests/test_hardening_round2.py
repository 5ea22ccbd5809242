"""Hardening, round two (issue 21): odd file names, control sequences, documents that disagree, and the
probe's other careless inputs (large files, UTF-16 without a byte-order mark, empty and huge questions).

Real files, real Chroma, the real embedding model and the real ``bot`` command. The UI's items are in
tests/test_ui_browser_errors.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEED_FILE, SEEDS, corpus_bot, make_settings

from bot.embed import MiniLMEmbeddings
from bot.errors import ConfigError
from bot.indexer import sync_index
from bot.load import read_source_text
from bot.store import Store

BOT = str(Path(sys.executable).with_name("bot"))
HIMA_Q = "How many vehicles did HIMA deliver in November?"
SEED_NAME = SEED_FILE.name
ESCAPES = ("\x1b", "\x07", "\x9b")


def run_bot(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([BOT, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=os.environ)


def sources(store: Store) -> set[str]:
    return {c.source for c in store.all_chunks()}


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embeddings: MiniLMEmbeddings) -> tuple[Path, Path]:
    """The seeds indexed once for this module's CLI runs (docs folder, index folder)."""
    root = tmp_path_factory.mktemp("seed-index")
    docs = root / "docs"
    shutil.copytree(SEEDS, docs)
    settings = make_settings(docs, root / "index")
    sync_index(settings, embedder=embeddings)
    return docs, settings.index_dir


# -- 1. file names ------------------------------------------------------------------------------------------
def test_a_file_name_that_is_not_utf8_is_one_warning_and_the_rest_is_answered(tmp_path: Path) -> None:
    docs = tmp_path / "d"
    shutil.copytree(SEEDS, docs)
    with open(os.fsencode(docs) + b"/bad\xff\xfename.txt", "wb") as fh:  # a name that is not UTF-8
        fh.write(b"x 41.\n")
    index = tmp_path / "idx"
    proc = run_bot("index", "--docs", docs, "--index", index)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Invalid where clause" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        r"Warning: Skipped bad\xff\xfename.txt: its name is not valid UTF-8; rename it"
    ]
    assert "1 indexed" in proc.stdout and "1 skipped" in proc.stdout
    ask = run_bot("ask", HIMA_Q, "--docs", docs, "--index", tmp_path / "fresh")  # `ask` builds its own index too
    assert ask.returncode == 0, ask.stderr
    assert "81,864" in ask.stdout and "Traceback" not in ask.stderr
    assert r"Skipped bad\xff\xfename.txt" in ask.stderr


def test_a_file_name_with_a_newline_is_skipped_in_one_line(tmp_path: Path, embeddings: MiniLMEmbeddings) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.txt").write_text("Acme sold 12 boats in June.\n")
    (docs / "two\nlines.txt").write_text("Quuxco sold 99 rockets in May.\n")
    (docs / "bell\x07.txt").write_text("Quuxco sold 98 rockets in May.\n")
    settings = make_settings(docs, tmp_path / "index")
    warnings: list[str] = []
    store = Store.open(settings)
    report = sync_index(settings, store=store, embedder=embeddings, warn=warnings.append)
    assert sources(store) == {"ok.txt"}
    assert sorted(warnings) == [
        r"Skipped bell\x07.txt: its name contains a control character (such as a newline); rename it",
        r"Skipped two\nlines.txt: its name contains a control character (such as a newline); rename it",
    ]
    assert all("\n" not in w and "\x07" not in w for w in warnings)
    assert len(report.skipped) == 2


def test_the_index_folder_is_never_read_as_documents(tmp_path: Path) -> None:
    docs = tmp_path / "x"
    shutil.copytree(SEEDS, docs)
    same = run_bot("index", "--docs", docs, "--index", docs)
    assert same.returncode == 2 and "Traceback" not in same.stderr
    assert same.stderr.strip().splitlines() == [
        f"Error: The index folder {docs} is the docs folder itself; keep the index in a folder of its own "
        "(--index or BOT_INDEX_DIR)."
    ]
    assert sorted(p.name for p in docs.iterdir()) == [SEED_NAME], "nothing may be written into the docs folder"
    with pytest.raises(ConfigError, match="is the docs folder itself"):
        make_settings(docs, docs / ".." / docs.name)

    inside = docs / "idx"
    first = run_bot("index", "--docs", docs, "--index", inside)
    assert first.returncode == 0, first.stderr
    assert f"Note: The index folder {inside} is inside the docs folder; its files are not indexed." in first.stderr
    assert "Warning" not in first.stderr and "1 files (1 indexed" in first.stdout
    again = run_bot("index", "--docs", docs, "--index", inside)  # chroma.sqlite3, manifest.json: still not read
    assert "Warning" not in again.stderr and "1 files (0 indexed, 1 unchanged" in again.stdout
    assert set(Store.open(make_settings(docs, inside), create=False).doc_records()) == {SEED_NAME}


# -- 2. control sequences -------------------------------------------------------------------------------------
VELT = "The Velt company has \x1b[31m 9 \x1b]0;TITLE\x07 employees.\nVelt is based in \x1b[1mOslo\x1b[0m.\n"


def test_escape_sequences_never_become_numbers_and_offsets_stay_exact(tmp_path: Path, embeddings) -> None:
    bot = corpus_bot(tmp_path, embeddings, "velt", VELT)
    answer = bot.ask("How many employees does Velt have?")
    assert answer.claim is not None and answer.claim.startswith("9 employees"), answer
    assert "31" not in answer.text and "TITLE" not in answer.text
    assert not any(e in answer.model_dump_json() for e in ("\\u001b", "\\u0007"))
    path = tmp_path / "velt" / "velt.txt"
    raw = path.read_text(encoding="utf-8")
    indexed = read_source_text(path)
    assert len(indexed) == len(raw)  # one space per masked character: offsets index the file's own text
    for c in answer.citations:
        assert indexed[c.start : c.end] == c.quote
        masked = [i for i in range(c.start, c.end) if raw[i] != indexed[i]]
        assert masked and all(indexed[i] == " " for i in masked)
    assert not any("TITLE" in f.text or f.value == 31 for f in bot.facts())
    place = bot.ask("Where is Velt based?")
    assert "Oslo" in (place.claim or "") and "1m" not in (place.claim or "")


def test_the_cli_never_prints_a_control_character_from_a_document(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "velt.txt").write_text(VELT + "Velt\r sold \x1b[2J\x1b[H 14 \x9b1m ships in May.\n", encoding="utf-8")
    for question in ("How many employees does Velt have?", "How many ships did Velt sell in May?"):
        proc = run_bot("ask", question, "--docs", docs, "--index", tmp_path / "index")
        assert proc.returncode == 0, proc.stderr
        printed = proc.stdout + proc.stderr
        assert not any(ch in printed for ch in (*ESCAPES, "\r")), repr(printed)
        assert all(ch.isprintable() or ch in "\n" for ch in printed), repr(printed)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("[1] ")]
        assert lines and lines[0].startswith("[1] velt.txt:")
        if "employees" in question:
            assert proc.stdout.startswith("9 employees [1]."), proc.stdout


# -- 3. documents that disagree -------------------------------------------------------------------------------
PLANTED = "HIMA delivered 42 vehicles in November.\n"


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, embeddings: MiniLMEmbeddings):
    """The seed article next to a planted file that gives HIMA's November deliveries as 42."""
    tmp = tmp_path_factory.mktemp("planted")
    return corpus_bot(tmp, embeddings, "seed", SEED_FILE.read_text(encoding="utf-8"), {"planted": PLANTED})


@pytest.mark.parametrize("question", ["how many cars did HIMA deliver in novmber?", HIMA_Q])
def test_documents_that_disagree_give_both_values_and_are_never_sure(planted, question: str) -> None:
    answer = planted.ask(question)
    assert answer.text.startswith("The documents disagree: "), answer.text
    assert answer.kind == "disagreement" and answer.assertion == "likely" and not answer.refused
    assert answer.confidence < planted.settings.sure_confidence
    by_source = {c.source: c for c in answer.citations}
    assert set(by_source) == {"seed.txt", "planted.txt"}
    for value, source in (("81,864 vehicles", "seed.txt"), ("42 vehicles", "planted.txt")):
        n = by_source[source].n
        assert f"{value} [{n}]" in answer.text, answer.text
        c = by_source[source]
        assert c.answer_start is not None and c.quote[c.answer_start - c.start : c.answer_end - c.start] == value


def test_a_disagreement_is_not_stated_plainly_whatever_the_thresholds(tmp_path: Path, embeddings) -> None:
    bot = corpus_bot(tmp_path, embeddings, "seed", SEED_FILE.read_text(encoding="utf-8"), {"planted": PLANTED})
    bot.settings = bot.settings.model_copy(update={"sure_confidence": 0.0, "likely_confidence": 0.0})
    answer = bot.ask(HIMA_Q)
    assert answer.assertion == "likely" and answer.text.startswith("The documents disagree: ")


@pytest.mark.parametrize("engine", ["auto", "local", "openai"])
def test_generative_engines_give_the_disagreement_not_a_value(planted, engine: str) -> None:
    """Whatever a reader would say, the answer is the grounded disagreement (no model is even asked)."""
    answer = planted.ask(HIMA_Q, engine=engine)
    assert answer.text.startswith("The documents disagree: ") and answer.assertion == "likely"
    assert answer.engine == f"{engine} (grounded: the documents disagree)"


def test_one_document_or_other_periods_or_units_are_no_disagreement(tmp_path: Path, embeddings) -> None:
    bot = corpus_bot(
        tmp_path,
        embeddings,
        "korvo",
        "In 2022, Korvo sold 500 bikes. In 2023, Korvo sold 700 bikes.\n",  # one document: a change over time
        {
            "later": "Korvo sold 640 bikes in 2024.\n",  # another year
            "hedged": "Korvo has about 1,200 staff.\n",
            "hr": "Korvo has 1,150 staff.\n",  # within rounding of "about 1,200"
            "fleet": "Zorblat owns 30 trucks. Zorblat owns 12 vans.\n",
            "fleet2": "Zorblat owns 31 trucks.\n",  # 30 or 31 trucks: they do disagree
        },
    )
    questions = (
        "How many bikes did Korvo sell in 2023?",
        "How many bikes did Korvo sell?",
        "How many staff does Korvo have?",
    )
    for question in questions:
        answer = bot.ask(question)
        assert answer.kind != "disagreement", (question, answer.text)
    answer = bot.ask("How many trucks does Zorblat own?")
    assert answer.kind == "disagreement" and "30 trucks" in answer.text and "31 trucks" in answer.text


# -- the probe's other careless inputs ---------------------------------------------------------------------
def test_utf16_without_a_byte_order_mark_says_what_it_is(tmp_path: Path, embeddings: MiniLMEmbeddings) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.txt").write_text("Acme sold 12 boats in June.\n")
    (docs / "le.txt").write_bytes("Zorblat delivered 4,321 hover-bikes in March.\n".encode("utf-16-le"))
    (docs / "be.md").write_bytes("Fjordline cancelled 42 sailings.\n".encode("utf-16-be"))
    (docs / "blob.txt").write_bytes(b"\x00\x01\x02\x03\xff\xfe\x00binary")
    warnings: list[str] = []
    sync_index(make_settings(docs, tmp_path / "index"), embedder=embeddings, warn=warnings.append)
    assert sorted(warnings) == [
        "Skipped be.md: UTF-16 text (big-endian) without a byte-order mark; save it as UTF-8 "
        "(or as UTF-16 with a byte-order mark)",
        "Skipped blob.txt: binary file (contains NUL bytes)",
        "Skipped le.txt: UTF-16 text (little-endian) without a byte-order mark; save it as UTF-8 "
        "(or as UTF-16 with a byte-order mark)",
    ]


def test_a_30_mb_file_is_skipped_in_one_line(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    with (docs / "huge.txt").open("w") as fh:
        line = "The depot near Amber holds 12 crates.\n"
        fh.write(line * (30_000_000 // len(line) + 1))
    proc = run_bot("index", "--docs", docs, "--index", tmp_path / "index")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines() == ["Warning: Skipped huge.txt: too large (30.0 MB > 20.0 MB)"]
    assert "1 indexed" in proc.stdout and "1 skipped" in proc.stdout


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "Error: The question is empty: type a question about the documents."),
        ("   \t ", "Error: The question is empty: type a question about the documents."),
        ("x" * 50_000, "Error: The question is too long (50,000 characters; the limit is 2,000)."),
    ],
)
def test_empty_and_huge_questions_are_one_line_errors(
    seed_index: tuple[Path, Path], question: str, message: str
) -> None:
    docs, index = seed_index
    proc = run_bot("ask", question, "--docs", docs, "--index", index)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message) and "Traceback" not in proc.stderr, proc.stderr
