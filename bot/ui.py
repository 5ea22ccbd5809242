"""The Gradio web UI: chat with cited answers, documents, facts, per-session settings.

The UI is a shell over :class:`bot.service.Bot`: every answer comes from
:meth:`Bot.stream`, every index change from :meth:`Bot.reindex`; nothing here
decides what an answer says. It adds presentation (citation links, the sources
panel, refusals), uploads, feedback logging and a JSON API endpoint (``/ask``)::

    from gradio_client import Client

    client = Client("http://127.0.0.1:7860/")
    first = client.predict("How many vehicles were delivered in November?", [], api_name="/ask")
    print(first["text"], first["citations"])
    follow = client.predict("And in which month?", [first["question"]], api_name="/ask")

Security defaults (see :func:`launch`): bound to 127.0.0.1, no share link, no
file serving outside Gradio's own assets and cache, upload size/type limits,
sanitised upload names, all document and answer text HTML-escaped, and errors
shown as one-line messages (never tracebacks).
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from bot.errors import BotError, ConfigError, DocumentError, InputError
from bot.load import load_document
from bot.models import Answer, Fact
from bot.service import Bot
from bot.settings import Settings
from bot.store import DocRecord

log = logging.getLogger(__name__)

UPLOAD_PREFIX = "uploads/"
FEEDBACK_FILE = "feedback.jsonl"
MAX_EXAMPLES = 4
_CITE_RE = re.compile(r"\[(\d{1,3})\]")
_FEEDBACK_LOCK = threading.Lock()

CSS = """
.answer { line-height: 1.5; }
.answer.pending { opacity: 0.75; font-style: italic; }
.answer.refused { border-left: 4px solid #d97706; background: rgba(217, 119, 6, 0.10);
                  padding: 6px 10px; border-radius: 4px; }
