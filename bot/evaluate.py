"""Evaluation runner: ask a question set, score the answers, write a report.

A question set is a JSONL, CSV or YAML file (see :func:`load_questions`). Each
question is asked through anything with ``.ask(question, history, engine=...)``
(normally a :class:`bot.service.Bot`), and every answer is checked:

* ``refusal`` - the answer refuses exactly when the question is unanswerable
  (``answerable: false``); ``answerable: null`` (or ``"any"``) accepts both.
* ``expected`` - normalised match against a reference answer (:func:`text_match`):
  every number of the reference appears in the answer within tolerance
  (:func:`numbers_agree`), a currency the reference names is named too, and,
  for a reference without numbers, at least half of its content words appear.
* ``expected_any`` / ``expected_all`` / ``expected_none`` - case-insensitive
  regular expressions the answer text must / must all / must not match.
* ``sources`` - some citation is one of ``expected_sources`` (file names).
* ``cited`` - an answer that does not refuse has citations and every ``[n]``
  marker refers to one.
* ``numbers_supported`` - every number in the answer text appears in a cited
  quote, the question or its history, the answer's facts or tool calls, or
  follows from two of those in one arithmetic step (:func:`unsupported_numbers`).

A question passes when all its checks pass (and the engine did not raise); the
overall score is the fraction of questions that pass. :func:`summarize` adds
refusal precision/recall, retrieval hit rate and MRR against
``expected_sources``, citation support and latency percentiles;
:func:`write_outputs` writes ``answers.jsonl``, ``summary.json``, ``report.md``
and two PNG charts.

Example:
    >>> from bot.evaluate import numbers_agree
    >>> numbers_agree("12345", "about 12.3 thousand")
    True

"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bot.errors import InputError
from bot.guard import iter_values
from bot.retrieve import stem

ProgressFn = Callable[[int, int, str], None]
"""Called as ``progress(done, total, description)`` after each question."""

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}
REL_TOL = 0.01
"""Relative tolerance when comparing numbers (on top of the rounding the writer used)."""
DERIVED_REL_TOL = 0.005
"""Tighter relative tolerance for numbers derived in one arithmetic step."""
TEXT_RECALL = 0.5
"""Fraction of a reference's content words an answer must contain (references without numbers)."""

_LIST_KEYS = ("expected_any", "expected_all", "expected_none", "expected_sources")
_CORRECTNESS_CHECKS = ("refusal", "expected", "expected_any", "expected_all", "expected_none")


class Asker(Protocol):
    """What the runner needs of a bot."""

    def ask(self, question: str, history: Sequence[Any] = (), engine: str | None = None) -> Any:
        """Answer a question (returns a :class:`bot.models.Answer`-like object)."""
        ...


# ---------------------------------------------------------------------------
# Question sets
# ---------------------------------------------------------------------------


@dataclass
class Question:
    """One question of a set and what a good answer looks like."""

    id: str
    question: str
    history: list[Any] = field(default_factory=list)
    expected: str | None = None
    expected_any: list[str] = field(default_factory=list)
    expected_all: list[str] = field(default_factory=list)
    expected_none: list[str] = field(default_factory=list)
    expected_sources: list[str] = field(default_factory=list)
    answerable: bool | None = True
    kind: str = "other"
    line: int = 0

    def public(self) -> dict[str, Any]:
        """Return the question as written (for ``answers.jsonl``)."""
        out = asdict(self)
        out.pop("line")
        return out


