"""Checking a reader's reply against its evidence: markers, numbers, the roles of numbers, findings.

A reply passes when

* every ``[n]`` marker points at an evidence sentence, and it cites at least one;
* every number in it is backed by a cited sentence or a grounded tool result
  (:func:`bot.guard.numbers_supported`: formats and roundings normalised);
* every number keeps the role its source gives it: a percentage stays a percentage, an amount of
  money stays money, and a question about a price or a share is answered by a number that *is*
  a price or a share in the sources (a stake is not a price);
* it gives no figure where the grounded engine found the documents give none for the asked
  subject (its findings);
* it does not repeat the system prompt.

The checks are deterministic; a failed one names what was wrong, and the engine then concludes
without the reply (:func:`bot.llm.verdict.conclude`). A reply that says the documents do not say is a
refusal, not a failure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.guard import NumberMention, backs, extract_numbers, iter_values, leaks_prompt, numbers_supported
from bot.llm.common import is_refusal, resolve_markers, visible
from bot.llm.evidence import NUMERIC_TYPES, Outcome
from bot.models import Citation

__all__ = ["Verdict", "asked_kind", "check_reply", "number_kind", "trusted_results"]

_CURRENCY_WORDS = (
    r"yuan|renminbi|rmb|cny|usd|eur|gbp|jpy|sek|nok|dkk|chf|dollars?|euros?|pounds?|yen|francs?|kronor|krona|"
    r"kroner|krone|won|rupees?|rubles?|roubles?|pesos?|reais|real"
)
_MONEY_AFTER = re.compile(
    rf"^\s*(?:(?:thousand|million|billion|trillion)\s+)?(?:u\.?s\.?\s+)?(?:{_CURRENCY_WORDS})\b", re.I
)
_MONEY_BEFORE = re.compile(rf"(?:[$€£¥]|\b(?:us\$|{_CURRENCY_WORDS}))\s*$", re.I)
_PERCENT = re.compile(r"%|per\s?cent|percentage\s+points?|pct", re.I)
_PERCENT_AFTER = re.compile(r"^\s*(?:%|per\s?cent\b|percentage\b|pct\b)", re.I)
_YEAR = re.compile(r"^(?:1[0-9]{3}|20[0-9]{2})$")

_ASK_PERCENT = re.compile(r"\b(?:percent(?:age)?|per\s+cent|share|stake|proportion|fraction|ownership)\b", re.I)
_ASKS_FOR_SHARE = re.compile(
    r"^\W*(?:and\s+)?(?:what|which|how\s+(?:big|large))\s+(?:a\s+)?(?:percent(?:age)?|share|stake|proportion|fraction)\b",
    re.I,
)
_ASK_MONEY = re.compile(
    rf"\b(?:price[sd]?|cost[s]?|pa(?:y|id|ys)|spen[dt]|invest(?:ed|s|ment)?|worth|valu(?:e|ed|ation)|revenue|"
    rf"salary|fee[s]?|fund(?:ing|ed)?|raised?|sold\s+for|how\s+much\s+money|{_CURRENCY_WORDS})\b",
    re.I,
)
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
_HOW_LONG = re.compile(r"\bhow\s+(?:many\s+(?:years|decades|centuries|months)|long|old)\b", re.I)
_PERIOD_RE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December|Q[1-4])\b"
    r"|\b(?i:first|second|third|fourth)\s+(?i:quarter)\b"
)
"""Months and quarters: a figure for one is not a figure for another."""


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


def number_kind(text: str, mention: NumberMention) -> str:
    """The role of a number from its wording: ``percent``, ``money``, ``year`` or ``plain``."""
    end = mention.start + len(mention.text)
    after, before = text[end : end + 30], text[max(0, mention.start - 8) : mention.start]
    if _PERCENT.search(mention.text) or _PERCENT_AFTER.match(after):
        return "percent"
    if _MONEY_BEFORE.search(before) or _MONEY_AFTER.match(after):
        return "money"
    if _YEAR.match(mention.text):
        return "year"
    return "plain"


def asked_kind(question: str, answer_type: str) -> str | None:
    """The role the asked figure must have in the sources (``percent``, ``money``), if the question says."""
    if answer_type not in NUMERIC_TYPES:
        return None
    if answer_type == "percent" or _ASKS_FOR_SHARE.search(question):
        return "percent"
    if answer_type == "money" or _ASK_MONEY.search(question):
        return "money"  # "how much did X pay for its stake" asks for money, not for the stake
    if _ASK_PERCENT.search(question):
        return "percent"
    return None


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


def check_reply(reply: str, outcome: Outcome, question: str, system_prompt: str = "") -> Verdict:
    """Check a reader's reply.

    Args:
        reply: The raw model text.
        outcome: The grounded run the reply was written from (evidence, findings, tool results).
        question: The question as asked (after resolving, when known).
        system_prompt: The secret prompt the reply must not repeat.

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
    role = _role_problem(
        text,
        [c for c in claims if c.text not in derived],
        [by_n[n] for n in cited],
        trusted,
        question,
        outcome.answer_type,
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
    return Verdict(ok=True, text=text, cited=cited, computed=computed)


_NAME_RE = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'’.-]*)*")
_NOT_NAME_WORDS = (
    "how what which who whom whose when where why is are was were do does did can could has have had will would "
    "should the a an and or in on of for to by at from as it its they their this that these those there "
    # periods are when a figure holds, not whom it is about
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday q1 q2 q3 q4"
)
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())


