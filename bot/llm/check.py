"""Checking a reader's reply against its evidence: markers, numbers and their roles, findings, subject and words.

A reply passes when

* every ``[n]`` marker points at an evidence sentence, and it cites at least one;
* every number in it is backed by a cited sentence or a grounded tool result
  (:func:`bot.guard.numbers_supported`: formats and roundings normalised);
* every number keeps the role its source gives it (:mod:`bot.llm.roles`: a percentage stays a percentage,
  money stays money, a figure given for a named party is about that party in its source);
* it gives no figure where the grounded engine found the documents give none for the asked
  subject (its findings);
* it does not repeat the system prompt;
* the sentences it cites are about the question's subject: they (or the sentence right before one)
  name the question's names (``off the subject``, :func:`bot.llm.content.off_subject`);
* its names and content words occur in the sentences its markers cite - names exactly or by a name the
  evidence gives for them, other words exactly, by lemma or close in meaning (``unsupported words``,
  :func:`bot.llm.content.unsupported_words`); the question's own words, function words and a yes/no
  are exempt.

The checks are deterministic; a failed one names what was wrong, and the engine then concludes
without the reply (:func:`bot.llm.verdict.conclude`). A reply that says the documents do not say is a
refusal, not a failure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.guard import NumberMention, extract_numbers, iter_values, leaks_prompt, numbers_supported
from bot.llm.common import is_refusal, resolve_markers, visible
from bot.llm.content import cited_sentences, off_subject, unsupported_words
from bot.llm.evidence import NUMERIC_TYPES, Outcome
from bot.llm.roles import asked_kind, number_kind, role_problem

__all__ = ["Verdict", "asked_kind", "check_reply", "number_kind", "trusted_results"]

_NO_FIGURE = re.compile(
    r"\b(?:give[s]?\s+no|state[s]?\s+no|no\s+(?:figure|number|price|amount|date|value|count|total|percentage|share)|"
    r"do(?:es)?\s+not\s+(?:give|state)\s+(?:a|an|any|the)\b)",
    re.I,
)
"""A finding that the documents give no figure of the asked kind (a reply must not give one then)."""
_ARITHMETIC = re.compile(
    r"\bhow\s+many\s+(?:more|fewer|less)\b|\b(?:difference|combined|altogether|in\s+all|in\s+total|sum|"
    r"total|between|after|before|later|earlier|longer|shorter|not|both|together)\b",
    re.I,
)
"""Questions whose figure may be one step of arithmetic over the evidence (difference, sum, complement)."""


@dataclass
class Verdict:
    """The result of checking a reply."""

    ok: bool
    text: str = ""
    cited: list[int] = field(default_factory=list)
    refused: bool = False
    reason: str = ""
    """Short name of the failed check (shown in ``Answer.engine``), empty when it passed."""
    note: str = ""
    """What was wrong, in a sentence (``Answer.flags``)."""
    computed: list[tuple[str, str]] = field(default_factory=list)
    """``(expression, number as written)`` for each number the check derived in one step from the evidence."""


def _fail(reason: str, note: str) -> Verdict:
    return Verdict(ok=False, reason=reason, note=note)


_NOT_FIGURES = frozenset(
    {"start", "end", "sentence_start", "sentence_end", "confidence", "score", "chunk", "n", "id", "sentence", "nearby",
     "source", "query", "chunk_id", "other_rates", "expression", "normalized_expression", "error", "message"}
)  # fmt: skip


def _figures(value: Any) -> Any:
    """The parts of a tool result that state a figure (offsets, scores, ids and quoted sentences dropped)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    if isinstance(value, dict):
        return {k: _figures(v) for k, v in value.items() if k not in _NOT_FIGURES}
    if isinstance(value, list | tuple):
        return [_figures(v) for v in value]
    return value


def trusted_results(outcome: Outcome) -> list[Any]:
    """The figures of the grounded engine's successful tool results (they may back a reply's numbers)."""
    from bot.llm.toolcalls import evidence_part, result_ok

    return [_figures(evidence_part(t.name, t.result)) for t in outcome.answer.tool_calls if result_ok(t.result)]


