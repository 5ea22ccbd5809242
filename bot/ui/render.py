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
TIER_BADGES = {
    "sure": "Sure",
    "likely": "Likely — a guess, check the passage",
    "abstain": "Not sure — not answered",
}
"""The badge of each tier in the chat (an abstention without a claim reads "Not answered by the documents")."""
"""The tier in plain text (the copy text; the CLI says it the same way)."""
_EVIDENCE_RE = re.compile(r"(\[\d{1,3}\]):?\s*“[^”]*”")

CSS = f"""
.answer {{ line-height: 1.5; }}
.answer.pending {{ opacity: 0.75; font-style: italic; }}
.answer.refused {{ border-left: 4px solid #d97706; background: rgba(217, 119, 6, 0.10);
                  padding: 6px 10px; border-radius: 4px; }}
.answer.refused .refused-tag {{ font-weight: 600; color: #b45309; display: block; margin-bottom: 2px; }}
.answer.likely {{ border-left: 4px solid #2563eb; background: rgba(37, 99, 235, 0.07);
                 padding: 6px 10px; border-radius: 4px; }}
.tier-badge {{ display: inline-block; font-size: 0.78em; font-weight: 600; padding: 0 7px; border-radius: 9px;
               margin-bottom: 3px; }}
.tier-badge.tier-sure {{ background: rgba(22, 163, 74, 0.15); color: #15803d; }}
.tier-badge.tier-likely {{ background: rgba(37, 99, 235, 0.15); color: #1d4ed8; }}
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
#sources-panel li.cite-repeat {{ opacity: 0.8; }}
#sources-panel li.cite-repeat .cite-head {{ margin-bottom: 0; }}
#sources-panel .cite-context {{ font-size: 0.9em; margin: 0; white-space: pre-wrap; }}
#sources-panel mark {{ background: #fde68a; color: #111; padding: 0 1px; }}
#sources-panel mark.answer-span {{ background: #f59e0b; font-weight: 600; border-radius: 2px; }}
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


def _data(answer: Answer | dict[str, Any]) -> dict[str, Any]:
    return answer.model_dump(mode="json", exclude={"facts", "tool_calls"}) if isinstance(answer, Answer) else answer


def shows_evidence(answer: Answer | dict[str, Any]) -> bool:
    """True when the answer's words quote their passage on purpose: a hedged guess or an abstention.

    ``Probably X [1] — the passage: “…”.``, ``I can't tell for sure … The closest passage [1]: “…”.`` and
    ``The documents do not say. The closest passage [1]: “…”.`` keep their quotes in the chat, so the
    reader sees the evidence without clicking.
    """
    return _data(answer).get("assertion") in ("likely", "abstain")


def answer_body(answer: Answer | dict[str, Any]) -> str:
    """:func:`answer_text` of an ``Answer`` (or its JSON form); a hedged or abstaining answer keeps its quotes."""
    a = _data(answer)
    if shows_evidence(a):
        return answer_text(a["text"])
    return answer_text(a["text"], [c["quote"] for c in a.get("citations", [])])


def assessed(answer: Answer | dict[str, Any]) -> bool:
    """False for an answer no verdict was given (a generative engine's own: ``sure`` at confidence 0)."""
    a = _data(answer)
    return not (a.get("engine") != "grounded" and a.get("assertion", "sure") == "sure" and not a.get("confidence"))


def tier_line(answer: Answer | dict[str, Any]) -> str:
    """The tier and confidence in plain text (:func:`bot.verdict.tiers.tier_line`; "" when not assessed)."""
    from bot.verdict.tiers import tier_line as line

    a = _data(answer)
    return line(a) if assessed(a) else ""


def tier_badge(answer: Answer) -> str:
    """The tier of an answer as a small badge with its confidence beside it (class ``tier-<tier>``).

    An answer that is not answered (refused, or abstaining) is marked by the refusal box's own tag.
    """
    pct = f"{answer.confidence:.0%}"
    if answer.refused:
        if answer.claim:
            label = f"⚠ {TIER_BADGES['abstain']} · {pct}"
            tip = f"Confidence {pct}: too unsure to answer; the closest passage is quoted."
        else:
            label, tip = "⚠ Not answered by the documents", "Nothing in the documents answers this question."
        return f'<span class="refused-tag tier-abstain" title="{esc(tip)}">{esc(label)}</span>'
    if not assessed(answer):
        return ""
    level = answer.assertion if answer.assertion in ("sure", "likely") else "sure"
    tip = {
        "sure": f"Confidence {pct}: the estimated chance that this answer is right.",
        "likely": f"Confidence {pct}: a guess; check the quoted passage it rests on.",
    }[level]
    badge = f'<span class="tier-badge tier-{level}" title="{esc(tip)}">{esc(f"{TIER_BADGES[level]} · {pct}")}</span>'
    return f'<div class="answer-tier">{badge}</div>'


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
    badge = tier_badge(answer)
    meta = answer.engine + (f" · {answer.latency_ms / 1000:.1f} s" if answer.latency_ms >= 50 else "")
    if answer.flags:
        meta += " · " + "; ".join(answer.flags)
    meta_line = f'<div class="answer-meta">{esc(meta)}</div>'
    if answer.refused:  # a refusal carries the same "engine · time" line as an answer
        return f'<div class="answer refused">{badge}{body}{meta_line}</div>'
    kind = " likely" if answer.assertion == "likely" else ""
    return f'<div class="answer{kind}">{badge}{body}{meta_line}</div>'


def _quoted(span: str, cit: dict[str, Any]) -> str:
    """The cited span, escaped, with the answer's own span in it marked ``<mark class="answer-span">``."""
    a, b = cit.get("answer_start"), cit.get("answer_end")
    if a is None or b is None:
        return esc(span)
    i, j = a - cit["start"], b - cit["start"]
    if not 0 <= i < j <= len(span):
        return esc(span)
    return f'{esc(span[:i])}<mark class="answer-span">{esc(span[i:j])}</mark>{esc(span[j:])}'


def render_sources(turns: Sequence[dict[str, Any]]) -> str:
    """Render the sources panel: every cited span with its surrounding text, newest answer first.

    The cited span is marked (``<mark>``), and inside it the answer's own span (``<mark class="answer-span">``)
    when the citation holds it and the answer was given (not for an abstention). A passage is quoted once:
    an older answer citing it again gets a link to the newer quote (its anchor stays, so its [n] still
    jumps). The content sits in a ``.sources-scroll`` box capped at :data:`SOURCES_MAX_PX` that scrolls.
    """
    if not turns:
        return (
            '<div class="sources-scroll"><div class="sources-empty">Sources of each answer appear here: '
            "click a [n] marker to jump to it.</div></div>"
        )
    parts: list[str] = []
    shown: dict[tuple[str, int, int], tuple[int, int]] = {}  # passage -> (answer, [n]) of the newer quote
    for t_no in range(len(turns), 0, -1):
        turn = turns[t_no - 1]
        ans = turn["answer"]
        items = []
        for cit, ctx in zip(ans["citations"], turn["contexts"], strict=True):
            where = (cit["source"], cit["start"], cit["end"])
            if where in shown:  # quoted for a newer answer already: point there instead of quoting it again
                items.append(_repeated(t_no, cit, *shown[where]))
                continue
            shown[where] = (t_no, cit["n"])
            before, span, after = ctx if any(ctx) else ("", cit["quote"], "")
            quoted = esc(span) if ans["refused"] else _quoted(span, cit)  # a withheld claim stays withheld
            before = before.split(None, 1)[-1] if " " in before.strip() and not before[:1].isspace() else before
            after = after.rsplit(None, 1)[0] if " " in after.strip() and not after[-1:].isspace() else after
            lead = "…" if before else ""
            tail = "…" if after else ""
            items.append(
                f'<li class="cite-item" id="cite-{t_no}-{cit["n"]}">'
                f'<div class="cite-head"><b>[{cit["n"]}]</b> <code>{esc(cit["source"])}</code> '
                f'<span class="cite-offsets">chars {cit["start"]}–{cit["end"]}</span></div>'
                f'<p class="cite-context">{lead}{esc(before)}<mark>{quoted}</mark>{esc(after)}{tail}</p></li>'
            )
        status = " (not answered)" if ans["refused"] else " (a guess)" if ans.get("assertion") == "likely" else ""
        body = f"<ol>{''.join(items)}</ol>" if items else '<div class="sources-empty">No sources cited.</div>'
        parts.append(
            f'<section class="turn" id="turn-{t_no}"><h4>Answer {t_no}{status}: {esc(turn["question"])}</h4>'
            f"{body}</section>"
        )
    return f'<div class="sources-scroll">{"".join(parts)}</div>'


def _repeated(t_no: int, cit: dict[str, Any], turn: int, n: int) -> str:
    """A citation whose passage answer ``turn`` already quotes as ``[n]``: a link to it, not the quote again."""
    return (
        f'<li class="cite-item cite-repeat" id="cite-{t_no}-{cit["n"]}"><div class="cite-head"><b>[{cit["n"]}]</b> '
        f'<code>{esc(cit["source"])}</code> <span class="cite-offsets">chars {cit["start"]}–{cit["end"]}</span>: '
        f'the same passage as <a href="#cite-{turn}-{n}">Answer {turn} [{n}]</a></div></li>'
    )


def plain_answer(answer: dict[str, Any]) -> str:
    """Format an answer as plain text, its tier and confidence, then its sources (for the copy button)."""
    lines = [answer_body(answer)]
    if tier_line(answer):
        lines.append(tier_line(answer))
    if answer["citations"]:
        lines.append("")
        lines.append("Sources:")
        lines.extend(f"[{c['n']}] {c['source']}: “{c['quote']}”" for c in answer["citations"])
    return "\n".join(lines)


def history_messages(turns: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Earlier turns as the chat messages the ``/ask`` API takes: each question, then its answer's text.

    The answer text is the one shown (markers kept, quoted sources left out), not HTML; the answer's
    first citation (document and offsets, never its quoted words) tells the engine where it stood. A
    hedged guess is given as its claim (the same words a sure answer has), an abstention without the
    passage it quotes.
    """
    out: list[dict[str, Any]] = []
    for t in turns:
        out.append({"role": "user", "content": t["question"]})
        ans = t["answer"]
        cites = [{k: c[k] for k in ("source", "start", "end")} for c in (ans.get("citations") or [])[:1]]
        out.append({"role": "assistant", "content": said(ans), "citations": cites})
    return out


def said(answer: Answer | dict[str, Any]) -> str:
    """What an answer said, without any quoted passage (for the history of a follow-up)."""
    a = _data(answer)
    if a.get("assertion") == "likely" and a.get("claim"):
        return answer_body({**a, "text": a["claim"], "assertion": "sure"})
    if shows_evidence(a):
        return _EVIDENCE_RE.sub(r"\1", answer_body(a))
    return answer_body(a)
