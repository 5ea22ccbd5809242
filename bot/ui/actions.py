"""The UI's event handlers over one shared :class:`bot.service.Bot`.

Per-session data (chat, turns, preferences) arrives as arguments, so one set of handlers serves every
session; nothing is locked across an answer (only index changes take a lock). Errors reach the user
as one-line ``gr.Error`` messages; the server log gets one line for a user error or a known
condition (the index server is down, the index is damaged) and a traceback only for a real fault.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from bot.errors import BotError, DocumentError, InputError
from bot.history import check_history
from bot.load import load_document
from bot.models import Answer
from bot.service import Bot
from bot.ui.examples import example_questions
from bot.ui.feedback import FEEDBACK_FILE, append_feedback, feedback_record
from bot.ui.render import (
    esc,
    history_messages,
    plain_answer,
    render_answer,
    render_pending,
    render_sources,
    render_user,
)
from bot.ui.tables import doc_rows, render_facts
from bot.ui.uploads import UPLOAD_PREFIX, check_upload, discard_upload, size_limit_bytes, store_upload

log = logging.getLogger("bot.ui")


def user_error(exc: BotError, action: str) -> gr.Error:
    """A ``gr.Error`` for a known error, logged as one line (no traceback)."""
    level = logging.INFO if isinstance(exc, (InputError, DocumentError)) else logging.WARNING
    log.log(level, "%s: %s: %s", action, type(exc).__name__, exc)
    return gr.Error(str(exc), print_exception=False)


def fault(action: str) -> gr.Error:
    """A ``gr.Error`` for a real fault; its traceback goes to the server log (call inside ``except``)."""
    log.exception("%s failed", action)
    message = f"{action.capitalize()} failed unexpectedly; the details are in the server log."
    return gr.Error(message, print_exception=False)


def _role(message: Any) -> str | None:
    if isinstance(message, dict):
        return message.get("role")
    return getattr(message, "role", None)


def _last_user_index(chat: list[dict[str, Any]]) -> int:
    for i in range(len(chat) - 1, -1, -1):
        if _role(chat[i]) == "user":
            return i
    return 0


class Actions:
    """The handlers of the chat, documents and facts views, and of the ``/ask`` API."""

    def __init__(self, bot: Bot) -> None:
        """Serve one shared bot."""
        self.bot = bot
        self.settings = bot.settings
        self.index_lock = threading.Lock()  # uploads and removals change the index one at a time

    # -- chat ------------------------------------------------------------------
    def contexts(self, answer: Answer) -> list[tuple[str, str, str]]:
        """The text around each citation of an answer (the quote alone when it cannot be read)."""
        out = []
        for c in answer.citations:
            try:
                out.append(self.bot.passage(c.source, c.start, c.end))
            except BotError as exc:  # a missing context must not lose the answer
                log.warning("cannot read the context of %s: %s", c.source, exc)
                out.append(("", c.quote, ""))
            except Exception:
                log.exception("cannot read the context of %s", c.source)
                out.append(("", c.quote, ""))
        return out

    def respond(
        self, message: str, chat: list[dict[str, Any]], turns: list[dict[str, Any]], prefs: dict[str, Any]
    ) -> Iterator[tuple[Any, ...]]:
        """Stream an answer into the chat; yields (textbox, chat, turns, sources, copy text).

        The engine gets the conversation as the ``/ask`` API does: each earlier question and the text
        of its answer, as chat messages.
        """
        chat = list(chat or [])
        turns = list(turns or [])
        if not (message or "").strip():  # Ask on an empty box does nothing: no message, no error state
            yield (gr.skip(),) * 5
            return
        try:
            question = self.bot.check_question(message)
        except BotError as exc:  # one message; the chat, the sources and the box keep what they had
            gr.Warning(user_error(exc, "question rejected").message)
            yield (gr.skip(),) * 5
            return
        history = history_messages(turns)
        shown = [*chat, {"role": "user", "content": render_user(question)}]
        engine = prefs.get("engine") or self.settings.engine
        yield "", [*shown, {"role": "assistant", "content": render_pending("", engine)}], turns, gr.skip(), gr.skip()
        text = ""
        answer: Answer | None = None
        try:
            for item in self.bot.stream(question, history, engine=prefs.get("engine"), top_k=prefs.get("top_k")):
                if isinstance(item, Answer):
                    answer = item
                else:
                    text += item
                    yield gr.skip(), [*shown, {"role": "assistant", "content": render_pending(text)}], *(gr.skip(),) * 3
        except BotError as exc:
            yield message, chat, turns, gr.skip(), gr.skip()
            raise user_error(exc, "answering") from None
        except Exception:
            yield message, chat, turns, gr.skip(), gr.skip()
            raise fault("answering") from None
        assert answer is not None
        turn = {
            "question": question,
            "history": [t["question"] for t in turns],
            "answer": answer.model_dump(mode="json", exclude={"facts", "tool_calls"}),
            "contexts": self.contexts(answer),
        }
        turns = [*turns, turn]
        final = [*shown, {"role": "assistant", "content": render_answer(answer, len(turns))}]
        yield "", final, turns, render_sources(turns), plain_answer(turn["answer"])

    @staticmethod
    def undo(chat: list[dict[str, Any]], turns: list[dict[str, Any]]) -> tuple[Any, ...]:
        """Drop the last question/answer pair; return its question (chat, turns, question, sources)."""
        if not turns:
            return [], [], "", render_sources([])
        last = turns[-1]
        cut = _last_user_index(chat)
        turns = turns[:-1]
        return chat[:cut], turns, last["question"], render_sources(turns)

    @staticmethod
    def clear() -> tuple[Any, ...]:
        """Empty the chat, turns, sources and copy text."""
        return [], [], render_sources([]), ""

    def like(self, data: gr.LikeData, chat: list[dict[str, Any]], turns: list[dict[str, Any]]) -> None:
        """Append thumbs up/down on an answer to ``index_dir/feedback.jsonl``."""
        liked = data.liked
        verdict = {True: "up", False: "down", "Like": "up", "Dislike": "down"}.get(liked)  # type: ignore[call-overload]
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        if verdict is None or not isinstance(index, int):
            return
        ordinal = sum(1 for m in chat[:index] if _role(m) == "assistant")
        if ordinal >= len(turns):
            return
        append_feedback(self.settings.index_dir / FEEDBACK_FILE, feedback_record(turns[ordinal], verdict))
        gr.Info("Thanks: your feedback was saved.")

    def api_ask(self, question: str, history: list[Any] | None = None) -> dict[str, Any]:
        """Answer a question about the documents, with citations.

        Args:
            question: The question.
            history: Earlier turns: user questions as strings, or chat messages
                ``{"role": "user"|"assistant", "content": str}``.

        Returns:
            The answer as JSON: ``text`` (with [n] markers), ``citations`` (n, source, start, end,
            quote, answer_start, answer_end), ``refused``, ``resolved_question``, ``engine``, ``kind``,
            and its verdict: ``assertion`` (sure | likely | abstain: how ``text`` says it),
            ``confidence`` (0-1) and ``claim`` (the answer as it would be said when sure).

        """
        try:
            answer = self.bot.ask(question, check_history(history))
        except BotError as exc:
            raise user_error(exc, "api ask") from None
        except Exception:
            raise fault("answering") from None
        return answer.model_dump(mode="json")

    # -- documents and facts ----------------------------------------------------
    def uploaded_sources(self) -> list[str]:
        """Sources of the uploaded documents (the ones that can be removed here)."""
        return [d.source for d in self.bot.documents() if d.source.startswith(UPLOAD_PREFIX)]

    def examples(self) -> list[dict[str, str]]:
        """Example questions for the empty chat."""
        return [{"text": q} for q in example_questions(self.bot.facts())]

    def facts_html(self, query: str = "", kind: str = "all") -> str:
        """The facts table, filtered."""
        try:
            return render_facts(self.bot.facts(), query, kind)
        except BotError as exc:
            raise user_error(exc, "facts") from None

    def refresh(self, query: str = "", kind: str = "all") -> tuple[Any, ...]:
        """Refresh the documents table, removable uploads, facts table (with its filter) and chat examples."""
        try:
            facts = self.bot.facts()
            documents = self.bot.documents()
        except BotError as exc:
            raise user_error(exc, "refresh") from None
        return (
            doc_rows(documents),
            gr.update(choices=[d.source for d in documents if d.source.startswith(UPLOAD_PREFIX)], value=None),
            render_facts(facts, query, kind),
            gr.update(examples=[{"text": q} for q in example_questions(facts)]),
        )

    def upload(
        self, files: list[str] | None, query: str = "", kind: str = "all", progress: gr.Progress | None = None
    ) -> tuple[Any, ...]:
        """Validate, store and index uploaded files; returns status plus refreshed views.

        A rejected file is deleted from Gradio's upload cache at once; an accepted one is moved from
        there into the index folder's ``uploads``.
        """
        progress = progress or gr.Progress()
        lines: list[str] = []
        saved: list[str] = []
        with self.index_lock:
            for f in files or []:
                path = Path(f)
                name = path.name
                try:
                    safe = check_upload(path, name, self.settings)
                    load_document(UPLOAD_PREFIX + safe, path, max_bytes=size_limit_bytes(self.settings))
                except (InputError, DocumentError) as exc:
                    discard_upload(path)
                    log.info("upload rejected: %s: %s", name, exc)
                    lines.append(f"✗ **{esc(name)}** was not added: {esc(str(exc))}")
                    continue
                store_upload(path, self.settings.uploads_dir / safe)
                saved.append(UPLOAD_PREFIX + safe)
            if saved:
                lines.extend(self._reindex(progress, saved))
        if not lines:
            lines.append("No file received.")
        return ("\n\n".join(lines), None, *self.refresh(query, kind))

    def remove(
        self, source: str | None, query: str = "", kind: str = "all", progress: gr.Progress | None = None
    ) -> tuple[Any, ...]:
        """Delete an uploaded document's file and reindex."""
        progress = progress or gr.Progress()
        if not source:
            raise user_error(InputError("Pick an uploaded document to remove."), "remove")
        with self.index_lock:
            if source not in self.uploaded_sources():
                raise user_error(InputError("Only uploaded documents can be removed here."), "remove")
            root = self.settings.uploads_dir.resolve()
            target = (root / source.removeprefix(UPLOAD_PREFIX)).resolve()
            if target.parent != root:
                raise user_error(InputError("Only uploaded documents can be removed here."), "remove")
            target.unlink(missing_ok=True)
            lines = self._reindex(progress, [])
        return ("\n\n".join([f"Removed **{esc(source)}**.", *lines]), *self.refresh(query, kind))

    def _reindex(self, progress: gr.Progress, saved: list[str]) -> list[str]:
        warnings: list[str] = []

        def tick(done: int, total: int, desc: str) -> None:
            if total:
                progress((done, total), desc=desc, unit="chunks")

        progress(0, desc="Indexing")
        try:
            report = self.bot.reindex(progress=tick, warn=warnings.append)
        except BotError as exc:
            for source in saved:  # never leave a file that broke indexing behind
                (self.settings.uploads_dir / source.removeprefix(UPLOAD_PREFIX)).unlink(missing_ok=True)
            raise user_error(BotError(f"Indexing failed, nothing was added: {exc}"), "indexing") from None
        lines = []
        skipped = dict(report.skipped)
        for source in saved:
            if source in skipped:
                (self.settings.uploads_dir / source.removeprefix(UPLOAD_PREFIX)).unlink(missing_ok=True)
                lines.append(f"✗ **{esc(source)}** was skipped by the indexer: {esc(skipped[source])}")
            else:
                lines.append(f"✓ **{esc(source)}** indexed; it can be asked about now.")
        lines.extend(f"⚠ {esc(w)}" for w in warnings if not any(s in w for s in saved))
        lines.append(f"Index: {esc(report.summary())}")
        return lines


def example_text(data: gr.SelectData) -> str:
    """The text of a clicked example question."""
    value = data.value
    return str(value.get("text", "")) if isinstance(value, dict) else str(value)