def _tool_values(results: Sequence[Any]) -> list[NumberMention]:
    out: list[NumberMention] = []
    for item in iter_values(results):
        if isinstance(item, str):
            out.extend(extract_numbers(item, references=False, small_words=True))
        else:
            out.append(NumberMention(text=f"{item:g}", start=0, readings=((item, 0.0),)))
    return out


def _finding_blocks_figures(outcome: Outcome) -> str | None:
    for finding in outcome.findings:
        if _NO_FIGURE.search(finding):
            return finding
    return None


def _one_step(claim: NumberMention, numbers: list[NumberMention], question: str) -> str | None:
    """An expression of one step of arithmetic over two evidence numbers that gives the claimed number.

    Only for questions that ask for a difference, a sum or a complement, and only exact results:
    "how many more A than B" answered ``213`` is accepted when the evidence has 886 and 673.
    """
    if not _ARITHMETIC.search(question):
        return None
    values = list(dict.fromkeys(m.values[0] for m in numbers if m.values))[:40]
    candidates: list[tuple[str, float]] = [(f"100 - {_num(a)}", 100 - a) for a in values if 0 < a < 100]
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            candidates += [(f"{_num(max(a, b))} - {_num(min(a, b))}", abs(a - b)), (f"{_num(a)} + {_num(b)}", a + b)]
    for expression, value in candidates:
        if any(abs(v - value) <= 1e-9 * max(1.0, abs(value)) for v in claim.values):
            return expression
    return None


def _add_marker(text: str, n: int) -> str:
    """Put ``[n]`` after the reply's last marker (or at its end, before the final stop)."""
    last = list(re.finditer(r"\[\d+\]", text))
    if last:
        i = last[-1].end()
        return f"{text[:i]}[{n}]{text[i:]}"
    body = text.rstrip()
    stop = "." if body.endswith(".") else ""
    return f"{body.removesuffix('.')} [{n}]{stop}"


def _num(x: float) -> str:
    return f"{x:,.0f}" if x == int(x) else f"{x:,}"