def _names(text: str) -> list[str]:
    out = []
    for m in _NAME_RE.finditer(text):
        words = [re.sub(r"['’]s?$", "", w) for w in m.group(0).split() if w.lower() not in _NOT_NAMES]
        if words:
            out.append(" ".join(words))
    return out


def _asked_names(question: str, reply: str) -> list[str]:
    """Names of the question that the reply repeats (what its figures are claimed to be about)."""
    low = reply.lower()
    return [n for n in dict.fromkeys(_names(question)) if n.lower() in low]


def _about(quote: str, mention: NumberMention, names: list[str]) -> bool:
    """Whether a number of the evidence is about one of the names.

    That is: a name comes before it in its sentence, or right after it in the same clause ("a 45-yard run by X").
    """
    start = max(quote.rfind(p, 0, mention.start) for p in (". ", "? ", "! ", "\n")) + 1
    end = mention.start + len(mention.text)
    stop = min([i for i in (quote.find(p, end) for p in (",", ";", ". ", " and ")) if i >= 0] or [len(quote)])
    before, after = quote[start : mention.start].lower(), quote[end:stop].lower()
    return any(_mentions(part, name) for name in names for part in (before, after))


def _mentions(text: str, name: str) -> bool:
    name = name.lower()
    if re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text):
        return True
    return any(re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", text) for w in name.split() if len(w) > 3)


MIN_COVERAGE = 0.5
"""Share of the question's content words the cited evidence must contain when the grounded engine found no answer."""
_QUESTION_WORD_LIST = (
    "how many much what which who whom whose when where why mention mentioned name named reason kind type "
    "thing happen happened call called say said tell told"
)
_QUESTION_WORDS = frozenset(_QUESTION_WORD_LIST.split())


def _coverage(question: str, quotes: list[str]) -> float:
    from bot.retrieve import stem, tokenize

    asked = set(tokenize(question)) - {stem(w) for w in _QUESTION_WORDS}
    if not asked:
        return 1.0
    return len(asked & set(tokenize(" ".join(quotes)))) / len(asked)


def _yes_no(text: str) -> str | None:
    m = re.match(r"^\W*(yes|no)\b", text, re.I)
    return m.group(1).lower() if m else None


def _role_problem(
    text: str,
    claims: list[NumberMention],
    cited: list[Citation],
    trusted: list[Any],
    question: str,
    answer_type: str,
) -> str | None:
    """Why a number of the reply does not keep the role its source gives it (None when all do)."""
    sources = [(c.quote, m) for c in cited for m in extract_numbers(c.quote, references=False, small_words=True)]
    tool_numbers = _tool_values(trusted)
    roles: list[set[str]] = []
    for claim in claims:
        claimed = number_kind(text, claim)
        found = {number_kind(quote, m) for quote, m in sources if backs(m, claim)}
        by_tool = any(backs(m, claim) for m in tool_numbers)
        roles.append(found | ({"tool"} if by_tool else set()))
        if by_tool or not found:
            continue
        if claimed in ("percent", "money") and claimed not in found:
            return f"{claim.text} is a {claimed} figure in the answer but not in the cited evidence"
        if claimed == "plain" and found <= {"percent"}:
            return f"{claim.text} is a percentage in the cited evidence, not a count or amount"
    if answer_type in NUMERIC_TYPES and (names := _asked_names(question, text)):
        for claim in claims:
            if number_kind(text, claim) == "year":
                continue  # a year says when, not whose
            backing = [(quote, m) for quote, m in sources if backs(m, claim)]
            if backing and not any(_about(quote, m, names) for quote, m in backing):
                return f"{claim.text} is not a figure about {names[0]} in the cited evidence"
    if claims and _HOW_LONG.search(question) and all(number_kind(text, c) == "year" for c in claims):
        return f"{claims[0].text} is a year, and the question asks for a length of time"
    asked_periods = {p.lower() for p in _PERIOD_RE.findall(question)}
    if asked_periods:
        for claim in claims:
            backing = [quote for quote, m in sources if backs(m, claim)]
            stated = [{p.lower() for p in _PERIOD_RE.findall(quote)} for quote in backing]
            if backing and all(st and not (st & asked_periods) for st in stated):
                return (
                    f"{claim.text} is a figure for {', '.join(sorted(stated[0]))} in the cited evidence, not for "
                    + (", ".join(sorted(asked_periods)))
                )
    want = asked_kind(question, answer_type)
    if want and claims and not any(want in r or "tool" in r for r in roles):
        got = ", ".join(c.text for c in claims)
        return f"the question asks for a {want} figure, and {got} is not one in the cited evidence"
    return None
