"""The bundled embedding model as a LangChain ``Embeddings`` (``bot.embed.MiniLMEmbeddings``).

A module of its own because LangChain's ``Embeddings`` base class imports its callback and runnable
machinery (a few tenths of a second); the bot itself uses :class:`bot.embed.MiniLMEncoder`, which
has the same methods and vectors.
"""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from bot.encoder import MiniLMEncoder

__all__ = ["MiniLMEmbeddings"]


class MiniLMEmbeddings(MiniLMEncoder, Embeddings):
    """LangChain ``Embeddings`` over the bundled model (normalised vectors, cosine space).

    ``bot.embed.MiniLMEmbeddings`` is this class (imported from here on first use of the name).
    """

    __module__ = "bot.embed"