def check_reply(
    reply: str, outcome: Outcome, question: str, system_prompt: str = "", index: Any | None = None
) -> Verdict:
    """Check a reader's reply.

    Args:
        reply: The raw model text.
        outcome: The grounded run the reply was written from (evidence, findings, tool results).
        question: The question as asked (after resolving, when known).
        system_prompt: The secret prompt the reply must not repeat.
        index: The engine index, to read the sentence before a cited one and to compare words by meaning;
            None takes the index of the grounded run (``outcome.work``), and without one only exact and
            lemma matches count and only the evidence gives the sentence before.

    Returns:
        The verdict: ``ok`` with the cleaned text and the cited evidence numbers, a refusal, or
        the failed check with a note.

    """
    text = re.sub(r"^\s*(?:answer|reply)\s*:\s*", "", visible(reply), flags=re.I).strip()
    if not text:
        return _fail("empty answer", "The local model returned no answer.")
    if system_prompt and leaks_prompt(text, system_prompt):
        return _fail("prompt leak", "The generated answer repeated the system prompt; it was withheld.")
    if is_refusal(text):
        return Verdict(ok=True, text=text, refused=True)
    by_n = {c.n: c for c in outcome.evidence}
    text, cited, dangling = resolve_markers(text, set(by_n))
    if dangling:
        return _fail(
            "marker",
            f"The generated answer cites [{dangling[0]}], which points at no evidence.",
        )
    if not cited:
        return _fail("no citations", "The generated answer cited no evidence.")
    claims = extract_numbers(text)
    if claims and (finding := _finding_blocks_figures(outcome)):
        return _fail(
            "finding",
            f"The generated answer gives {claims[0].text}, but the documents give no such figure ({finding}).",
        )
    trusted = trusted_results(outcome)
    quotes = [by_n[n].quote for n in cited]
    unsupported = numbers_supported(text, quotes, trusted)
    if unsupported:  # a number from evidence the reply did not cite: cite the sentence that states it
        for c in outcome.evidence:
            if c.n not in cited and len(numbers_supported(text, [*quotes, c.quote], trusted)) < len(unsupported):
                cited.append(c.n)
                quotes.append(c.quote)
                text = _add_marker(text, c.n)
                unsupported = numbers_supported(text, quotes, trusted)
            if not unsupported:
                break
    computed: list[tuple[str, str]] = []
    if unsupported:
        evidence_numbers = [m for q in quotes for m in extract_numbers(q, references=False)]
        for claim in [c for c in claims if c.text in unsupported]:
            if (expression := _one_step(claim, evidence_numbers, question)) is not None:
                computed.append((expression, claim.text))
        unsupported = [u for u in unsupported if u not in {c for _, c in computed}]
    if unsupported:
        return _fail(
            "numeric guard",
            f"Numeric guard: the generated answer stated {', '.join(unsupported)}, which no cited evidence "
            "or tool result supports.",
        )
    derived = {c for _, c in computed}
    role = role_problem(
        text,
        [c for c in claims if c.text not in derived],
        [by_n[n] for n in cited],
        trusted,
        question,
        outcome.answer_type,
        _tool_values(trusted),
    )
    if role:
        return _fail("role", f"Role check: {role}.")
    # What the grounded engine found, whatever its tier (hedged or withheld); None when it found nothing.
    found = outcome.answer.claim or (None if outcome.answer.refused else outcome.answer.text)
    if (polarity := _yes_no(text)) and (grounded := _yes_no(found or "")) and polarity != grounded:
        return _fail("yes/no", f"The generated answer says {polarity!r} where the grounded engine found {grounded!r}.")
    if found is None and _coverage(question, quotes) < MIN_COVERAGE:
        return _fail(
            "off the question",
            "The grounded engine found no answer, and the evidence the generated answer cites does not "
            "address the question.",
        )
    if outcome.answer_type in NUMERIC_TYPES and not claims and found is not None:
        return _fail("no figure", "The generated answer gives no figure for a question that asks for one.")
    if index is None and outcome.work is not None:
        index = outcome.work.index
    if (problem := _content_problem(text, cited, outcome, question, trusted, index)) is not None:
        return _fail(*problem)
    return Verdict(ok=True, text=text, cited=cited, computed=computed)


def _content_problem(
    text: str, cited: list[int], outcome: Outcome, question: str, trusted: list[Any], index: Any | None
) -> tuple[str, str] | None:
    """Whether the cited sentences are about the question's subject and state the reply's names and words."""
    sentences = cited_sentences(cited, outcome.evidence, index)
    if (name := off_subject(question, list(sentences.values()))) is not None:
        marks = "".join(f"[{n}]" for n in cited)
        return "off the subject", f"The generated answer cites {marks}, which does not name {name}."
    tool_words = [v for v in iter_values(trusted) if isinstance(v, str)]
    quotes = [c.quote for c in outcome.evidence]
    if words := unsupported_words(text, sentences, question, tool_words, quotes, index):
        return (
            "unsupported words",
            f"The generated answer says {', '.join(words)}, which the sentence it cites does not state.",
        )
    return None


MIN_COVERAGE = 0.5
"""Share of the question's content words the cited evidence must contain when the grounded engine found no answer."""
_QUESTION_WORD_LIST = (
    "how many much what which who whom whose when where why mention mentioned name named reason kind type "
    "thing happen happened call called say said tell told"
)
_QUESTION_WORDS = frozenset(_QUESTION_WORD_LIST.split())


def _coverage(question: str, quotes: list[str]) -> float:
    from bot.hybrid import stem, tokenize

    asked = set(tokenize(question)) - {stem(w) for w in _QUESTION_WORDS}
    if not asked:
        return 1.0
    return len(asked & set(tokenize(" ".join(quotes)))) / len(asked)


def _yes_no(text: str) -> str | None:
    m = re.match(r"^\W*(yes|no)\b", text, re.I)
    return m.group(1).lower() if m else None