.answer.refused .refused-tag { font-weight: 600; color: #b45309; display: block; margin-bottom: 2px; }
.answer.error { border-left: 4px solid #dc2626; padding: 6px 10px; }
a.cite-link { text-decoration: none; font-weight: 600; padding: 0 1px; }
.answer-meta { font-size: 0.8em; opacity: 0.65; margin-top: 4px; }
#sources-panel { max-height: 620px; overflow-y: auto; }
#sources-panel .turn { margin-bottom: 14px; }
#sources-panel .turn h4 { margin: 4px 0; font-size: 0.95em; }
#sources-panel ol { padding-left: 0; list-style: none; margin: 0; }
#sources-panel li.cite-item { margin: 6px 0; padding: 6px 8px; border: 1px solid rgba(127, 127, 127, 0.3);
                               border-radius: 6px; }
#sources-panel li.cite-item:target { outline: 2px solid #2563eb; }
#sources-panel .cite-head { font-size: 0.85em; margin-bottom: 4px; }
#sources-panel .cite-context { font-size: 0.9em; margin: 0; white-space: pre-wrap; }
#sources-panel mark { background: #fde68a; color: #111; padding: 0 1px; }
.sources-empty { opacity: 0.7; font-style: italic; }
"""

COPY_JS = """
(text) => {
  if (!text) { return; }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text);
  } else {
    const area = document.createElement("textarea");
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand("copy"); area.remove();
  }
}
"""


# -- pure helpers (tested directly) ---------------------------------------------
def sanitize_filename(name: str) -> str:
    r"""Make a safe file name for an upload: no folders, no traversal, no odd characters.

    Args:
        name: The name the browser sent (may contain ``/``, ``\\``, ``..``, control characters).

    Returns:
        A plain file name of letters, digits, ``.``, ``-`` and ``_`` (at most 120
        characters, suffix lower-cased); ``upload`` if nothing usable is left.

    Example:
        >>> sanitize_filename("../../etc/passwd.TXT")
        'passwd.txt'

    """
    base = re.split(r"[/\\]", unicodedata.normalize("NFKC", name or ""))[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    clean_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-") or "upload"
    clean_suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()
    clean_stem = clean_stem[: 120 - len(clean_suffix) - 1]
    return f"{clean_stem}.{clean_suffix}" if clean_suffix else clean_stem


def check_upload(path: Path, name: str, settings: Settings) -> str:
    """Validate one uploaded file against the type allow-list and size cap.

    Args:
        path: Where Gradio stored the upload.
        name: The original file name.
        settings: Supplies ``upload_types`` and ``upload_max_mb``.

    Returns:
        The sanitised name to store it under.

    Raises:
        InputError: If the type is not allowed or the file is too large.

    """
    safe = sanitize_filename(name)
    suffix = Path(safe).suffix.lower()
    allowed = [t.lower() for t in settings.upload_types]
    if suffix not in allowed:
        raise InputError(f"file type {suffix or '(none)'} is not allowed; allowed: {', '.join(allowed)}")
    size = path.stat().st_size
    if size > settings.upload_max_mb * 1e6:
        raise InputError(f"too large ({size / 1e6:.1f} MB; the limit is {settings.upload_max_mb:g} MB)")
    if size == 0:
        raise InputError("empty file")
    return safe


def _verb_form_in(measure: str, sentence: str) -> bool:
    return re.search(rf"\b{re.escape(measure)}(?:e?d|s|es|ing)\b", sentence, re.IGNORECASE) is not None


def fact_question(fact: Fact) -> str | None:
    """Phrase a natural question whose answer is this fact (None if the fact is too vague).

    Example: a ``count`` fact (Harmony Intelligent Mobility Alliance, deliver, vehicles,
    November) gives "How many vehicles did Harmony Intelligent Mobility Alliance
    deliver in November?".
    """
    subject, measure = fact.subject, fact.measure
    if not subject or not measure or fact.role:
        return None
    where = f" in {fact.object}" if fact.object else ""
    when = f" in {fact.period}" if fact.period else ""
    verb = _verb_form_in(measure, fact.sentence)
    if fact.kind == "count" and fact.unit:
        if verb:
            return f"How many {fact.unit} did {subject} {measure}{where}{when}?"
        return f"How many {fact.unit} are in {subject}'s {measure}{when}?"
    if fact.kind == "money":
        if verb:
            return f"How much did {subject} {measure}{where}{when}?"
        return f"What is the {measure} of {subject}{where}{when}?"
    if fact.kind in ("percent", "ratio"):
        if verb:
            return f"By how much did {subject} {measure}{where}{when}?"
        return f"What {measure} does {subject} have{where}{when}?"
    return None


def example_questions(facts: Sequence[Fact], documents: Sequence[DocRecord], n: int = MAX_EXAMPLES) -> list[str]:
    """Draw example questions from the indexed facts (falling back to document names).

    Prefers facts with a period or object, one question per subject, up to ``n``.
    """
    ranked = sorted(
        facts, key=lambda f: (-(bool(f.period) + bool(f.object) + bool(f.unit)), f.approximate, f.source, f.start)
    )
    out: list[str] = []
    subjects: set[str] = set()
    for fact in ranked:
        q = fact_question(fact)
        key = (fact.subject or "").lower()
        if q and key not in subjects and q not in out:
            out.append(q)
            subjects.add(key)
        if len(out) >= n:
            return out
    for doc in documents:
        if len(out) >= n:
            break
        topic = Path(doc.source).stem.replace("_", " ").replace("-", " ").strip()
        if topic:
            out.append(f"What does {topic} say?")
    return out


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _br(escaped: str) -> str:
    return escaped.replace("\r\n", "\n").replace("\n", "<br>")


def render_user(question: str) -> str:
    """Render a user message as escaped HTML (markup typed by the user shows as text)."""
    return f'<div class="question">{_br(_esc(question))}</div>'


def render_pending(text: str, engine: str | None = None) -> str:
    """Render an answer that is still streaming in (before its first word: what the engine is doing)."""
    waiting = {
        "local": "Searching the documents… the local model is thinking",
        "llamacpp": "Searching the documents… the local model is thinking",
        "openai": "Searching the documents… the model is thinking",
    }.get(engine or "", "Searching the documents…")
    body = _br(_esc(text)) if text else waiting
    return f'<div class="answer pending">{body}</div>'


def render_answer(answer: Answer, turn: int) -> str:
    """Render a final answer: escaped text, [n] markers linked to the sources panel, refusals marked.

    Args:
        answer: The answer from :meth:`Bot.stream`.
        turn: 1-based number of this answer in the conversation (anchors are ``cite-<turn>-<n>``).

    """
    cites = {c.n: c for c in answer.citations}

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        c = cites.get(n)
        if c is None:
            return m.group(0)
        title = _esc(f"{c.source}: {c.quote}")
        return f'<a class="cite-link" href="#cite-{turn}-{n}" title="{title}">[{n}]</a>'

    body = _CITE_RE.sub(link, _br(_esc(answer.text)))
    if answer.refused:
        return (
            f'<div class="answer refused"><span class="refused-tag">⚠ Not answered by the documents</span>{body}</div>'
        )
    meta = answer.engine + (f" · {answer.latency_ms / 1000:.1f} s" if answer.latency_ms >= 50 else "")
    if answer.flags:
        meta += " · " + "; ".join(answer.flags)
    return f'<div class="answer">{body}<div class="answer-meta">{_esc(meta)}</div></div>'


def render_error(message: str) -> str:
    """Render an error shown in place of an answer."""
    return f'<div class="answer error">⚠ {_esc(message)}</div>'


def render_sources(turns: Sequence[dict[str, Any]]) -> str:
    """Render the sources panel: every cited span with its surrounding text, newest answer first."""
    if not turns:
        return '<div class="sources-empty">Sources of each answer appear here: click a [n] marker to jump to it.</div>'
    parts: list[str] = []
    for t_no in range(len(turns), 0, -1):
        turn = turns[t_no - 1]
        ans = turn["answer"]
        items = []
        for cit, ctx in zip(ans["citations"], turn["contexts"], strict=True):
            before, span, after = ctx if any(ctx) else ("", cit["quote"], "")
            before = before.split(None, 1)[-1] if " " in before.strip() and not before[:1].isspace() else before
            after = after.rsplit(None, 1)[0] if " " in after.strip() and not after[-1:].isspace() else after
            lead = "…" if before else ""
            tail = "…" if after else ""
            items.append(
                f'<li class="cite-item" id="cite-{t_no}-{cit["n"]}">'
                f'<div class="cite-head"><b>[{cit["n"]}]</b> <code>{_esc(cit["source"])}</code> '
                f'<span class="cite-offsets">chars {cit["start"]}–{cit["end"]}</span></div>'
                f'<p class="cite-context">{lead}{_esc(before)}<mark>{_esc(span)}</mark>{_esc(after)}{tail}</p></li>'
            )
        status = " (not answered)" if ans["refused"] else ""
        body = f"<ol>{''.join(items)}</ol>" if items else '<div class="sources-empty">No sources cited.</div>'
        parts.append(
            f'<section class="turn" id="turn-{t_no}"><h4>Answer {t_no}{status}: {_esc(turn["question"])}</h4>'
            f"{body}</section>"
        )
    return "".join(parts)


def plain_answer(answer: dict[str, Any]) -> str:
    """Format an answer as plain text with its sources listed (for the copy button)."""
    lines = [answer["text"]]
    if answer["citations"]:
        lines.append("")
        lines.append("Sources:")
        lines.extend(f"[{c['n']}] {c['source']}: “{c['quote']}”" for c in answer["citations"])
    return "\n".join(lines)


def history_messages(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Turn earlier turns into chat messages for :meth:`Bot.stream` (raw answer text, not HTML)."""
    out: list[dict[str, str]] = []
    for t in turns:
        out.append({"role": "user", "content": t["question"]})
        out.append({"role": "assistant", "content": t["answer"]["text"]})
    return out