def load_questions(path: str | Path) -> list[Question]:
    """Read a question set.

    Formats, chosen by the file extension:

    * ``.jsonl`` / ``.ndjson``: one JSON object per line (blank lines and lines starting with ``#`` are skipped).
    * ``.csv``: a header row naming the keys; a list cell is a JSON list (``["a", "b"]``) or one value
      (``expected_sources`` may also be separated by ``;``); ``answerable`` is true/false/any.
    * ``.yaml`` / ``.yml``: a list of mappings, or a mapping with a ``questions`` list.

    Keys: ``id``, ``question`` (required), ``history``, ``expected``, ``expected_any``, ``expected_all``,
    ``expected_none``, ``expected_sources``, ``answerable``, ``kind``; other keys are ignored. A missing ``id``
    becomes ``line-N``.

    Args:
        path: The question set file.

    Returns:
        The questions, in file order.

    Raises:
        InputError: If the file is missing, empty, of an unknown format, or a question is malformed; the
            message names the file and line.

    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{path}: unknown question-set format {path.suffix or '(no extension)'!r}; "
            f"use one of {', '.join(sorted(FORMATS))}."
        )
    if not path.is_file():
        raise InputError(f"{path}: no such question-set file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the question set ({exc.strerror}).") from None
    if not text.strip():
        raise InputError(f"{path}: the question set is empty.")
    raw = {"jsonl": _read_jsonl, "csv": _read_csv, "yaml": _read_yaml}[fmt](path, text)
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for line, record in raw:
        q = _question_from(path, line, record)
        if q.id in seen:
            raise InputError(f"{path}, line {line}: duplicate id {q.id!r} (first on line {seen[q.id]}).")
        seen[q.id] = line
        questions.append(q)
    if not questions:
        raise InputError(f"{path}: the question set has no questions.")
    return questions


def _read_jsonl(path: Path, text: str) -> list[tuple[int, Any]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            out.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}, line {n}: bad JSON ({exc.msg} at column {exc.colno}).") from None
    return out


def _read_csv(path: Path, text: str) -> list[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [f.strip() for f in (reader.fieldnames or [])]
    if "question" not in fields:
        raise InputError(f"{path}, line 1: the CSV header has no 'question' column (found: {', '.join(fields)}).")
    reader.fieldnames = fields
    out: list[tuple[int, Any]] = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise InputError(f"{path}, line {line}: more cells than header columns.")
            cells = {k: v.strip() for k, v in row.items() if isinstance(v, str) and v.strip()}
            if not cells:
                continue
            record: dict[str, Any] = {}
            for key, value in cells.items():
                if key in (*_LIST_KEYS, "history"):
                    record[key] = _csv_list(path, line, key, value)
                elif key == "answerable":
                    record[key] = _csv_bool(path, line, value)
                else:
                    record[key] = value
            out.append((line, record))
    except csv.Error as exc:
        raise InputError(f"{path}, line {reader.line_num}: bad CSV ({exc}).") from None
    return out


def _csv_list(path: Path, line: int, key: str, value: str) -> Any:
    if value.startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}, line {line}: {key} is not a JSON list ({exc.msg}).") from None
    if key == "expected_sources":
        return [v.strip() for v in value.split(";") if v.strip()]
    return [value]


def _csv_bool(path: Path, line: int, value: str) -> bool | None:
    low = value.lower()
    if low in ("true", "yes", "1", "y"):
        return True
    if low in ("false", "no", "0", "n"):
        return False
    if low in ("any", "either", "null", "none"):
        return None
    raise InputError(f"{path}, line {line}: answerable must be true, false or any, not {value!r}.")


def _read_yaml(path: Path, text: str) -> list[tuple[int, Any]]:
    import yaml

    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{path}{where}: bad YAML ({problem}).") from None
    if isinstance(data, dict) and "questions" in data:
        assert isinstance(node, yaml.MappingNode)
        node = next(v for k, v in node.value if k.value == "questions")
        data = data["questions"]
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise InputError(f"{path}, line 1: expected a list of questions (or a mapping with a 'questions' list).")
    return [(item_node.start_mark.line + 1, item) for item_node, item in zip(node.value, data, strict=True)]


def _question_from(path: Path, line: int, record: Any) -> Question:
    where = f"{path}, line {line}"
    if not isinstance(record, Mapping):
        raise InputError(f"{where}: a question must be an object with a 'question' key, not {type(record).__name__}.")
    question = record.get("question")
    if question is None:
        raise InputError(f"{where}: missing 'question'.")
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{where}: 'question' must be non-empty text.")
    qid = record.get("id")
    if qid is None or (isinstance(qid, str) and not qid.strip()):
        qid = f"line-{line}"
    if not isinstance(qid, str | int) or isinstance(qid, bool):
        raise InputError(f"{where}: 'id' must be text or a number.")
    lists: dict[str, list[str]] = {}
    for key in _LIST_KEYS:
        value = record.get(key)
        if value is None:
            value = []
        elif isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise InputError(f"{where}: {key!r} must be a string or a list of non-empty strings.")
        lists[key] = value
    for key in ("expected_any", "expected_all", "expected_none"):
        for pattern in lists[key]:
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise InputError(f"{where}: bad regular expression in {key} {pattern!r} ({exc}).") from None
    history = record.get("history") or []
    if isinstance(history, str):
        history = [history]
    if not isinstance(history, list) or not all(_is_turn(t) for t in history):
        raise InputError(
            f"{where}: 'history' must be a list of earlier questions (text) or {{role, content}} messages."
        )
    expected = record.get("expected")
    if expected is not None and not isinstance(expected, str | int | float):
        raise InputError(f"{where}: 'expected' must be text.")
    answerable = record.get("answerable", True)
    if isinstance(answerable, str):
        answerable = _csv_bool(path, line, answerable)
    if answerable is not None and not isinstance(answerable, bool):
        raise InputError(f"{where}: 'answerable' must be true, false or null.")
    kind = record.get("kind") or ("unanswerable" if answerable is False else "other")
    return Question(
        id=str(qid),
        question=question,
        history=list(history),
        expected=None if expected is None or str(expected).strip() == "" else str(expected),
        answerable=answerable,
        kind=str(kind),
        line=line,
        **lists,
    )


def _is_turn(turn: Any) -> bool:
    if isinstance(turn, str):
        return True
    return isinstance(turn, Mapping) and "content" in turn and isinstance(turn.get("role", "user"), str)


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------

_SCALES = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "mln": 1e6,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12,
}  # fmt: skip
_WORD_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}  # fmt: skip
_NUM_RE = re.compile(
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])"
    r"(?:(?P<attached>k|m|mn|mln|b|bn|tn)\b|\s*-?\s*(?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s*-?\s*(?:%|per\s?cent\b|percentage points?\b))?",
    re.IGNORECASE,
)
_WORD_NUM_RE = re.compile(
    r"\b(?P<word>" + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True)) + r")\b"
    r"(?:\s*-?\s*(?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s*-?\s*(?:%|per\s?cent\b))?",
    re.IGNORECASE,
)
_MARKER_RE = re.compile(r"\[\d+(?:\s*[,;–-]\s*\d+)*\]")


@dataclass(frozen=True)
class Number:
    """A number found in text, with the rounding its writer implied."""

    value: float
    text: str
    allowance: float = 0.0
    """Half a unit of the last significant digit when the number has 2+ significant digits, else 0."""
    percent: bool = False


def _allowance(digits: str, scale: float) -> float:
    digits = digits.replace(",", "")
    if "." in digits:
        whole, frac = digits.split(".")
        sig = len((whole + frac).lstrip("0"))
        unit = 10.0 ** -len(frac)
    else:
        stripped = digits.lstrip("0")
        trailing = len(stripped) - len(stripped.rstrip("0"))
        sig = len(stripped) - trailing
        unit = 10.0**trailing
    return 0.5 * unit * scale if sig >= 2 else 0.0


def parse_numbers(text: str, words: bool = False) -> list[Number]:
    """Find the numbers in a text.

    Understands thousands separators (``12,345``), decimals, scale words and suffixes (``12.3 thousand``,
    ``2.5 billion``, ``1.6bn``), percents (``10 percent``, ``10%``; the value stays 10) and ranges
    (``200,000–300,000`` gives both ends). Citation markers like ``[1]`` are ignored. Digits inside words
    (``M9``, ``Q3``) are not numbers.

    Args:
        text: Any text.
        words: Also read number words (``five``, ``twenty``, ``two million``).

    Returns:
        The numbers in order of appearance.

    """
    text = _MARKER_RE.sub(" ", text)
    found: list[tuple[int, Number]] = []
    for m in _NUM_RE.finditer(text):
        scale_word = (m.group("attached") or m.group("scale") or "").lower()
        scale = _SCALES.get(scale_word, 1.0)
        digits = m.group("num")
        value = float(digits.replace(",", "")) * scale
        found.append((m.start(), Number(value, m.group(0).strip(), _allowance(digits, scale), bool(m.group("pct")))))
    if words:
        for m in _WORD_NUM_RE.finditer(text):
            scale = _SCALES.get((m.group("scale") or "").lower(), 1.0)
            value = _WORD_NUMBERS[m.group("word").lower()] * scale
            found.append((m.start(), Number(value, m.group(0).strip(), 0.0, bool(m.group("pct")))))
    return [n for _, n in sorted(found, key=lambda p: p[0])]


def close(a: Number | float, b: Number | float, rel_tol: float = REL_TOL) -> bool:
    """Whether two numbers agree: within ``rel_tol`` or within the rounding either writer implied."""
    av, bv = (x.value if isinstance(x, Number) else float(x) for x in (a, b))
    allow = max(
        rel_tol * max(abs(av), abs(bv)),
        a.allowance if isinstance(a, Number) else 0.0,
        b.allowance if isinstance(b, Number) else 0.0,
    )
    return abs(av - bv) <= allow + 1e-12


def numbers_agree(expected: str | float, answer: str) -> bool:
    """Whether every number of ``expected`` appears in ``answer`` (within tolerance).

    Example:
        >>> numbers_agree("12,345", "Acme delivered about 12 thousand vehicles")
        True
        >>> numbers_agree(12345, "Acme delivered 1 million vehicles")
        False

    """
    if isinstance(expected, int | float):
        wanted = [Number(float(expected), str(expected))]
    else:
        wanted = parse_numbers(expected, words=True)
    got = parse_numbers(answer, words=True)
    return bool(wanted) and all(any(close(w, g) for g in got) for w in wanted)


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

_STOP_TEXT = (
    "a an the and or but if of to in on at by for with from as is are was were be been being it its this that these "
    "those there their they them he she his her we our you your i me my do does did done how what which who whom whose "
    "when where why will would can could should may might must has have had not no so than then too very into over "
    "about also any all more most much many some such only own same just both each per while yet via up out around "
    "approximately roughly nearly almost according says said say document documents article text"
)
_STOP = frozenset(_STOP_TEXT.split())
_CURRENCIES = {
    "cny": r"yuan|rmb|cny|renminbi|¥",
    "usd": r"u\.?s\.? dollars?|dollars?|usd|us\$|\$",
    "eur": r"euros?|eur|€",
    "gbp": r"pounds? sterling|pounds?|gbp|£",
    "jpy": r"yen|jpy",
    "krw": r"won|krw|₩",
    "sek": r"kronor|krona|sek",
    "inr": r"rupees?|inr|₹",
}
_CURRENCY_RE = {code: re.compile(rf"(?<![a-z])(?:{pat})(?![a-z])", re.IGNORECASE) for code, pat in _CURRENCIES.items()}
_CURRENCY_WORDS = frozenset(
    {"yuan", "rmb", "cny", "dollar", "usd", "euro", "eur", "kronor", "krona", "sek", "yen", "won", "rupee"}
)
"""Stemmed currency words, left out of term coverage (an answer may convert)."""
_TOKEN_RE = re.compile(r"[a-z][a-z'’]*[a-z]|[a-z]", re.IGNORECASE)


def _stem(word: str) -> str:
    return stem(word.lower().replace("’", "'").removesuffix("'s"))


def content_words(text: str) -> set[str]:
    """Stemmed, lower-cased words of a text without stopwords, number words or scale words."""
    out = set()
    for m in _TOKEN_RE.finditer(_MARKER_RE.sub(" ", text)):
        word = m.group(0).lower()
        if len(word) < 2 or word in _STOP or word in _WORD_NUMBERS or word in _SCALES or word == "percent":
            continue
        out.add(_stem(word))
    return out


def currencies(text: str) -> set[str]:
    """ISO codes of the currencies a text names (``yuan`` -> ``cny``, ``U.S. dollars`` -> ``usd``)."""
    return {code for code, rx in _CURRENCY_RE.items() if rx.search(text)}


def text_match(expected: str, answer: str) -> bool:
    """Normalised match of an answer against a reference answer.

    With numbers in the reference: every one of them appears in the answer within tolerance, and every
    currency the reference names is named by the answer. Without numbers: at least half
    (:data:`TEXT_RECALL`) of the reference's content words appear in the answer (after stemming).

    Example:
        >>> text_match("12,345 vehicles", "Acme delivered 12345 cars in November [1].")
        True
        >>> text_match("Zeta", "Acme's partner on the project is Zeta [1].")
        True

    """
    if parse_numbers(expected, words=True):
        return numbers_agree(expected, answer) and currencies(expected) <= currencies(answer)
    wanted = content_words(expected)
    if not wanted:
        return expected.strip().lower() in answer.lower()
    got = content_words(answer)
    return len(wanted & got) >= math.ceil(TEXT_RECALL * len(wanted))


def regex_checks(q: Question, text: str) -> dict[str, bool]:
    """Judge the ``expected_any`` / ``expected_all`` / ``expected_none`` patterns a question has."""
    text = _MARKER_RE.sub("", text)
    out: dict[str, bool] = {}
    if q.expected_any:
        out["expected_any"] = any(re.search(p, text, re.IGNORECASE) for p in q.expected_any)
    if q.expected_all:
        out["expected_all"] = all(re.search(p, text, re.IGNORECASE) for p in q.expected_all)
    if q.expected_none:
        out["expected_none"] = not any(re.search(p, text, re.IGNORECASE) for p in q.expected_none)
    return out


# ---------------------------------------------------------------------------
# Citation support and retrieval
# ---------------------------------------------------------------------------


def _numbers_in(value: Any) -> Iterable[float]:
    """Numbers in a tool call's arguments or result (nested dicts/lists, numeric strings)."""
    for item in iter_values(value):
        if isinstance(item, str):
            yield from (n.value for n in parse_numbers(item, words=True))
        else:
            yield item


