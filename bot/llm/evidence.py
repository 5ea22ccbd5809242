"""The one seam between the grounded engine and the local reader: an :class:`Outcome`.

The reader needs more than the grounded answer: the best evidence sentences (numbered, the
answer's own citations first), plain-language findings ("the documents give no price for X") and
the kind of answer asked for. :func:`outcome_of` builds that shape from a grounded
:class:`~bot.models.Answer` — its citations, then the best sentences of the top retrieved chunks —
and passes a ready ``Outcome`` (from ``bot.engine.run``) through unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from bot.engine.grounded import Outcome
from bot.guard import looks_like_injection
from bot.llm.common import BotView
from bot.models import Answer, Citation

__all__ = ["NUMERIC_TYPES", "Outcome", "answer_type_of", "outcome_of"]

EVIDENCE_SENTENCES = 6
"""Evidence sentences given to the reader (the grounded answer's citations count)."""
MAX_EMBEDDED = 12
"""Candidate sentences compared by meaning (the rest are ranked out by shared words first)."""
EVIDENCE_CHARS = 1600
"""Upper bound on the evidence text (about 400 tokens), so the prompt reads in a second or two."""

NUMERIC_TYPES = frozenset(
    {"number", "count", "amount", "money", "percent", "duration", "age", "distance", "size", "frequency", "speed"}
)
"""Answer types that ask for a figure."""


_TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"^(?:what|which)\s+(?:percent(?:age)?|share|proportion|fraction|stake)\b", "percent"),
    (
        r"^how\s+(?:many|much)\b|^(?:what|which)\s+(?:is|was|were|are)\s+the\s+(?:number|amount|total|price|cost|"
        r"value|valuation|size|population)\b",
        "number",
    ),
    (r"^how\s+(?:long|old|far|big|large|tall|high|often|fast)\b", "number"),
    (r"^when\b|^(?:what|which|in\s+what|in\s+which)\s+(?:year|date|day|month|century|decade)\b", "date"),
    (r"^(?:who|whom|whose)\b", "person"),
    (r"^where\b", "place"),
    (r"^why\b", "reason"),
    (r"^(?:is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b", "yesno"),
    (r"^(?:list|name)\b", "list"),
    (r"^(?:summari[sz]e|what\s+is\s+the\s+(?:document|article|text)\s+about)\b", "summary"),
)


def answer_type_of(question: str) -> str:
    """The kind of answer a question asks for, from its opening words (``number``, ``date``, ``person`` ...)."""
    q = re.sub(r"^(?:and|so|but|then|also|ok(?:ay)?|well)\b[\s,]*", "", question.strip().lower())
    for pattern, kind in _TYPE_RULES:
        if re.search(pattern, q):
            return kind
    return "other"


def outcome_of(bot: BotView, grounded: Answer | Any, question: str, top_k: int) -> Outcome:
    """The reader's view of a grounded run.

    Args:
        bot: The bot (retriever and embeddings, for extra evidence sentences).
        grounded: The grounded answer, or an ``Outcome`` of the grounded engine (returned as is).
        question: The cleaned question.
        top_k: Chunks the extra evidence is drawn from.

    Returns:
        The outcome: the answer, evidence numbered from 1 (the answer's citations first, so its
        ``[n]`` markers keep their meaning), findings and the answer type.

    """
    if not isinstance(grounded, Answer):  # already an Outcome of the grounded engine
        return grounded
    asked = grounded.resolved_question or question
    evidence = [c.model_copy() for c in sorted(grounded.citations, key=lambda c: c.n)]
    if len(evidence) < EVIDENCE_SENTENCES:
        for extra in _best_sentences(bot, asked, top_k, EVIDENCE_SENTENCES - len(evidence), evidence):
            evidence.append(extra.model_copy(update={"n": len(evidence) + 1}))
    evidence = _within_budget(evidence, keep={c.n for c in grounded.citations})
    nothing = grounded.refused and not grounded.claim  # an abstention withholds a claim; a refusal found none
    findings = [_first_paragraph(grounded.text)] if nothing and grounded.text else []
    return Outcome(grounded, evidence, findings, answer_type_of(asked))


def _first_paragraph(text: str) -> str:
    return re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0].strip()


def _within_budget(evidence: list[Citation], keep: set[int]) -> list[Citation]:
    out: list[Citation] = []
    used = 0
    for c in evidence:
        if c.n in keep or used + len(c.quote) <= EVIDENCE_CHARS:
            out.append(c)
            used += len(c.quote)
    # Numbers must stay contiguous (1..n): only trailing extras are ever dropped, so renumbering is a no-op
    # for the answer's own citations.
    return [c.model_copy(update={"n": i}) for i, c in enumerate(out, 1)]


_LEADS_BACK = re.compile(r"^(?:it|its|he|his|she|her|they|their|this|that|these|those|the\s+company|both)\b", re.I)


def _best_sentences(bot: BotView, query: str, top_k: int, n: int, taken: list[Citation]) -> list[Citation]:
    """The sentences of the top chunks closest to the query (by meaning and shared words), best first."""
    from bot.hybrid import tokenize
    from bot.split import sentence_spans

    try:
        docs = bot.retriever.search(query, top_k)
    except Exception:  # extra evidence is a bonus; the answer's own citations still stand
        return []
    chosen = [(c.source, c.start, c.end) for c in taken]
    cands: list[Citation] = []
    for doc in docs:
        text, meta = doc.page_content, doc.metadata
        base, source = int(meta.get("start", 0)), str(meta.get("source", ""))
        spans = sentence_spans(text) or [(0, len(text))]
        for i, (s, e) in enumerate(spans):
            sentence = text[s:e].strip()
            if len(sentence) < 12 or looks_like_injection(sentence):
                continue
            if _LEADS_BACK.match(sentence) and i > 0 and not looks_like_injection(text[spans[i - 1][0] : e]):
                s = spans[i - 1][0]  # the sentence before says who "it" is
            cands.append(
                Citation(
                    n=0, source=source, start=base + s, end=base + e, quote=text[s:e], chunk_id=meta.get("chunk_id")
                )
            )
    if not cands:
        return []
    q_words = set(tokenize(query))
    lexical = [len(q_words & set(tokenize(c.quote))) / (len(q_words) or 1) for c in cands]
    # Meaning decides among the lexically plausible few (embedding every sentence of every chunk costs seconds).
    pool = sorted(range(len(cands)), key=lambda i: -lexical[i])[:MAX_EMBEDDED]
    scores = {i: 0.5 * lexical[i] for i in pool}
    embed = getattr(bot, "embeddings", None)
    if embed is not None:
        try:
            qv = embed.embed_query(query)
            for i, v in zip(pool, embed.embed_documents([cands[i].quote for i in pool]), strict=True):
                scores[i] += sum(a * b for a, b in zip(qv, v, strict=False))
        except Exception:  # shared words alone still rank
            pass
    out: list[Citation] = []
    for i in sorted(pool, key=lambda i: -scores[i]):
        c = cands[i]
        if any(src == c.source and c.start < b and a < c.end for src, a, b in chosen):
            continue  # overlaps a sentence already given
        chosen.append((c.source, c.start, c.end))
        out.append(c)
        if len(out) == n:
            break
    return out