def doc_rows(documents: Sequence[DocRecord]) -> list[list[Any]]:
    """Build the rows of the documents table."""
    return [
        [
            d.source,
            d.chunks,
            d.facts,
            d.indexed_at.replace("T", " ").replace("+00:00", " UTC"),
            "upload" if d.source.startswith(UPLOAD_PREFIX) else "docs folder",
        ]
        for d in documents
    ]


DOC_HEADERS = ["document", "chunks", "facts", "indexed", "origin"]
FACT_HEADERS = ["subject", "measure", "value", "unit", "period", "kind", "source", "span", "sentence"]


def _fmt_value(f: Fact) -> str:
    def num(v: float) -> str:
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"

    if f.kind == "percent" and f.value is not None:  # stored as a fraction
        return f"{f.value * 100:.4g}%"
    if f.value is not None:
        return num(f.value)
    if f.low is not None or f.high is not None:
        return f"{num(f.low) if f.low is not None else ''}–{num(f.high) if f.high is not None else ''}"
    return ""


def fact_rows(facts: Sequence[Fact], query: str = "", kind: str = "all") -> list[list[Any]]:
    """Build the rows of the facts table, filtered by a case-insensitive substring and a kind."""
    q = (query or "").strip().lower()
    rows = []
    for f in facts:
        if kind not in ("", "all", None) and f.kind != kind:
            continue
        row = [
            f.subject or "",
            f.measure or "",
            _fmt_value(f),
            f.unit or "",
            f.period or "",
            f.kind,
            f"{f.source}:{f.start}–{f.end}",
            f.quantity_text,
            f.sentence,
        ]
        if q and not any(q in str(cell).lower() for cell in row + f.subject_aliases + [f.object or ""]):
            continue
        rows.append(row)
    return rows