def one_step(values: Sequence[float]) -> set[float]:
    """Everything one arithmetic step makes of two of the values (sums, differences, products, ratios, percents)."""
    out: set[float] = set()
    vals = sorted(set(values))
    for i, a in enumerate(vals):
        for b in vals[i:]:
            out.update((a + b, abs(a - b), a * b, a * b / 100))
            for x, y in ((a, b), (b, a)):
                if y:
                    out.update((x / y, x / y * 100, (x - y) / y * 100, abs(x - y) / y * 100))
    return out


def unsupported_numbers(answer_text: str, quotes: Sequence[str], given: Iterable[float] = ()) -> list[str]:
    """Numbers of an answer that its citations do not support.

    A number is supported when it agrees (:func:`close`) with a number in a cited quote or in ``given``
    (the question, history, the answer's facts and tool calls), or - within the tighter
    :data:`DERIVED_REL_TOL` - with one arithmetic step over two of those (:func:`one_step`). Derivations
    of more steps (e.g. a currency conversion through a rate) must show up in the answer's tool calls.

    Args:
        answer_text: The answer, with ``[n]`` markers.
        quotes: The cited quotes.
        given: Other numbers the answer may use.

    Returns:
        The unsupported numbers as written in the answer.

    """
    wanted = parse_numbers(answer_text)
    if not wanted:
        return []
    base = [n.value for q in quotes for n in parse_numbers(q, words=True)] + [float(v) for v in given]
    derived: set[float] | None = None
    bad = []
    for n in wanted:
        if any(close(n, b) for b in base):
            continue
        if derived is None:
            derived = one_step(base)
        if not any(close(n, d, DERIVED_REL_TOL) for d in derived):
            bad.append(n.text)
    return bad


