"""The project's sentence-aware splitting as a LangChain ``TextSplitter`` (for use in other pipelines).

Apart from :mod:`bot.split` because importing ``langchain_text_splitters`` costs a few tenths of a
second, which commands that only read the index need not pay (``from bot.split import
SentenceTextSplitter`` still works).
"""

from __future__ import annotations

import copy
from typing import Any

from langchain_core.documents import Document
from langchain_text_splitters import TextSplitter

from bot.split import chunk_spans

__all__ = ["SentenceTextSplitter"]


class SentenceTextSplitter(TextSplitter):
    """The same splitting as a LangChain ``TextSplitter`` (for use in other pipelines).

    ``create_documents(..)`` with ``add_start_index=True`` yields exact offsets.
    """

    def __init__(self, chunk_size: int = 600, overlap_sentences: int = 1, **kwargs: object) -> None:
        """Create the splitter.

        Args:
            chunk_size: Target chunk length in characters.
            overlap_sentences: Sentences repeated between chunks.
            **kwargs: Passed to ``TextSplitter``.

        """
        super().__init__(chunk_size=chunk_size, chunk_overlap=0, **kwargs)
        self._overlap_sentences = overlap_sentences

    def split_text(self, text: str) -> list[str]:
        """Split text into chunk strings."""
        return [text[s:e] for s, e in chunk_spans(text, self._chunk_size, self._overlap_sentences)]

    def create_documents(self, texts: list[str], metadatas: list[dict[Any, Any]] | None = None) -> list[Document]:
        """Split texts into ``Document`` objects; ``start_index`` (if asked for) is the exact offset.

        The base class finds each chunk with ``str.find`` after the previous one,
        which misses chunks that repeat sentences of their predecessor (overlap);
        here the offsets come straight from the spans.

        Args:
            texts: Texts to split.
            metadatas: One metadata dict per text, copied onto each of its chunks.

        Returns:
            The chunks as documents, in order.

        """
        metadatas_ = metadatas or [{}] * len(texts)
        documents = []
        for text, base in zip(texts, metadatas_, strict=True):
            for s, e in chunk_spans(text, self._chunk_size, self._overlap_sentences):
                metadata = copy.deepcopy(base)
                if self._add_start_index:
                    metadata["start_index"] = s
                documents.append(Document(page_content=text[s:e], metadata=metadata))
        return documents