def feedback_record(turn: dict[str, Any], verdict: str) -> dict[str, Any]:
    """Build a feedback line in the evaluation runner's question-set format.

    ``expected`` (the answer text without citation markers) and ``answerable`` are
    only set for a thumbs-up, when the answer is known to be right.
    """
    ans = turn["answer"]
    rec: dict[str, Any] = {
        "id": f"fb-{uuid.uuid4().hex[:12]}",
        "question": turn["question"],
        "history": list(turn["history"]),
    }
    if verdict == "up":
        rec["answerable"] = not ans["refused"]
        if not ans["refused"]:
            rec["expected"] = " ".join(_CITE_RE.sub("", ans["text"]).split())
    rec.update(
        {
            "feedback": verdict,
            "answer": ans["text"],
            "citations": ans["citations"],
            "refused": ans["refused"],
            "engine": ans["engine"],
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    return rec


def append_feedback(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line (thread-safe within the process)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _FEEDBACK_LOCK, path.open("a", encoding="utf-8") as fh:
        fh.write(line)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """Split ``USER:PASS`` into ``(user, pass)``.

    Raises:
        ConfigError: If it is not of that form.

    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("Invalid auth: expected USER:PASS (e.g. --auth alice:s3cret or BOT_AUTH=alice:s3cret).")
    return user, password


def available_engines(settings: Settings) -> list[str]:
    """List the engines a user may pick: grounded plus the configured backends."""
    engines = ["grounded"]
    if settings.openai_base_url or settings.openai_api_key or settings.llm == "openai":
        engines.append("openai")
    if settings.llamacpp_model_path or settings.llm == "llamacpp":
        engines.append("llamacpp")
    from bot.llm.local_model import installed

    if settings.llm == "local" or installed():
        engines.append("local")
    return engines


# -- the app ----------------------------------------------------------------------
class _Actions:
    """The UI's event handlers over one shared :class:`Bot` (per-session data arrives as arguments)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.index_lock = threading.Lock()

    # -- chat ------------------------------------------------------------------
    def contexts(self, answer: Answer) -> list[tuple[str, str, str]]:
        out = []
        for c in answer.citations:
            try:
                out.append(self.bot.passage(c.source, c.start, c.end))
            except Exception:  # a missing context must not lose the answer
                log.exception("cannot read the context of %s", c.source)
                out.append(("", c.quote, ""))
        return out

    def respond(
        self, message: str, chat: list[dict[str, Any]], turns: list[dict[str, Any]], prefs: dict[str, Any]
    ) -> Iterator[tuple[Any, ...]]:
        """Stream an answer into the chat; yields (textbox, chat, turns, sources, copy text)."""
        chat = list(chat or [])
        turns = list(turns or [])
        try:
            question = self.bot.check_question(message or "")
        except BotError as exc:
            raise gr.Error(str(exc)) from None
        history = history_messages(turns)
        shown = [*chat, {"role": "user", "content": render_user(question)}]
        engine = prefs.get("engine") or self.settings.llm
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
            raise gr.Error(str(exc)) from None
        except Exception:
            log.exception("answering failed")
            yield message, chat, turns, gr.skip(), gr.skip()
            raise gr.Error("Answering failed unexpectedly; the details are in the server log.") from None
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
            The answer as JSON: ``text`` (with [n] markers), ``citations`` (n, source,
            start, end, quote), ``refused``, ``resolved_question``, ``engine``, ``kind``.

        """
        try:
            answer = self.bot.ask(question, list(history or []))
        except BotError as exc:
            raise gr.Error(str(exc)) from None
        except Exception:
            log.exception("answering failed")
            raise gr.Error("Answering failed unexpectedly; the details are in the server log.") from None
        return answer.model_dump(mode="json")

    # -- documents and facts ----------------------------------------------------
    def uploaded_sources(self) -> list[str]:
        return [d.source for d in self.bot.documents() if d.source.startswith(UPLOAD_PREFIX)]

    def examples(self) -> list[dict[str, str]]:
        return [{"text": q} for q in example_questions(self.bot.facts(), self.bot.documents())]

    def refresh(self) -> tuple[Any, ...]:
        """Refresh the documents table, removable uploads, facts table and chat examples."""
        facts = self.bot.facts()
        return (
            doc_rows(self.bot.documents()),
            gr.update(choices=self.uploaded_sources(), value=None),
            fact_rows(facts),
            gr.update(examples=self.examples()),
        )

    def upload(self, files: list[str] | None, progress: gr.Progress | None = None) -> tuple[Any, ...]:
        """Validate, store and index uploaded files; returns status plus refreshed views."""
        progress = progress or gr.Progress()
        lines: list[str] = []
        saved: list[str] = []
        with self.index_lock:
            for f in files or []:
                path = Path(f)
                name = path.name
                try:
                    safe = check_upload(path, name, self.settings)
                    load_document(UPLOAD_PREFIX + safe, path, max_bytes=int(self.settings.upload_max_mb * 1e6))
                except (InputError, DocumentError) as exc:
                    lines.append(f"✗ **{_esc(name)}** was not added: {_esc(str(exc))}")
                    continue
                self.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
                dest = self.settings.uploads_dir / safe
                fd, tmp = tempfile.mkstemp(dir=self.settings.uploads_dir, prefix=".incoming-")
                os.close(fd)
                shutil.copyfile(path, tmp)
                os.replace(tmp, dest)
                saved.append(UPLOAD_PREFIX + safe)
            if saved:
                lines.extend(self._reindex(progress, saved))
        if not lines:
            lines.append("No file received.")
        return ("\n\n".join(lines), None, *self.refresh())

    def remove(self, source: str | None, progress: gr.Progress | None = None) -> tuple[Any, ...]:
        """Delete an uploaded document's file and reindex."""
        progress = progress or gr.Progress()
        if not source:
            raise gr.Error("Pick an uploaded document to remove.")
        with self.index_lock:
            if source not in self.uploaded_sources():
                raise gr.Error("Only uploaded documents can be removed here.")
            root = self.settings.uploads_dir.resolve()
            target = (root / source.removeprefix(UPLOAD_PREFIX)).resolve()
            if target.parent != root:
                raise gr.Error("Only uploaded documents can be removed here.")
            target.unlink(missing_ok=True)
            lines = self._reindex(progress, [])
        return ("\n\n".join([f"Removed **{_esc(source)}**.", *lines]), *self.refresh())

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
            raise gr.Error(f"Indexing failed, nothing was added: {exc}") from None
        lines = []
        skipped = dict(report.skipped)
        for source in saved:
            if source in skipped:
                (self.settings.uploads_dir / source.removeprefix(UPLOAD_PREFIX)).unlink(missing_ok=True)
                lines.append(f"✗ **{_esc(source)}** was skipped by the indexer: {_esc(skipped[source])}")
            else:
                lines.append(f"✓ **{_esc(source)}** indexed; it can be asked about now.")
        lines.extend(f"⚠ {_esc(w)}" for w in warnings if not any(s in w for s in saved))
        lines.append(f"Index: {_esc(report.summary())}")
        return lines


def _example_text(data: gr.SelectData) -> str:
    value = data.value
    return str(value.get("text", "")) if isinstance(value, dict) else str(value)


def _role(message: Any) -> str | None:
    if isinstance(message, dict):
        return message.get("role")
    return getattr(message, "role", None)


def _last_user_index(chat: list[dict[str, Any]]) -> int:
    for i in range(len(chat) - 1, -1, -1):
        if _role(chat[i]) == "user":
            return i
    return 0


def build_app(bot: Bot) -> gr.Blocks:
    """Build the web UI over a bot: Chat, Documents, Facts and Settings tabs, plus the ``/ask`` API.

    Args:
        bot: A shared bot (thread-safe); every session uses it with its own chat and settings.

    Returns:
        The Gradio app (call :func:`launch` to serve it with the safe defaults and the CSS).

    """
    act = _Actions(bot)
    settings = bot.settings
    engines = available_engines(settings)
    private: dict[str, Any] = {"api_visibility": "private"}

    with gr.Blocks(title="Document Q&A", analytics_enabled=False) as app:
        turns = gr.State([])
        prefs = gr.State({"engine": settings.llm if settings.llm in engines else "grounded", "top_k": settings.top_k})
        pending_q = gr.State("")
        gr.Markdown(
            "## Document Q&A\nAnswers come only from the indexed documents; every answer cites the exact sentence "
            "it rests on. Click a **[n]** marker to see the cited span in context."
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        elem_id="chat",
                        height=520,
                        buttons=[],
                        latex_delimiters=[],
                        sanitize_html=True,
                        feedback_options=("Like", "Dislike"),
                        examples=act.examples(),
                        placeholder="Ask a question about the documents, or pick an example.",
                        layout="bubble",
                    )
                    with gr.Row():
                        textbox = gr.Textbox(
                            placeholder="Ask about the documents…",
                            show_label=False,
                            scale=5,
                            max_lines=6,
                            max_length=settings.max_question_chars,
                            elem_id="question",
                            autofocus=True,
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-button")
                    with gr.Row():
                        clear_btn = gr.Button("Clear chat", size="sm", elem_id="clear-button")
                        copy_btn = gr.Button("Copy last answer", size="sm", elem_id="copy-button")
                    copy_text = gr.Textbox(visible="hidden", elem_id="copy-text")
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(render_sources([]), elem_id="sources-panel")
            with gr.Tab("Documents", id="documents"):
                docs_table = gr.Dataframe(
                    headers=DOC_HEADERS,
                    value=doc_rows(bot.documents()),
                    interactive=False,
                    label="Indexed documents",
                    elem_id="docs-table",
                )
                upload = gr.File(
                    label=f"Add documents ({', '.join(settings.upload_types)}; "
                    f"up to {settings.upload_max_mb:g} MB each)",
                    file_count="multiple",
                    file_types=list(settings.upload_types),
                    type="filepath",
                    elem_id="upload",
                )
                upload_status = gr.Markdown(elem_id="upload-status")
                with gr.Row():
                    remove_pick = gr.Dropdown(
                        choices=act.uploaded_sources(), label="Uploaded document", scale=3, elem_id="remove-pick"
                    )
                    remove_btn = gr.Button("Remove from index", variant="stop", scale=1, elem_id="remove-button")
                    refresh_btn = gr.Button("Refresh", scale=1)
            with gr.Tab("Facts", id="facts"):
                with gr.Row():
                    fact_filter = gr.Textbox(label="Filter", placeholder="subject, measure, unit, source…", scale=3)
                    fact_kind = gr.Dropdown(
                        ["all", "count", "money", "percent", "ratio", "date", "period", "other"],
                        value="all",
                        label="Kind",
                        scale=1,
                    )
                facts_table = gr.Dataframe(
                    headers=FACT_HEADERS,
                    value=fact_rows(bot.facts()),
                    interactive=False,
                    wrap=True,
                    label="Numeric facts",
                    elem_id="facts-table",
                )
            with gr.Tab("Settings", id="settings"):
                gr.Markdown("These settings apply to this browser session only.")
                engine = gr.Radio(engines, value=prefs.value["engine"], label="Answer engine")
                top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages retrieved (top-k)")

        outputs = [textbox, chatbot, turns, sources, copy_text]
        ask_kw: dict[str, Any] = {"concurrency_id": "answer", **private}
        textbox.submit(act.respond, [textbox, chatbot, turns, prefs], outputs, **ask_kw)
        send.click(act.respond, [textbox, chatbot, turns, prefs], outputs, **ask_kw)
        chatbot.example_select(_example_text, None, pending_q, **private).then(
            act.respond, [pending_q, chatbot, turns, prefs], outputs, **ask_kw
        )
        chatbot.retry(act.undo, [chatbot, turns], [chatbot, turns, pending_q, sources], **private).then(
            act.respond, [pending_q, chatbot, turns, prefs], outputs, **ask_kw
        )
        chatbot.undo(act.undo, [chatbot, turns], [chatbot, turns, textbox, sources], **private)
        chatbot.clear(act.clear, None, [chatbot, turns, sources, copy_text], **private)
        clear_btn.click(act.clear, None, [chatbot, turns, sources, copy_text], **private)
        copy_btn.click(None, [copy_text], None, js=COPY_JS, **private)
        chatbot.like(act.like, [chatbot, turns], None, **private)

        views = [docs_table, remove_pick, facts_table, chatbot]
        index_kw: dict[str, Any] = {"concurrency_id": "index", "concurrency_limit": 1, **private}
        upload.upload(act.upload, [upload], [upload_status, upload, *views], **index_kw)
        remove_btn.click(act.remove, [remove_pick], [upload_status, *views], **index_kw)
        refresh_btn.click(act.refresh, None, views, **private)
        app.load(act.refresh, None, views, **private)

        fact_filter.change(lambda q, k: fact_rows(bot.facts(), q, k), [fact_filter, fact_kind], facts_table, **private)
        fact_kind.change(lambda q, k: fact_rows(bot.facts(), q, k), [fact_filter, fact_kind], facts_table, **private)
        engine.change(lambda e, p: {**p, "engine": e}, [engine, prefs], prefs, **private)
        top_k.change(lambda k, p: {**p, "top_k": int(k)}, [top_k, prefs], prefs, **private)

        gr.api(act.api_ask, api_name="ask", concurrency_id="answer")
    return app


def launch(
    bot: Bot,
    host: str | None = None,
    port: int | None = None,
    auth: str | None = None,
    share: bool = False,
    concurrency: int = 4,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> gr.Blocks:
    """Serve the UI with safe defaults.

    Args:
        bot: The bot to serve.
        host: Interface to bind (default ``settings.host``, i.e. 127.0.0.1).
        port: Port (default ``settings.port``; 0 picks a free one).
        auth: ``USER:PASS`` (default ``settings.auth``); None means no login.
        share: Create a public gradio.live link (off by default).
        concurrency: Answers computed at the same time (one shared bot).
        prevent_thread_lock: Return instead of blocking (tests, notebooks).
        quiet: Suppress Gradio's start-up messages.

    Returns:
        The running app.

    Raises:
        ConfigError: If ``auth`` is malformed.

    """
    settings = bot.settings
    if auth is None and settings.auth is not None:
        auth = settings.auth.get_secret_value()
    credentials = parse_auth(auth)
    app = build_app(bot)
    app.queue(default_concurrency_limit=concurrency, max_size=256)
    blocked = [str(p.resolve()) for p in (settings.docs_dir, settings.index_dir)]
    app.launch(
        server_name=host or settings.host,
        server_port=port if port is not None else settings.port,
        auth=credentials,
        share=share,
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        show_error=False,
        allowed_paths=[],
        blocked_paths=blocked,
        max_file_size=int(settings.upload_max_mb * 1e6),
        ssr_mode=False,
        mcp_server=False,
        run_history=False,
        enable_monitoring=False,
        footer_links=["api"],
        css=CSS,
        theme=gr.themes.Default(  # system fonts: no requests to font CDNs
            font=("ui-sans-serif", "system-ui", "sans-serif"), font_mono=("ui-monospace", "monospace")
        ),
    )
    return app