def source_matches(cited: str, expected: str) -> bool:
    """Whether a cited source is the expected file (same path, same name, or a path ending in it)."""
    cited_p, expected_p = cited.replace("\\", "/"), expected.replace("\\", "/")
    return cited_p == expected_p or cited_p.endswith("/" + expected_p) or Path(cited_p).name == expected_p


def retrieval_rank(cited_sources: Sequence[str], expected: Sequence[str]) -> int | None:
    """1-based rank of the first expected source among the distinct cited sources (in citation order)."""
    distinct = list(dict.fromkeys(cited_sources))
    for rank, src in enumerate(distinct, 1):
        if any(source_matches(src, e) for e in expected):
            return rank
    return None


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


@dataclass
class ItemResult:
    """One asked question, its answer and the verdicts."""

    question: Question
    answer: str = ""
    resolved_question: str | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    refused: bool = False
    answer_kind: str | None = None
    latency_ms: float = 0.0
    checks: dict[str, bool] = field(default_factory=dict)
    passed: bool = False
    unsupported_numbers: list[str] = field(default_factory=list)
    retrieval_rank: int | None = None
    term_coverage: float | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    error: str | None = None

    def record(self) -> dict[str, Any]:
        """Return the ``answers.jsonl`` line of this question."""
        q = self.question
        return {
            "id": q.id,
            "kind": q.kind,
            "question": q.question,
            "history": q.history,
            "answerable": q.answerable,
            "answer": self.answer,
            "resolved_question": self.resolved_question,
            "citations": self.citations,
            "refused": self.refused,
            "answer_kind": self.answer_kind,
            "latency_ms": round(self.latency_ms, 2),
            "checks": self.checks,
            "passed": self.passed,
            "unsupported_numbers": self.unsupported_numbers,
            "retrieval_rank": self.retrieval_rank,
            "term_coverage": None if self.term_coverage is None else round(self.term_coverage, 4),
            "tool_calls": self.tool_calls,
            "flags": self.flags,
            "error": self.error,
            "expected": {k: v for k, v in q.public().items() if k.startswith("expected") and v},
        }


