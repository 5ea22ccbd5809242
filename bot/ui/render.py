"""HTML for the chat: questions, answers with citation links, refusals, errors and the sources panel.

All document, question and answer text is HTML-escaped here; nothing typed by a user or found in a
document is ever inserted as markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from bot.models import Answer

CITE_RE = re.compile(r"\[(\d{1,3})\]")
SOURCES_MAX_PX = 620  # height cap of the sources panel; it scrolls beyond

CSS = f"""
.answer {{ line-height: 1.5; }}
.answer.pending {{ opacity: 0.75; font-style: italic; }}
.answer.refused {{ border-left: 4px solid #d97706; background: rgba(217, 119, 6, 0.10);
                  padding: 6px 10px; border-radius: 4px; }}
.answer.refused .refused-tag {{ font-weight: 600; color: #b45309; display: block; margin-bottom: 2px; }}
.answer.error {{ border-left: 4px solid #dc2626; padding: 6px 10px; }}
a.cite-link {{ text-decoration: none; font-weight: 600; padding: 0 1px; }}
.answer-meta {{ font-size: 0.8em; opacity: 0.65; margin-top: 4px; }}
#sources-panel .sources-scroll {{ max-height: {SOURCES_MAX_PX}px; overflow-y: auto; overscroll-behavior: contain;
                                 padding-right: 4px; }}
#sources-panel .turn {{ margin-bottom: 14px; }}
#sources-panel .turn h4 {{ margin: 4px 0; font-size: 0.95em; }}
#sources-panel ol {{ padding-left: 0; list-style: none; margin: 0; }}
#sources-panel li.cite-item {{ margin: 6px 0; padding: 6px 8px; border: 1px solid rgba(127, 127, 127, 0.3);
                               border-radius: 6px; }}
#sources-panel li.cite-item:target {{ outline: 2px solid #2563eb; }}
#sources-panel .cite-head {{ font-size: 0.85em; margin-bottom: 4px; }}
#sources-panel .cite-context {{ font-size: 0.9em; margin: 0; white-space: pre-wrap; }}
#sources-panel mark {{ background: #fde68a; color: #111; padding: 0 1px; }}
.sources-empty {{ opacity: 0.7; font-style: italic; }}
.panel-title h3 {{ margin: 0 0 4px 0; }}
#facts-table .facts-scroll {{ max-height: 640px; overflow: auto; }}
#facts-table table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
#facts-table th {{ position: sticky; top: 0; background: var(--background-fill-secondary); text-align: left;
                   padding: 4px 6px; }}
