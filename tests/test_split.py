"""Sentence-aware splitting: exact offsets into the file's own text, sentence boundaries, stable ids."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from conftest import SEED_FILE

from bot.load import load_document
from bot.split import chunk_spans, sentence_spans, split_document
from bot.splitter import SentenceTextSplitter

LONG_SENTENCE = (
    "The committee reviewed "
    + ", ".join(f"proposal number {i} from the regional office in district {i % 7}" for i in range(40))
    + " before it adjourned."
)

# CRLF line endings, abbreviations that must not end a sentence, and one sentence far longer than a chunk.
CRLF_DOC = "\r\n".join(
    [
        "Quarterly Review",
        "",
        "The U.S. market grew by 4.2% in the third quarter. Dr. Smith, the chief economist, said demand was "
        "strong. Exports to the U.K. rose to 1,250 units, e.g. machine tools and pumps.",
        "",
        "Mr. Jones disagreed. He noted that costs rose faster than sales! Was the growth sustainable? "
        "Nobody at Acme Inc. could say for sure.",
        "",
        LONG_SENTENCE,
        "",
        "In closing, the board thanked Prof. Lee and approved a budget of $3.5 million for next year. "
        "The meeting ended at 5 p.m. on Friday.",
        "",
    ]
)


@pytest.fixture
def crlf_file(tmp_path: Path) -> Path:
    path = tmp_path / "review.txt"
    path.write_bytes(CRLF_DOC.encode("utf-8"))
    return path


def source_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def _check_chunks(text: str, chunk_size: int, overlap: int = 1) -> list:
    chunks = split_document("doc.txt", text, "h", chunk_size=chunk_size, overlap=overlap)
    assert chunks, "no chunks"
    sentences = sentence_spans(text)
    starts = {s for s, _ in sentences}
    ends = {e for _, e in sentences}
    for n, c in enumerate(chunks):
        assert c.chunk == n
        assert c.text == text[c.start : c.end], f"chunk {n} does not slice the source"
        assert c.text == c.text.strip() and "\r" not in (c.text[0], c.text[-1])
        # A chunk begins at a sentence start (or a hard-cut piece of an over-long sentence) and ends at a sentence end.
        assert c.start in starts or text[c.start - 1].isspace(), f"chunk {n} starts mid-word"
        assert c.end in ends or text[c.end].isspace(), f"chunk {n} ends mid-word"
        assert len(c.text) <= 2 * chunk_size
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    # Every sentence is inside some chunk (nothing lost between chunks).
    for s, e in sentences:
        assert any(c.start <= s and e <= c.end for c in chunks) or e - s > 2 * chunk_size
    return chunks


def test_seed_chunks_slice_the_file_exactly() -> None:
    text = source_text(SEED_FILE)
    assert load_document(SEED_FILE.name, SEED_FILE).text == text
    chunks = _check_chunks(text, chunk_size=600)
    assert len(chunks) >= 5
    sentences = sentence_spans(text)
    for c in chunks:  # no single chunk exceeds the target unless it is one sentence
        inside = [(s, e) for s, e in sentences if c.start <= s and e <= c.end]
        assert len(c.text) <= 600 or len(inside) == 1
    holder = [c for c in chunks if "81,864" in c.text]
    assert holder and all(text[c.start : c.end] == c.text for c in holder)


def test_crlf_abbreviations_long_sentence(crlf_file: Path) -> None:
    text = source_text(crlf_file)
    doc = load_document("review.txt", crlf_file)
    assert doc.text == text and "\r\n" in doc.text  # no newline translation: offsets index the raw file

    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert "The U.S. market grew by 4.2% in the third quarter." in sentences
    assert any(s.startswith("Dr. Smith, the chief economist") for s in sentences)
    assert "Exports to the U.K. rose to 1,250 units, e.g. machine tools and pumps." in sentences
    assert "He noted that costs rose faster than sales!" in sentences
    assert "Was the growth sustainable?" in sentences
    assert "Nobody at Acme Inc. could say for sure." in sentences
    assert "The meeting ended at 5 p.m. on Friday." in sentences
    assert LONG_SENTENCE in sentences
    assert not any(s.endswith(("Dr.", "U.S.", "Mr.", "Prof.", "Inc.")) for s in sentences)
    assert not any("\r" in s or "\n" in s for s in sentences)

    chunks = _check_chunks(text, chunk_size=300)
    assert len(LONG_SENTENCE) > 2 * 300
    long_start = text.index(LONG_SENTENCE)
    long_pieces = [c for c in chunks if long_start <= c.start < long_start + len(LONG_SENTENCE)]
    assert len(long_pieces) >= 2, "the over-long sentence should be cut into pieces"
    assert "".join(p.text + " " for p in long_pieces).strip().replace("  ", " ") == LONG_SENTENCE
    for c in chunks:  # abbreviations never end a chunk
        assert not c.text.endswith(("Dr.", "U.S.", "Mr.", "Prof.", "Inc."))


@pytest.mark.parametrize("chunk_size,overlap", [(100, 0), (300, 1), (600, 1), (1200, 2)])
def test_offsets_hold_for_any_chunk_size(crlf_file: Path, chunk_size: int, overlap: int) -> None:
    for text in (source_text(crlf_file), source_text(SEED_FILE)):
        _check_chunks(text, chunk_size=chunk_size, overlap=overlap)


def test_overlap_repeats_sentences() -> None:
    text = source_text(SEED_FILE)
    with_overlap = chunk_spans(text, 600, overlap=1)
    without = chunk_spans(text, 600, overlap=0)
    assert all(b[0] < a[1] for a, b in itertools.pairwise(with_overlap))
    assert all(b[0] >= a[1] for a, b in itertools.pairwise(without))


def test_ids_are_stable_and_local(crlf_file: Path) -> None:
    text = source_text(crlf_file)
    first = split_document("review.txt", text, "h1")
    again = split_document("review.txt", source_text(crlf_file), "h1")
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    # Another source with the same text gets other ids.
    assert not {c.id for c in first} & {c.id for c in split_document("other.txt", text, "h1")}
    # Editing the end of the document keeps the ids of the chunks before the edit.
    edited = split_document("review.txt", text + "\r\nA new closing remark was added later.\r\n", "h2")
    assert [c.id for c in edited[:-2]] == [c.id for c in first[:-2]]


def test_langchain_splitter_matches(crlf_file: Path) -> None:
    text = source_text(crlf_file)
    splitter = SentenceTextSplitter(chunk_size=300, overlap_sentences=1, add_start_index=True)
    docs = splitter.create_documents([text])
    spans = chunk_spans(text, 300, 1)
    assert [d.page_content for d in docs] == [text[s:e] for s, e in spans]
    assert [d.metadata["start_index"] for d in docs] == [s for s, _ in spans]
