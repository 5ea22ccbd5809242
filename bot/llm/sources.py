"""Retrieved chunks as the tool-calling engines show them: numbered, delimited, defused, cited back."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from bot.guard import injection_spans
from bot.llm.common import BotView, History, history_turns
from bot.models import Citation, Fact
from bot.prompts import render_prompt

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.tools import BaseTool

REMOVED = "[removed: text that addressed the assistant]"
TAG_RE = re.compile(r"<(\s*/?\s*(?:source|sources|question|system|tool_call|think|evidence)\b)", re.IGNORECASE)
FACT_ID_RE = re.compile(r"\bf-[0-9a-f]{6,40}\b")


@dataclass
class Source:
    """One retrieved chunk as shown to the model."""

    n: int
    doc: Document
    safe_text: str
    injected: list[tuple[int, int]] = field(default_factory=list)

    @property
    def source(self) -> str:
        """The document's name."""
        return str(self.doc.metadata.get("source", ""))


def escape_tags(text: str) -> str:
    """Defuse text that would open or close our delimiters (``</source>``, ``<question>``)."""
    return TAG_RE.sub(lambda m: "‹" + m.group(1), text)


def remove_injections(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Replace the sentences of a text that address the model with a placeholder; return them too."""
    spans = injection_spans(text)
    safe, last = [], 0
    for s, e in spans:
        safe += [text[last:s], REMOVED]
        last = e
    safe.append(text[last:])
    return "".join(safe), spans


def sources(docs: Sequence[Document]) -> list[Source]:
    """Number retrieved chunks from 1, without the sentences that address the model."""
    out = []
    for n, doc in enumerate(docs, 1):
        safe, spans = remove_injections(doc.page_content)
        out.append(Source(n, doc, escape_tags(safe), spans))
    return out


def user_prompt(question: str, shown: Sequence[Source]) -> str:
    """The user message of the tool-calling engines: the delimited sources and the question."""
    blocks = "\n\n".join(
        render_prompt("source", n=s.n, document=escape_tags(s.source).replace('"', "'"), text=s.safe_text)
        for s in shown
    )
    return render_prompt("answer", sources=blocks, question=escape_tags(question))


def history_messages(history: History) -> list[BaseMessage]:
    """Earlier turns as LangChain messages."""
    return [HumanMessage(text) if role == "user" else AIMessage(text) for role, text in history_turns(history)]


def default_tools(bot: BotView) -> list[BaseTool]:
    """The numeric tools over the bot's index (their lookups are bounded by the evidence they retrieve)."""
    from bot.tools import make_tools

    return list(make_tools(bot.engine_index))


def citation_for(src: Source, answer: str) -> Citation:
    """Cite the sentence of the chunk that best matches the answer sentences carrying its marker."""
    from bot.guard import extract_numbers
    from bot.hybrid import tokenize
    from bot.split import sentence_spans

    claims = " ".join(s for s in re.split(r"(?<=[.!?])\s+", answer) if f"[{src.n}]" in s) or answer
    claim_words = set(tokenize(claims))
    claim_numbers = {round(v, 6) for m in extract_numbers(claims) for v in m.values}
    text = src.doc.page_content
    best: tuple[float, int, int] | None = None
    for s, e in sentence_spans(text) or [(0, len(text))]:
        if any(s < ie and is_ < e for is_, ie in src.injected):
            continue
        sent = text[s:e]
        numbers = {round(v, 6) for m in extract_numbers(sent, references=False) for v in m.values}
        score = 3.0 * len(numbers & claim_numbers) + len(set(tokenize(sent)) & claim_words)
        if best is None or score > best[0]:
            best = (score, s, e)
    s, e = (best[1], best[2]) if best else (0, len(text))
    base = int(src.doc.metadata.get("start", 0))
    return Citation(
        n=src.n,
        source=src.source,
        start=base + s,
        end=base + e,
        quote=text[s:e],
        chunk_id=src.doc.metadata.get("chunk_id"),
    )


def facts_of(bot: BotView, results: Sequence[Any]) -> list[Fact]:
    """Collect the index facts that trusted tool results refer to (by fact id, or by where they stand)."""
    ids: list[str] = []
    places: list[tuple[str, int]] = []
    for r in results:
        for fid in FACT_ID_RE.findall(json.dumps(r, default=str)):
            if fid not in ids:
                ids.append(fid)
        for match in (r.get("matches") or []) if isinstance(r, dict) else []:
            found = match.get("fact", match) if isinstance(match, dict) else {}
            if isinstance(found.get("source"), str) and isinstance(found.get("start"), int):
                places.append((found["source"], found["start"]))
    if not ids and not places:
        return []
    facts = bot.facts()
    by_id = {f.id: f for f in facts}
    by_place = {(f.source, f.start): f for f in facts}
    out = [by_id[i] for i in ids if i in by_id] + [by_place[p] for p in places if p in by_place]
    return list({f.id: f for f in out}.values())