@dataclass
class EvalResult:
    """The outcome of :func:`run_eval`."""

    items: list[ItemResult]
    engine: str | None = None
    started: str = ""
    seconds: float = 0.0

    @property
    def summary(self) -> dict[str, Any]:
        """Aggregate metrics (see :func:`summarize`)."""
        records = [i.record() for i in self.items]
        return summarize(records, engine=self.engine, started=self.started, seconds=self.seconds)

    @property
    def score(self) -> float:
        """Fraction of questions passing all their checks."""
        return self.summary["score"]


def _plain(obj: Any) -> dict[str, Any]:
    return obj.model_dump() if hasattr(obj, "model_dump") else dict(obj)


def _history_text(history: Sequence[Any]) -> str:
    return " ".join(t if isinstance(t, str) else str(t.get("content", "")) for t in history)


def grade(q: Question, answer: Any) -> ItemResult:
    """Check one answer (a :class:`bot.models.Answer` or anything shaped like it) against its question."""
    text = str(getattr(answer, "text", "") or "")
    citations = [_plain(c) for c in getattr(answer, "citations", None) or []]
    refused = bool(getattr(answer, "refused", False))
    tool_calls = [_plain(t) for t in getattr(answer, "tool_calls", None) or []]
    res = ItemResult(
        question=q,
        answer=text,
        resolved_question=getattr(answer, "resolved_question", None),
        citations=citations,
        refused=refused,
        answer_kind=getattr(answer, "kind", None),
        latency_ms=float(getattr(answer, "latency_ms", 0.0) or 0.0),
        tool_calls=tool_calls,
        flags=list(getattr(answer, "flags", []) or []),
    )
    checks: dict[str, bool] = {}
    if q.answerable is not None:
        checks["refusal"] = refused == (not q.answerable)
    if q.expected is not None and q.answerable is not False:
        checks["expected"] = text_match(q.expected, text)
    checks.update(regex_checks(q, text))
    quotes = [str(c.get("quote", "")) for c in citations]
    if q.expected_sources:
        res.retrieval_rank = retrieval_rank([str(c.get("source", "")) for c in citations], q.expected_sources)
        if q.answerable is not False and not refused:
            checks["sources"] = res.retrieval_rank is not None
    if not refused:
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
        checks["cited"] = bool(citations) and numbers <= {int(c.get("n", -1)) for c in citations}
        given: list[float] = [n.value for n in parse_numbers(q.question + " " + _history_text(q.history), True)]
        for f in getattr(answer, "facts", []) or []:
            values = (getattr(f, "value", None), getattr(f, "low", None), getattr(f, "high", None))
            given.extend(float(v) for v in values if v is not None)
        given.extend(_numbers_in([{"args": t.get("args"), "result": t.get("result")} for t in tool_calls]))
        res.unsupported_numbers = unsupported_numbers(text, quotes, given)
        checks["numbers_supported"] = not res.unsupported_numbers
        words = content_words(text) - _CURRENCY_WORDS
        if words and citations:
            known = content_words(" ".join(quotes) + " " + q.question + " " + _history_text(q.history))
            res.term_coverage = len(words & known) / len(words)
    res.checks = checks
    res.passed = all(checks.values())
    return res


