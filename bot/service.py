"""The one entry point every shell uses: :class:`Bot` (and :func:`bot.ask`).

A ``Bot`` owns the heavy, shareable resources of one index - the store, the
embedding model, the hybrid retriever, the facts and the tools - and answers
questions with the configured engine. The CLI, the web UI, the evaluation
runner and Python callers all go through :meth:`Bot.ask` / :meth:`Bot.stream`,
so no answering logic lives in a shell. A ``Bot`` is safe to share between
threads (the web UI serves many users with one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.embed import MiniLMEncoder
from bot.errors import InputError
from bot.history import check_history
from bot.hybrid import HybridSearch
from bot.indexer import IndexReport, ProgressFn, WarnFn, sync_index
from bot.models import Answer, Fact
from bot.settings import Settings
from bot.store import DocRecord, Store

if TYPE_CHECKING:
    from bot.engine.index import StoreIndex
    from bot.retrieve import HybridRetriever

History = Sequence[str | Mapping[str, Any]]
"""Earlier turns: plain strings are user questions; mappings are chat messages
``{"role": "user" | "assistant", "content": str}`` (Gradio/OpenAI style)."""


class Bot:
    """Answers questions over one index.

    Example:
        >>> from bot.service import Bot
        >>> from bot.settings import load_settings
        >>> b = Bot.open(load_settings(docs_dir="seeds"))  # doctest: +SKIP
        >>> b.ask("How many vehicles were delivered in November?").text  # doctest: +SKIP
    """

    def __init__(self, settings: Settings, store: Store | None = None, embeddings: MiniLMEncoder | None = None) -> None:
        """Wrap an existing index (see :meth:`open` to build/update it first).

        Args:
            settings: The settings (engine, top-k, limits, index location).
            store: An open store; opened from the settings if omitted.
            embeddings: The embedder; created if omitted (the model is shared per process anyway).
        """
        self.settings = settings
        self.store = store or Store.open(settings, create=False)
        self.embeddings = embeddings or MiniLMEncoder.from_settings(settings)
        self._lock = threading.RLock()
        self._facts: list[Fact] | None = None
        self._facts_fp: Any = None
        self.last_report: IndexReport | None = None  # set by :meth:`open`
        self.confidence_model: Any = None  # None: the shipped model (bot/verdict/model.json), read on first answer

    @classmethod
    def open(cls, settings: Settings, progress: ProgressFn | None = None, warn: WarnFn | None = None) -> Bot:
        """Build or update the index of ``settings.docs_dir``, then return a bot over it."""
        store = Store.open(settings)
        embeddings = MiniLMEncoder.from_settings(settings)
        bot = cls(settings, store, embeddings)
        bot.last_report = sync_index(settings, store=store, embedder=embeddings, progress=progress, warn=warn)
        return bot

    # -- resources ---------------------------------------------------------
    @cached_property
    def hybrid(self) -> HybridSearch:
        """The hybrid dense + keyword search over this index (what the engine uses)."""
        return HybridSearch(self.store, self.embeddings, k=self.settings.top_k, fetch_k=self.settings.fetch_k)

    @cached_property
    def retriever(self) -> HybridRetriever:
        """The hybrid search as a LangChain retriever (imports LangChain's retriever machinery on first use)."""
        from bot.retrieve import HybridRetriever

        return HybridRetriever.over(self.hybrid)

    @cached_property
    def engine_index(self) -> StoreIndex:
        """The index as the answer engine sees it."""
        from bot.engine.index import StoreIndex
        from bot.engine.word_stats import file_for

        stats_file = file_for(self.settings.index_dir, f"{self.store.name}/{self.store.owner}")
        return StoreIndex(self.store, self.hybrid, stats_file=stats_file)

    def facts(self) -> list[Fact]:
        """All numeric facts of the index (cached until the index changes)."""
        fp = self.store.fingerprint()
        with self._lock:
            if self._facts is None or fp != self._facts_fp:
                self._facts, self._facts_fp = self.store.all_facts(), fp
            return self._facts

    def documents(self) -> list[DocRecord]:
        """The indexed documents, by name."""
        return sorted(self.store.doc_records().values(), key=lambda r: r.source)

    def reindex(self, progress: ProgressFn | None = None, warn: WarnFn | None = None) -> IndexReport:
        """Bring the index in line with the documents folder and uploads (e.g. after an upload)."""
        with self._lock:
            return sync_index(self.settings, store=self.store, embedder=self.embeddings, progress=progress, warn=warn)

    # -- answering ---------------------------------------------------------
    def check_question(self, question: str) -> str:
        """Validate and clean a question.

        Returns:
            The question without control characters and surrounding space.

        Raises:
            InputError: If it is not text, empty, or longer than the limit.
        """
        if not isinstance(question, str):
            raise InputError("The question must be text.")
        if len(question) > self.settings.max_question_chars:
            raise InputError(
                f"The question is too long ({len(question):,} characters; the limit is "
                f"{self.settings.max_question_chars:,}). Ask about one thing at a time."
            )
        cleaned = "".join(ch if ch.isprintable() or ch in " \t\n" else " " for ch in question)
        cleaned = " ".join(cleaned.split())
        if not cleaned:
            raise InputError("The question is empty: type a question about the documents.")
        if not any(ch.isalnum() for ch in cleaned):
            raise InputError("The question has no words in it: type a question about the documents.")
        return cleaned

    def ask(self, question: str, history: History = (), engine: str | None = None, top_k: int | None = None) -> Answer:
        """Answer a question, with citations.

        Args:
            question: The user's question.
            history: Earlier turns of the conversation (for follow-ups).
            engine: ``grounded`` (default from settings), ``openai`` or ``llamacpp``.
            top_k: Chunks to retrieve (defaults to the settings).

        Returns:
            The answer; ``answer.refused`` is True when the documents do not say.

        Raises:
            InputError: If the question is empty or too long.
            BackendError: If a generative backend fails.
        """
        final: Answer | None = None
        for item in self.stream(question, history, engine=engine, top_k=top_k):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(
        self, question: str, history: History = (), engine: str | None = None, top_k: int | None = None
    ) -> Iterator[str | Answer]:
        """Answer a question incrementally: text pieces, then the final :class:`Answer`.

        Yields:
            ``str`` pieces of the answer text as they are produced, and last the complete ``Answer``.
        """
        t0 = time.perf_counter()
        cleaned = self.check_question(question)
        history = check_history(history)
        engine = engine or self.settings.engine
        from bot.engine import run
        from bot.verdict import assess

        outcome = run(self.engine_index, cleaned, history)
        grounded = assess(outcome, self.settings, self.confidence_model)
        outcome.answer = grounded
        if engine == "grounded":
            yield grounded.text
            final = grounded
        else:
            from bot.llm import generate_answer

            final = None
            for item in generate_answer(self, cleaned, history, outcome, engine, top_k or self.settings.top_k):
                if isinstance(item, Answer):
                    final = item
                else:
                    yield item
            assert final is not None
        final = final.model_copy(update={"question": question, "latency_ms": (time.perf_counter() - t0) * 1000})
        yield final

    def passage(self, source: str, start: int, end: int, context: int = 240) -> tuple[str, str, str]:
        """Return the indexed text around a span, for showing a citation in context (web UI).

        Args:
            source: The document's source name.
            start: Start offset of the span in the document's indexed text.
            end: End offset.
            context: Characters of surrounding text wanted on each side.

        Returns:
            ``(before, span, after)``; all empty when the document is no longer indexed.

        """
        lo, hi = max(0, start - context), end + context
        res = self.store.chunks.get(
            where={"$and": [{"source": {"$eq": source}}, {"start": {"$lt": hi}}, {"end": {"$gt": lo}}]},
            include=["metadatas", "documents"],
        )
        buf: dict[int, str] = {}
        for meta, text in zip(res["metadatas"], res["documents"], strict=True):
            for i, ch in enumerate(text or "", start=int(meta["start"])):
                if lo <= i < hi:
                    buf.setdefault(i, ch)
        if not buf:
            return "", "", ""
        top = max(buf) + 1
        text = "".join(buf.get(i, " ") for i in range(lo, top))
        return text[: start - lo], text[start - lo : end - lo], text[end - lo :]


_BOTS: dict[tuple[Any, ...], Bot] = {}
_BOTS_LOCK = threading.Lock()


def get_bot(
    settings: Settings, build: bool = True, progress: ProgressFn | None = None, warn: WarnFn | None = None
) -> Bot:
    """A process-wide bot per index location (built/updated on first use when ``build``)."""
    key = (str(Path(settings.index_dir).resolve()), settings.collection, settings.chroma_url, str(settings.docs_dir))
    with _BOTS_LOCK:
        if key not in _BOTS:
            _BOTS[key] = Bot.open(settings, progress, warn) if build else Bot(settings)
        return _BOTS[key]


def ask(question: str, history: History = (), settings: Settings | None = None, **kwargs: Any) -> Answer:
    """Answer a question about the documents (builds or updates the index on first use).

    Args:
        question: The question.
        history: Earlier turns (strings are user questions, or chat messages).
        settings: Settings; read from the environment if omitted.
        **kwargs: ``engine``, ``top_k``.

    Returns:
        The answer with citations.
    """
    from bot.settings import load_settings

    return get_bot(settings or load_settings()).ask(question, history, **kwargs)
