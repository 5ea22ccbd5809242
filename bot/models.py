"""Data records shared by every stage: chunks, numeric facts, citations, answers.

They are pydantic models so that the CLI's ``--json``, the web UI, the
evaluation runner and the Python API all see the same shapes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

FactKind = Literal["count", "money", "percent", "ratio", "date", "period", "other"]
Assertion = Literal["sure", "likely", "abstain"]
"""How an answer is said: ``sure`` stated plainly, ``likely`` hedged with its passage quoted, ``abstain`` not
answered (the closest passage quoted, or "the documents don't say" when there is no evidence)."""


class Chunk(BaseModel):
    """A slice of one source document; ``text == source_text[start:end]``."""

    id: str
    source: str = Field(description="Path of the document relative to its docs folder.")
    chunk: int = Field(description="0-based position of the chunk in its document.")
    start: int
    end: int
    text: str
    doc_hash: str


class Fact(BaseModel):
    """One quantity mentioned in a document, with what it is about and where it stands.

    ``source_text[start:end] == text`` (the number itself, e.g. ``"2.5 billion"``) and
    ``source_text[sentence_start:sentence_end] == sentence``.
    """

    id: str
    source: str
    text: str = Field(description="The number exactly as written.")
    start: int
    end: int
    quantity_text: str = Field(description="Number with its unit as written, e.g. '2.5 billion euros'.")
    value: float | None = Field(None, description="Normalised value; for a range, None (see low/high).")
    low: float | None = None
    high: float | None = None
    kind: FactKind = "other"
    unit: str | None = Field(None, description="Unit or currency as a plain word, e.g. 'yuan', 'vehicles'.")
    currency: str | None = Field(None, description="ISO 4217 code when the unit is money, e.g. 'CNY'.")
    subject: str | None = Field(None, description="Entity whose quantity it is.")
    subject_aliases: list[str] = Field(
        default_factory=list, description="Other names for the subject seen in the sentence."
    )
    object: str | None = Field(None, description="Entity the quantity is in/of, e.g. the company a stake is in.")
    measure: str | None = Field(None, description="What is measured, a lemma: 'deliver', 'stake', 'invest', 'price'.")
    period: str | None = Field(None, description="Stated period, e.g. 'November', 'third quarter'.")
    sentence: str
    sentence_start: int
    sentence_end: int
    paired_with: str | None = Field(None, description="Id of a fact stating the same amount in another unit.")
    role: str | None = Field(
        None,
        description="'from' / 'to' for a change ('from five to seven'); 'upper_bound' / 'lower_bound' for "
        "'sub-200,000', 'more than 5'.",
    )
    approximate: bool = Field(False, description="True when hedged: 'about', 'nearly', 'some', 'billions of'.")

    def display_value(self) -> str:
        """The value with its unit as a short human string (uses the source's wording)."""
        return self.quantity_text


class Citation(BaseModel):
    """A numbered citation: an exact span of a source document."""

    n: int = Field(description="The marker number used in the answer text, [n].")
    source: str
    start: int
    end: int
    quote: str = Field(description="source_text[start:end].")
    chunk_id: str | None = None
    answer_start: int | None = Field(
        None, description="Document offset where the answer's own span starts inside this quote (None: not here)."
    )
    answer_end: int | None = Field(None, description="Document offset where the answer's span ends.")


class ToolCall(BaseModel):
    """One call to a structured tool and what it returned."""

    name: str
    args: dict[str, Any]
    result: Any


DISAGREEMENT = "disagreement"
"""The ``kind`` of an answer that reports documents disagreeing (:mod:`bot.engine.disagree`)."""


class Answer(BaseModel):
    """What :func:`bot.ask` returns, for every shell alike."""

    question: str
    resolved_question: str = Field(description="The question after resolving a follow-up against history.")
    text: str = Field(description="Answer text with [n] citation markers.")
    citations: list[Citation] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    refused: bool = Field(False, description="True when the documents do not answer the question.")
    kind: str = Field("explanation", description="quantity | derived | entity | explanation | invalid | disagreement")
    engine: str = "grounded"
    flags: list[str] = Field(
        default_factory=list, description="Notes, e.g. a generated answer rejected by the numeric guard."
    )
    latency_ms: float = 0.0
    confidence: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Calibrated probability that the claim is right: among answers near p, about p are right. "
        "0 when there is no claim (the documents don't say).",
    )
    assertion: Assertion = Field(
        "sure", description="sure (stated plainly) | likely (hedged, passage quoted) | abstain (not answered)."
    )
    claim: str | None = Field(
        None,
        description="The short answer the engine found, as it would state it when sure ('Dongfeng [1].'). "
        "For a likely answer the text hedges it; for an abstention the text withholds it (kept here for "
        "evaluation and debugging). None when nothing was found.",
    )
    signals: dict[str, float] = Field(
        default_factory=dict, description="The evidence features the confidence was computed from (by name)."
    )
