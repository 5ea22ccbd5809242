"""Arithmetic a question asks for: differences, sums, complements and the time between two events.

Each pattern names its operation and the phrases that describe its operands; the compute stage then
finds, in the evidence, the number (or date) each phrase refers to. Patterns are data here, in order
of precedence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_UNIT = r"(?P<unit>years?|days?|months?|weeks?|hours?|decades?|centuries|minutes?)"
_AUX = r"(?:did|was|were|had|does|do|is|are|has|have|would|could|will)"
_END = r"\s*\??\s*$"

_EXCEPT_WORDS = r"(?:other than|others than|besides|apart from|except)"
"""Words that leave some holders out of a whole ("shareholders other than A and B")."""
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # "How many days passed between A and B?", "How many years were between the time A and when B?"
    (
        "between",
        re.compile(
            rf"^how many {_UNIT}\b.*?\bbetween (?:the time )?(?P<a>.+?) and (?:when |the time )?(?P<b>.+?){_END}", re.I
        ),
    ),
    # "How many years passed from A until B?"
    ("between", re.compile(rf"^how many {_UNIT}\b.*?\bfrom (?P<a>.+?) (?:until|till|to) (?P<b>.+?){_END}", re.I)),
    # "How many years after A did B?", "How many days after A were B?"
    ("after", re.compile(rf"^how many {_UNIT} (?:after|later than|since) (?P<a>.+?) {_AUX} (?P<b>.+?){_END}", re.I)),
    ("before", re.compile(rf"^how many {_UNIT} before (?P<a>.+?) {_AUX} (?P<b>.+?){_END}", re.I)),
    # "How many years did A last?", "How many days did the Burmese have control of X?"
    (
        "span",
        re.compile(
            rf"^how many {_UNIT} (?:did|was|were|had) (?P<a>.+?)"
            rf"(?: last| take place| go on| continue| reign| rule)?{_END}",
            re.I,
        ),
    ),
    # "How many percent of people were not A?"
    (
        "complement_pct",
        re.compile(
            rf"^how many (?:percent|percentage|percents)\b(?: of)?(?P<ctx>.*?)\b(?:not|n't)\b (?P<a>.+?){_END}", re.I
        ),
    ),
    # "How much of X is owned by shareholders other than A and B?", "What share do others than A hold?"
    (
        "complement_pct",
        re.compile(
            rf"^(?:how much|what (?:share|percent(?:age)?|portion|proportion|part|stake))\b(?P<ctx>.*?)\b"
            rf"{_EXCEPT_WORDS}(?: for)? (?P<a>.+?){_END}",
            re.I,
        ),
    ),
    # "How many more A than B?", "How many less A than B?"
    (
        "difference",
        re.compile(rf"^how many (?:more|fewer|less) (?P<a>.+?) (?:than|compared (?:to|with)) (?P<b>.+?){_END}", re.I),
    ),
    # "How many points lower was A compared to B?", "How many percent higher was A than B?"
    (
        "difference",
        re.compile(
            rf"^how many (?:[\w-]+ )*?(?:more|higher|lower|greater|bigger|smaller|larger|fewer|less) (?P<a>.+?) "
            rf"(?:than|compared (?:to|with)|versus|vs\.?) (?P<b>.+?){_END}",
            re.I,
        ),
    ),
    # "How many people survived out of the 900 passengers?"
    ("out_of", re.compile(rf"^how many (?P<a>.+?) out of (?:the |a |an )?(?P<total>[\d,]+) (?P<b>.+?){_END}", re.I)),
    # "How many prisoners did not go on hunger strike?", "In 2009 how many banks were not taken into receivership?"
    (
        "complement",
        re.compile(rf"^(?:.*?\b)?how many (?P<whole>.+?) (?:{_AUX} )?(?:not|n't|never) (?P<a>.+?){_END}", re.I),
    ),
]
_EXCEPT = re.compile(rf"\b{_EXCEPT_WORDS}\b", re.I)
_SPLIT_RE = re.compile(r",\s*(?:and|or)\s+|\s+(?:and|or)\s+|,\s*")


@dataclass
class Operation:
    """An arithmetic question: what to compute and the phrases naming its operands."""

    kind: str  # between | after | before | span | difference | complement | complement_pct | sum | out_of
    a: str
    b: str = ""
    unit: str | None = None  # days, years... for time questions
    parts: list[str] = field(default_factory=list)  # operands of a sum / complement
    total: float | None = None  # the whole given in the question ("out of the 900")
    context: str = ""  # words every operand shares ("of people", "in Italy")

    @property
    def temporal(self) -> bool:
        """Whether the answer is a time between dates."""
        return self.kind in ("between", "after", "before", "span")


def split_parts(text: str) -> list[str]:
    """``"Korean, Tagalog, and Arabic"`` -> ``["Korean", "Tagalog", "Arabic"]``."""
    return [p.strip(" ,") for p in _SPLIT_RE.split(text) if p.strip(" ,")]


_SUM_WORDS = re.compile(r"\b(?:combined|altogether|together|in total|in all)\b", re.I)
_AUX_RE = re.compile(rf"\b{_AUX}\b", re.I)


def _sum(text: str) -> Operation | None:
    """A sum the question asks for, with its parts.

    "How many A and B were there in 1801 combined?", "How many percent are A, B and C combined?",
    "How many people were involved, those arrested and killed?".
    """
    m = re.match(r"^how many (.+?)\s*\??\s*$", text, re.I)
    if not m:
        return None
    body = _SUM_WORDS.sub("", m.group(1)).strip(" ,")
    aux = _AUX_RE.search(body)
    head, tail = (body[: aux.start()], body[aux.end() :]) if aux else (body, "")
    if re.search(r"\b(?:not|n't|never)\b", body, re.I):
        return None  # "How many were not A or B ... combined?" is a complement
    for phrase, context in ((head, tail), (tail, head), (tail.split(",")[-1], head)):
        parts = split_parts(phrase)
        if len(parts) >= 2 and all(len(p.split()) <= 4 for p in parts):
            return Operation("sum", phrase.strip(), parts=parts, context=context.strip())
    return None


def parse_operation(question: str) -> Operation | None:
    """The arithmetic a question asks for, or None.

    Example:
        >>> parse_operation("How many more swine than cattle are there?").kind
        'difference'

    """
    text = question.strip()
    if _SUM_WORDS.search(text) or re.search(r",\s*those\b", text, re.I):
        found = _sum(text)
        if found is not None:
            return found
    for kind, rx in PATTERNS:
        m = rx.search(text)
        if not m:
            continue
        groups = m.groupdict()
        unit = (groups.get("unit") or "").lower().rstrip("s").replace("centurie", "century") or None
        a, b = (groups.get("a") or "").strip(), (groups.get("b") or "").strip()
        if kind == "out_of":
            total = float(groups["total"].replace(",", ""))
            return Operation(kind, a, b, total=total, context=b)
        if kind == "complement_pct":
            ctx = (groups.get("ctx") or "").strip()
            if _EXCEPT.search(text):  # "of X is owned by shareholders other than A": X is the whole, A the parts
                ctx = " ".join(w for w in ctx.split() if w[:1].isupper()) or ctx
            return Operation(kind, a, parts=split_parts(a), context=ctx)
        if kind == "complement":
            return Operation(kind, a, context=(groups.get("whole") or "").strip(), parts=split_parts(a))
        if kind == "difference":
            if re.search(r"\bcombined\b", b, re.I):
                return Operation(kind, a, b, parts=split_parts(re.sub(r"\s*\bcombined\b", "", b)))
            return Operation(kind, a, b)
        return Operation(kind, a, b, unit=unit)
    return None
