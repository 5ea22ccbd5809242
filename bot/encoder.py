"""The embedder the bot uses: the packaged model's normalised sentence vectors, by ONNX Runtime or torch.

``onnx`` (the default) runs an ONNX copy of the model (:mod:`bot.onnx_embed`; no torch);
``torch`` (``BOT_EMBEDDER=torch``) runs sentence-transformers itself. Both give the same vectors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

from bot.minilm import load_model

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from bot.settings import Settings

__all__ = ["Backend", "MiniLMEncoder"]

Backend = Literal["onnx", "torch"]

_LOCK = threading.Lock()


class MiniLMEncoder:
    """The bundled model's sentence vectors (normalised, cosine space), with LangChain's method names."""

    def __init__(
        self,
        batch_size: int = 32,
        path: str | None = None,
        backend: Backend = "onnx",
        cache_dir: Path | str | None = None,
    ) -> None:
        """Create the embedder; the model loads on first use.

        Args:
            batch_size: Texts per forward pass.
            path: Model folder; defaults to the bundled model.
            backend: ``onnx`` (ONNX Runtime, no torch) or ``torch`` (sentence-transformers).
            cache_dir: Model cache holding the ONNX copy (``BOT_MODEL_DIR``); default ``~/.cache/docqa-bot/models``.

        """
        self.batch_size = batch_size
        self.path = path
        self.backend: Backend = backend
        self.cache_dir = cache_dir

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The embedder the settings ask for (batch size, ``BOT_EMBEDDER``, ``BOT_MODEL_DIR``)."""
        return cls(settings.embed_batch_size, backend=settings.embedder, cache_dir=settings.model_dir)

    @property
    def model(self) -> SentenceTransformer:
        """The sentence-transformers model (loaded on first access; imports torch whatever the backend)."""
        with _LOCK:
            return load_model(self.path)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        """Normalised vectors of one batch with the configured backend."""
        if self.backend == "onnx":
            from bot.onnx_embed import load_encoder

            return load_encoder(self.path, self.cache_dir).encode(texts)
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)

    def encode(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> list[list[float]]:
        """Embed texts in batches, reporting progress.

        Args:
            texts: Texts to embed.
            on_batch: Called with the number of texts done after each batch.

        Returns:
            One normalised vector per text.

        """
        # Batch texts of similar length together (longest first, as sentence-transformers does
        # inside one encode() call): each batch is padded to its longest text, so batching in
        # document order wastes ~20 % of the forward-pass work on padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        for i in range(0, len(order), self.batch_size):
            idx = order[i : i + self.batch_size]
            vecs = self._encode_batch([texts[j] for j in idx])
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
            vector = self._encode_batch([text])[0].tolist()
            with _LOCK:
                if len(cache) >= 512:
                    cache.clear()
                cache[text] = vector
        return list(vector)