def run_eval(
    questions: Sequence[Question], bot: Asker, engine: str | None = None, progress: ProgressFn | None = None
) -> EvalResult:
    """Ask every question and grade the answers.

    A question whose ``ask`` raises is recorded as failed with its error; the run goes on.

    Args:
        questions: The question set (see :func:`load_questions`).
        bot: Anything with ``.ask(question, history, engine=...)`` returning an answer.
        engine: Passed to ``ask`` (``None`` = the bot's default).
        progress: Called as ``progress(done, total, description)`` after each question.

    Returns:
        The graded answers.

    """
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t_run = time.perf_counter()
    items: list[ItemResult] = []
    total = len(questions)
    if progress:
        progress(0, total, "Evaluating")
    for done, q in enumerate(questions, 1):
        t0 = time.perf_counter()
        try:
            answer = bot.ask(q.question, q.history, engine=engine)
            item = grade(q, answer)
        except Exception as exc:  # a question that breaks the engine must not stop the run
            item = ItemResult(question=q, error=f"{type(exc).__name__}: {exc}")
        if not item.latency_ms:
            item.latency_ms = (time.perf_counter() - t0) * 1000
        items.append(item)
        if progress:
            progress(done, total, "Evaluating")
    return EvalResult(items=items, engine=engine, started=started, seconds=time.perf_counter() - t_run)


