"""Shared fixtures: the real embedding model once per session, isolated indexes per test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "huawei_auto_brand_alliances.txt"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No BOT_* variable or .env from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("BOT_"):
            monkeypatch.delenv(key)
    # With the local model installed the default engine is ``auto``; tests ask the grounded engine unless they
    # name another (a test of the default itself deletes this).
    monkeypatch.setenv("BOT_LLM", "grounded")
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session", autouse=True)
def _onnx_model_exported() -> None:
    """The ONNX copy of the embedding model exists before any test runs (exported once per machine).

    Otherwise the first ``bot`` subprocess of a fresh machine would export it and print the one-time
    message, which tests of the CLI's one-line stderr would read as an extra line.
    """
    from bot.onnx_embed import ensure_onnx

    ensure_onnx()


@pytest.fixture(scope="session")
def embeddings():
    """The real all-MiniLM-L6-v2 model, loaded once per test session."""
    from bot.embed import MiniLMEmbeddings

    emb = MiniLMEmbeddings()
    emb.embed_query("warm up")
    return emb


@pytest.fixture
def seed_docs(tmp_path: Path) -> Path:
    """A private copy of the seed documents."""
    dest = tmp_path / "docs"
    shutil.copytree(SEEDS, dest)
    return dest


def make_settings(docs: Path, index: Path, **kw):
    """Settings for a test: its own docs folder, index folder and collection."""
    from bot.settings import Settings

    return Settings(docs_dir=docs, index_dir=index, **kw)


def corpus_bot(tmp_path: Path, embeddings, name: str, text: str, more: dict[str, str] | None = None):
    """A Bot over documents written in a test: its own docs folder and index under ``tmp_path``.

    ``name``/``text`` is the first document; ``more`` maps further document names to their texts.
    """
    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.store import Store

    docs = tmp_path / name
    docs.mkdir()
    for doc, body in {name: text, **(more or {})}.items():
        (docs / f"{doc}.txt").write_text(body, encoding="utf-8")
    settings = make_settings(docs, tmp_path / f"{name}-index")
    store = Store.open(settings)
    sync_index(settings, store=store, embedder=embeddings)
    return Bot(settings, store=store, embeddings=embeddings)


@pytest.fixture
def seed_settings(seed_docs: Path, tmp_path: Path):
    """Settings over a private copy of the seeds with an empty private index."""
    return make_settings(seed_docs, tmp_path / "index")


@pytest.fixture
def seed_bot(seed_settings, embeddings):
    """A Bot over a freshly built index of the seed documents."""
    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.store import Store

    store = Store.open(seed_settings)
    sync_index(seed_settings, store=store, embedder=embeddings)
    return Bot(seed_settings, store=store, embeddings=embeddings)


# Chroma server fixtures (`chroma_server`, `backend`, `store_settings`, ...) live in tests/chroma_server.py.
pytest_plugins = ["chroma_server"]
