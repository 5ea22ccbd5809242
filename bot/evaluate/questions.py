"""Question sets: read JSONL, CSV or YAML into :class:`Question` records, with errors that say where."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import InputError

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}
_LIST_KEYS = ("expected_any", "expected_all", "expected_none", "expected_sources", "gold")


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
    gold: list[str] = field(default_factory=list)
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
    ``expected_none``, ``expected_sources``, ``gold`` (reference answers for token F1), ``answerable``, ``kind``;
    other keys are ignored. A missing ``id``
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