# ---------------------------------------------------------------------------
# Summary and report
# ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the ``q``-th percentile (0-100), interpolating linearly between closest ranks; None when empty."""
    if not values:
        return None
    vals = sorted(values)
    pos = (len(vals) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def summarize(records: Sequence[Mapping[str, Any]], **meta: Any) -> dict[str, Any]:
    """Aggregate metrics over ``answers.jsonl`` records.

    Args:
        records: One :meth:`ItemResult.record` per question.
        **meta: Extra keys to include (engine, start time...).

    Returns:
        ``score`` (fraction passing all checks), ``correctness`` (fraction passing the refusal and
        expected-answer checks), refusal ``precision``/``recall`` (positive = refused; questions with
        ``answerable: null`` left out), ``unsupported_answers`` (answers with unsupported numbers),
        retrieval ``hit_rate``/``mrr`` over questions with expected sources, latency ``p50``/``p95`` (ms,
        questions without errors), per-check pass rates and a per-kind breakdown.

    """
    n = len(records)
    passed = sum(bool(r["passed"]) for r in records)
    errors = [r for r in records if r.get("error")]
    correct = sum(
        not r.get("error") and all(v for k, v in r["checks"].items() if k in _CORRECTNESS_CHECKS) for r in records
    )
    judged = [r for r in records if r.get("answerable") is not None and not r.get("error")]
    should_refuse = [r for r in judged if r["answerable"] is False]
    refused = [r for r in judged if r["refused"]]
    true_refusals = sum(r["answerable"] is False for r in refused)
    answered = [r for r in records if not r.get("error") and not r["refused"]]
    unsupported = [r for r in answered if r.get("unsupported_numbers")]
    coverage = [r["term_coverage"] for r in answered if r.get("term_coverage") is not None]
    with_sources = [r for r in records if r.get("expected", {}).get("expected_sources")]
    ranks = [r.get("retrieval_rank") for r in with_sources]
    latencies = [float(r["latency_ms"]) for r in records if not r.get("error")]
    checks: dict[str, dict[str, Any]] = {}
    for r in records:
        for name, ok in r["checks"].items():
            c = checks.setdefault(name, {"n": 0, "passed": 0})
            c["n"] += 1
            c["passed"] += bool(ok)
    for c in checks.values():
        c["rate"] = c["passed"] / c["n"]
    kinds: dict[str, dict[str, Any]] = {}
    for r in records:
        k = kinds.setdefault(r["kind"], {"n": 0, "passed": 0, "latencies": []})
        k["n"] += 1
        k["passed"] += bool(r["passed"])
        if not r.get("error"):
            k["latencies"].append(float(r["latency_ms"]))
    by_kind = {
        name: {
            "n": k["n"],
            "passed": k["passed"],
            "score": k["passed"] / k["n"],
            "p50_ms": percentile(k["latencies"], 50),
        }
        for name, k in sorted(kinds.items())
    }
    return {
        **meta,
        "questions": n,
        "passed": passed,
        "failed": n - passed,
        "score": passed / n if n else 0.0,
        "correctness": correct / n if n else 0.0,
        "errors": len(errors),
        "refusal": {
            "expected": len(should_refuse),
            "refused": len(refused),
            "true_refusals": true_refusals,
            "precision": _ratio(true_refusals, len(refused)),
            "recall": _ratio(true_refusals, len(should_refuse)),
        },
        "citation_support": {
            "answers": len(answered),
            "unsupported_answers": len(unsupported),
            "supported_rate": _ratio(len(answered) - len(unsupported), len(answered)),
            "mean_term_coverage": sum(coverage) / len(coverage) if coverage else None,
        },
        "retrieval": {
            "questions": len(ranks),
            "hits": sum(r is not None for r in ranks),
            "hit_rate": _ratio(sum(r is not None for r in ranks), len(ranks)),
            "mrr": sum(1 / r for r in ranks if r) / len(ranks) if ranks else None,
        },
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "n": len(latencies)},
        "checks": checks,
        "by_kind": by_kind,
    }


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1%}" if pct else f"{value:,.0f}"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _turn_text(turn: Any) -> str:
    return turn if isinstance(turn, str) else f"{turn.get('role', 'user')}: {turn.get('content')}"