#facts-table td {{ padding: 3px 6px; border-top: 1px solid rgba(127, 127, 127, 0.25); vertical-align: top; }}
#facts-table tr.fact-detail td {{ border-top: none; padding-top: 0; font-size: 0.88em; opacity: 0.85; }}
#facts-table .blank {{ opacity: 0.55; }}
#facts-table .role {{ font-weight: 600; }}
#facts-table mark {{ background: #fde68a; color: #111; padding: 0 1px; }}
"""


def esc(text: str) -> str:
    """HTML-escape text (quotes too)."""
    return html.escape(text, quote=True)


def _br(escaped: str) -> str:
    return escaped.replace("\r\n", "\n").replace("\n", "<br>")


def answer_text(text: str, quotes: Sequence[str] = ()) -> str:
    r"""The answer text without a repetition of its quoted sources (they live in the sources panel).

    Drops a ``Source: [1] “…”`` paragraph and turns ``“<a cited quote>” [n]`` into ``[n]``; the
    citation markers stay, so every claim still points at its source.

    Args:
        text: The answer text as the engine wrote it.
        quotes: The cited quotes of the answer.

    Example:
        >>> answer_text("7 boats [1].\n\nSource: [1] “Acme sold 7 boats.”", ["Acme sold 7 boats."])
        '7 boats [1].'

    """
    paragraphs = re.split(r"\n\s*\n", text)
    kept = [p for p in paragraphs if not re.match(r"\s*Sources?:\s*(\[\d{1,3}\]\s*“[^”]*”[\s,;.]*)+$", p)]
    out = "\n\n".join(kept) if kept else text
    for quote in sorted({q for q in quotes if q}, key=len, reverse=True):
        out = re.sub(r"[“\"]" + re.escape(quote) + r"[”\"]\s*(\[\d{1,3}\])", r"\1", out)
    return out.strip()


def answer_body(answer: Answer | dict[str, Any]) -> str:
    """:func:`answer_text` of an ``Answer`` (or its JSON form)."""
    if isinstance(answer, Answer):
        return answer_text(answer.text, [c.quote for c in answer.citations])
    return answer_text(answer["text"], [c["quote"] for c in answer.get("citations", [])])


def render_user(question: str) -> str:
    """Render a user message as escaped HTML (markup typed by the user shows as text)."""
    return f'<div class="question">{_br(esc(question))}</div>'


def render_pending(text: str, engine: str | None = None) -> str:
    """Render an answer that is still streaming in (before its first word: what the engine is doing)."""
    waiting = {
        "local": "Searching the documents… the local model is thinking",
        "llamacpp": "Searching the documents… the local model is thinking",
        "openai": "Searching the documents… the model is thinking",
    }.get(engine or "", "Searching the documents…")
    body = _br(esc(text)) if text else waiting
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
        title = esc(f"{c.source}: {c.quote}")
        return f'<a class="cite-link" href="#cite-{turn}-{n}" title="{title}">[{n}]</a>'

    body = CITE_RE.sub(link, _br(esc(answer_body(answer))))
    if answer.refused:
        return (
            f'<div class="answer refused"><span class="refused-tag">⚠ Not answered by the documents</span>{body}</div>'
        )
    meta = answer.engine + (f" · {answer.latency_ms / 1000:.1f} s" if answer.latency_ms >= 50 else "")
    if answer.flags:
        meta += " · " + "; ".join(answer.flags)
    return f'<div class="answer">{body}<div class="answer-meta">{esc(meta)}</div></div>'


def render_error(message: str) -> str:
    """Render an error shown in place of an answer."""
    return f'<div class="answer error">⚠ {esc(message)}</div>'


def render_sources(turns: Sequence[dict[str, Any]]) -> str:
    """Render the sources panel: every cited span with its surrounding text, newest answer first.

    The content sits in a ``.sources-scroll`` box capped at :data:`SOURCES_MAX_PX` that scrolls.
    """
    if not turns:
        return (
            '<div class="sources-scroll"><div class="sources-empty">Sources of each answer appear here: '
            "click a [n] marker to jump to it.</div></div>"
        )
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
                f'<div class="cite-head"><b>[{cit["n"]}]</b> <code>{esc(cit["source"])}</code> '
                f'<span class="cite-offsets">chars {cit["start"]}–{cit["end"]}</span></div>'
                f'<p class="cite-context">{lead}{esc(before)}<mark>{esc(span)}</mark>{esc(after)}{tail}</p></li>'
            )
        status = " (not answered)" if ans["refused"] else ""
        body = f"<ol>{''.join(items)}</ol>" if items else '<div class="sources-empty">No sources cited.</div>'
        parts.append(
            f'<section class="turn" id="turn-{t_no}"><h4>Answer {t_no}{status}: {esc(turn["question"])}</h4>'
            f"{body}</section>"
        )
    return f'<div class="sources-scroll">{"".join(parts)}</div>'


def plain_answer(answer: dict[str, Any]) -> str:
    """Format an answer as plain text with its sources listed under it (for the copy button)."""
    lines = [answer_body(answer)]
    if answer["citations"]:
        lines.append("")
        lines.append("Sources:")
        lines.extend(f"[{c['n']}] {c['source']}: “{c['quote']}”" for c in answer["citations"])
    return "\n".join(lines)


def history_messages(turns: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Earlier turns as the chat messages the ``/ask`` API takes: each question, then its answer's text.

    The answer text is the one shown (markers kept, quoted sources left out), not HTML; the answer's
    first citation (document and offsets, never its quoted words) tells the engine where it stood.
    """
    out: list[dict[str, Any]] = []
    for t in turns:
        out.append({"role": "user", "content": t["question"]})
        cites = [{k: c[k] for k in ("source", "start", "end")} for c in (t["answer"].get("citations") or [])[:1]]
        out.append({"role": "assistant", "content": answer_body(t["answer"]), "citations": cites})
    return out