def _charts(summary: Mapping[str, Any], latencies: Sequence[float], out: Path) -> list[str]:
    """Draw score-by-kind and latency charts (matplotlib's Agg canvas; no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = []
    kinds = summary["by_kind"]
    if kinds:
        fig = Figure(figsize=(7, 0.45 * len(kinds) + 1.2))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        labels = list(kinds)
        scores = [kinds[k]["score"] * 100 for k in labels]
        bars = ax.barh(labels, scores, color="#4c72b0")
        for bar, k in zip(bars, labels, strict=True):
            ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2,
                    f"{kinds[k]['passed']}/{kinds[k]['n']}", va="center", fontsize=8)  # fmt: skip
        ax.set_xlim(0, 112)
        ax.invert_yaxis()
        ax.set_xlabel("questions passing all checks (%)")
        ax.set_title(f"Score by question kind (overall {summary['score']:.0%})")
        fig.tight_layout()
        fig.savefig(out / "score_by_kind.png", dpi=100)
        names.append("score_by_kind.png")
    if latencies:
        fig = Figure(figsize=(7, 3.2))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.hist(latencies, bins=min(30, max(5, len(latencies) // 3)), color="#55a868")
        lat = summary["latency_ms"]
        for value, label, style in ((lat["p50"], "p50", "--"), (lat["p95"], "p95", ":")):
            ax.axvline(value, color="k", linestyle=style, label=f"{label} {value:,.0f} ms")
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("questions")
        ax.set_title("Answer latency")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=100)
        names.append("latency.png")
    return names


def render_report(
    summary: Mapping[str, Any], records: Sequence[Mapping[str, Any]], charts: Sequence[str] = (), title: str = ""
) -> str:
    """Render the Markdown report: headline metrics, per-kind table, charts, failures with their answers."""
    s = summary
    ref, cs, rt, lat = s["refusal"], s["citation_support"], s["retrieval"], s["latency_ms"]
    lines = [
        f"# Evaluation report{': ' + title if title else ''}",
        "",
        f"Engine: {s.get('engine') or 'default'} · started {s.get('started', '')} · {s.get('seconds', 0):.1f} s",
        "",
        f"**Score: {s['passed']}/{s['questions']} = {s['score']:.1%}** (questions passing all their checks)",
        "",
        "| Metric | Value |",
        "|---|---|",
        f"| Answer correctness (refusal + expected checks) | {s['correctness']:.1%} |",
        f"| Refusal precision | {_fmt(ref['precision'], True)} "
        f"({ref['true_refusals']}/{ref['refused']} refusals were right) |",
        f"| Refusal recall | {_fmt(ref['recall'], True)} "
        f"({ref['true_refusals']}/{ref['expected']} unanswerable refused) |",
        f"| Answers with unsupported numbers | {cs['unsupported_answers']} of {cs['answers']} answers |",
        f"| Mean answer-term coverage by citations | {_fmt(cs['mean_term_coverage'], True)} |",
        f"| Retrieval hit rate (expected source cited) | {_fmt(rt['hit_rate'], True)} "
        f"({rt['hits']}/{rt['questions']}) |",
        f"| Retrieval MRR | {'n/a' if rt['mrr'] is None else format(rt['mrr'], '.3f')} |",
        f"| Latency p50 / p95 | {_fmt(lat['p50'])} ms / {_fmt(lat['p95'])} ms |",
        f"| Errors (engine raised) | {s['errors']} |",
        "",
        "## By question kind",
        "",
        "| Kind | Questions | Passed | Score | p50 latency (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, k in s["by_kind"].items():
        lines.append(f"| {_md(kind)} | {k['n']} | {k['passed']} | {k['score']:.1%} | {_fmt(k['p50_ms'])} |")
    lines += ["", "## By check", "", "| Check | Applied | Passed | Rate |", "|---|---:|---:|---:|"]
    for name, c in sorted(s["checks"].items()):
        lines.append(f"| {name} | {c['n']} | {c['passed']} | {c['rate']:.1%} |")
    if charts:
        lines += ["", "## Charts", ""] + [f"![{Path(c).stem}]({c})" for c in charts]
    failures = [r for r in records if not r["passed"]]
    lines += ["", f"## Failures ({len(failures)})", ""]
    for r in failures:
        failed = [k for k, v in r["checks"].items() if not v]
        lines.append(f"### {_md(str(r['id']))} ({_md(r['kind'])})")
        lines.append("")
        if r["history"]:
            turns = " → ".join(_turn_text(t) for t in r["history"])
            lines.append(f"- History: {_md(turns)}")
        lines.append(f"- Question: {_md(r['question'])}")
        if r.get("error"):
            lines.append(f"- **Error:** `{_md(r['error'])}`")
        else:
            lines.append(f"- Answer{' (refused)' if r['refused'] else ''}: {_md(r['answer'])}")
            lines.append(f"- Failed checks: {', '.join(failed) or 'none'}")
            if r.get("unsupported_numbers"):
                lines.append(f"- Unsupported numbers: {', '.join(r['unsupported_numbers'])}")
            for c in r["citations"]:
                lines.append(f"  - [{c.get('n')}] {_md(str(c.get('source')))}: “{_md(str(c.get('quote', '')))}”")
        expected = dict(r.get("expected", {}))
        if r.get("answerable") is False:
            expected["answerable"] = False
        if expected:
            lines.append(f"- Expected: `{_md(json.dumps(expected, ensure_ascii=False))}`")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_outputs(result: EvalResult, out_dir: str | Path, title: str = "") -> dict[str, Any]:
    """Write ``answers.jsonl``, ``summary.json``, ``report.md`` and the charts into ``out_dir``.

    Returns:
        The summary (as written to ``summary.json``).

    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create the output folder {out} ({exc.strerror}).") from None
    records = [i.record() for i in result.items]
    summary = summarize(records, engine=result.engine, started=result.started, seconds=round(result.seconds, 2))
    if title:
        summary["title"] = title
    with (out / "answers.jsonl").open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    latencies = [float(r["latency_ms"]) for r in records if not r.get("error")]
    charts = _charts(summary, latencies, out)
    (out / "report.md").write_text(render_report(summary, records, charts, title), encoding="utf-8")
    return summary
