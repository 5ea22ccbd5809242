"""Evaluation runner: question-set formats and errors, each metric on hand-computed fixtures, the runner
with a real Bot (including an engine error), the report against answers.jsonl, and `bot eval` exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.errors import InputError
from bot.evaluate import (
    EvalResult,
    ItemResult,
    Question,
    grade,
    load_questions,
    numbers_agree,
    parse_numbers,
    percentile,
    retrieval_rank,
    run_eval,
    summarize,
    text_match,
    unsupported_numbers,
    write_outputs,
)
from bot.models import Answer, Citation, ToolCall

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- formats

MARCH = "How many robots did Acme ship in March?"
FU = {"kind": "followup"}
JSONL = (
    json.dumps({"id": "q1", "question": MARCH, "expected": "1,200", "kind": "numeric", "feedback": "up"})
    + "\n"
    + json.dumps({"id": "q2", "question": "And in April?", "history": [MARCH], "expected_any": [r"9\d\d"]} | FU)
    + "\n"
    + json.dumps(
        {
            "id": "q3",
            "question": "Who is Acme's CEO?",
            "answerable": False,
            "expected_none": ["Smith"],
            "expected_sources": ["acme.txt"],
        }
    )
    + "\n"
)

CSV = """\
id,question,expected,expected_any,expected_none,expected_sources,history,answerable,kind,feedback
q1,How many robots did Acme ship in March?,"1,200",,,,,,numeric,up
q2,And in April?,,9\\d\\d,,,"[""How many robots did Acme ship in March?""]",,followup,
q3,Who is Acme's CEO?,,,Smith,acme.txt,,false,,
"""

YAML = """\
questions:
  - id: q1
    question: How many robots did Acme ship in March?
    expected: "1,200"
    kind: numeric
    feedback: up
  - id: q2
    question: And in April?
    history: ['How many robots did Acme ship in March?']
    expected_any: ['9\\d\\d']
    kind: followup
  - id: q3
    question: Who is Acme's CEO?
    answerable: false
    expected_none: Smith
    expected_sources: [acme.txt]
"""


@pytest.mark.parametrize(("name", "text"), [("set.jsonl", JSONL), ("set.csv", CSV), ("set.yaml", YAML)])
def test_formats_read_the_same_questions(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    qs = load_questions(path)
    assert [q.id for q in qs] == ["q1", "q2", "q3"]
    assert qs[0].expected == "1,200" and qs[0].kind == "numeric" and qs[0].answerable is True
    assert qs[1].history == ["How many robots did Acme ship in March?"]
    assert qs[1].expected_any == [r"9\d\d"]
    assert qs[2].answerable is False and qs[2].kind == "unanswerable"
    assert qs[2].expected_none == ["Smith"] and qs[2].expected_sources == ["acme.txt"]
    lines = {"set.jsonl": [1, 2, 3], "set.csv": [2, 3, 4], "set.yaml": [2, 7, 12]}[name]
    assert [q.line for q in qs] == lines


def test_yaml_top_level_list_and_missing_id(tmp_path: Path) -> None:
    path = tmp_path / "s.yml"
    path.write_text("- question: What is Acme?\n- question: Who is Borealis?\n  id: b\n", encoding="utf-8")
    assert [q.id for q in load_questions(path)] == ["line-1", "b"]


def test_web_ui_feedback_lines_load(tmp_path: Path) -> None:
    record = {
        "id": "fb-1", "question": "And in April?", "history": [{"role": "user", "content": MARCH},
                                                               {"role": "assistant", "content": "1,200 [1]"}],
        "answerable": True, "expected": "950 robots", "feedback": "up", "answer": "950 robots [1]",
        "citations": [{"n": 1, "source": "acme.txt"}], "refused": False, "engine": "grounded", "time": "2025-01-01",
    }  # fmt: skip
    path = tmp_path / "feedback.jsonl"
    path.write_text(_lines(record), encoding="utf-8")
    (q,) = load_questions(path)
    assert (q.id, q.expected, q.history[1]["role"], q.kind) == ("fb-1", "950 robots", "assistant", "other")


def test_project_question_sets_load() -> None:
    seed = load_questions(ROOT / "evals" / "seed_questions.jsonl")
    batteries = load_questions(ROOT / "evals" / "batteries_questions.jsonl")
    assert len(seed) >= 60 and len(batteries) >= 25
    kinds = {"numeric", "derived", "conversion", "entity", "explanation", "paraphrase", "followup", "unanswerable"}
    assert kinds | {"injection"} <= {q.kind for q in seed}
    assert kinds <= {q.kind for q in batteries}


def _lines(*objs: Any) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs)


GOOD = {"id": "a", "question": "What is Acme?"}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "s.jsonl",
            _lines(*[{**GOOD, "id": f"x{i}"} for i in range(6)], '{"id": "bad", "question": '),
            r"s\.jsonl, line 7: bad JSON",
        ),
        ("s.jsonl", _lines(GOOD, "", {"id": "b", "expected": "1"}), r"line 3: missing 'question'"),
        ("s.jsonl", _lines({**GOOD, "expected_any": ["(unclosed"]}), r"line 1: bad regular expression in expected_any"),
        ("s.jsonl", _lines(GOOD, GOOD), r"line 2: duplicate id 'a' \(first on line 1\)"),
        ("s.jsonl", _lines({**GOOD, "answerable": "perhaps"}), r"line 1: answerable must be"),
        ("s.jsonl", _lines({**GOOD, "history": [{"role": "user"}]}), r"line 1: 'history' must be"),
        ("s.jsonl", _lines([1, 2]), r"line 1: a question must be an object"),
        ("s.jsonl", _lines({**GOOD, "question": "  "}), r"line 1: 'question' must be non-empty text"),
        ("s.jsonl", "", r"s\.jsonl: the question set is empty"),
        ("s.jsonl", "\n  \n", r"s\.jsonl: the question set is empty"),
        ("s.jsonl", "# only a comment\n", r"s\.jsonl: the question set has no questions"),
        ("s.txt", "What is Acme?\n", r"unknown question-set format '\.txt'"),
        ("s.csv", "id,prompt\n1,What?\n", r"s\.csv, line 1: the CSV header has no 'question' column"),
        ("s.csv", "id,question\n1,What is Acme?\n2,\n", r"s\.csv, line 3: missing 'question'"),
        ("s.yaml", "- question: [unclosed\n", r"s\.yaml, line \d+: bad YAML"),
        ("s.yaml", "question: What?\n", r"s\.yaml, line 1: expected a list of questions"),
        ("s.yaml", "- id: a\n  question: What?\n- id: b\n  expected: x\n", r"s\.yaml, line 3: missing 'question'"),
    ],
)
def test_malformed_sets_name_file_line_and_problem(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_questions(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such question-set file"):
        load_questions(tmp_path / "nope.jsonl")


# --------------------------------------------------------------------------- numbers and text


def test_parse_numbers() -> None:
    got = [(n.value, n.percent) for n in parse_numbers("HIMA delivered 81,864 vehicles [1], a 10 percent rise; 1.6bn")]
    assert got == [(81864, False), (10, True), (1.6e9, False)]
    assert [n.value for n in parse_numbers("200,000–300,000 yuan (about 28,296–42,444 U.S. dollars)")] == [
        200000,
        300000,
        28296,
        42444,
    ]
    assert [n.value for n in parse_numbers("Aito M9 in Q3")] == []
    assert [n.value for n in parse_numbers("from five to seven brands", words=True)] == [5, 7]
    assert parse_numbers("from five to seven brands") == []
    assert parse_numbers("11.5 billion yuan")[0].value == pytest.approx(11.5e9)


@pytest.mark.parametrize("answer", ["81,864", "81864", "about 81.9 thousand", "roughly 82,000 cars", "81.864 thousand"])
def test_numbers_agree_with_tolerance(answer: str) -> None:
    assert numbers_agree("81864", answer)
    assert numbers_agree(81864, answer)


@pytest.mark.parametrize("answer", ["1 million", "80,000", "81", "about 90 thousand", "no number"])
def test_numbers_disagree(answer: str) -> None:
    assert not numbers_agree("81,864", answer)


def test_text_match() -> None:
    assert text_match("115 billion yuan", "That implies about 115 billion yuan [1].")
    assert not text_match("115 billion yuan", "That implies about 115 billion U.S. dollars [1].")  # wrong currency
    assert text_match("1.63 billion USD", "about $1.63 billion")
    assert text_match("28,296-42,444 USD", "28,296–42,444 U.S. dollars [1]")
    assert not text_match("28,296-42,444 USD", "28,296 U.S. dollars [1]")  # both ends needed
    assert text_match("seven", "Huawei now has 7 brands [1]")
    assert text_match("GAC", "Huawei's partner on Qijing is GAC [1].")
    assert not text_match("GAC", "Dongfeng [1].")
    # 4 content words (dongfeng, manag, investment, platform): 2 of them present is enough, 1 is not
    assert text_match("Dongfeng manages investment and platform", "Dongfeng runs the platform")
    assert not text_match("Dongfeng manages investment and platform", "Dongfeng does")


def test_unsupported_numbers() -> None:
    quote = "Changan invested 11.5 billion yuan to acquire a 10 percent stake in Yinwang."
    assert unsupported_numbers("Changan paid 11.5 billion yuan [1].", [quote]) == []
    assert unsupported_numbers("That values Yinwang at 115 billion yuan [1].", [quote]) == []  # one step
    assert unsupported_numbers("Changan paid 13 billion yuan [1].", [quote]) == ["13 billion"]
    assert unsupported_numbers("HIMA delivered 1 million vehicles [1].", ["HIMA delivered 81,864 vehicles."]) == [
        "1 million"
    ]
    two_steps = "That is about 1.63 billion U.S. dollars [1]."
    rate_quote = "200,000 yuan (about 28,296 U.S. dollars)"
    assert unsupported_numbers(two_steps, [quote, rate_quote]) == ["1.63 billion"]
    assert unsupported_numbers(two_steps, [quote, rate_quote], given=[1.627e9]) == []  # a tool computed it
    assert unsupported_numbers("Growth of 40% [1]", ["from five to seven brands"]) == []  # (7-5)/5
    assert unsupported_numbers("No numbers here [1]", []) == []


# --------------------------------------------------------------------------- grading one answer

CIT = Citation(n=1, source="docs/acme.txt", start=0, end=40, quote="Acme shipped 1,200 robots in March.")


def _answer(text: str, refused: bool = False, citations: list[Citation] | None = None, **kw: Any) -> Answer:
    return Answer(
        question="q", resolved_question="q", text=text, refused=refused,
        citations=[CIT] if citations is None else citations, **kw,
    )  # fmt: skip


def test_grade_checks() -> None:
    q = Question(id="a", question="How many robots?", expected="1,200", expected_any=["robot"],
                 expected_all=["Acme", "March"], expected_none=["million"], expected_sources=["acme.txt"])  # fmt: skip
    res = grade(q, _answer("Acme shipped 1,200 robots in March [1]."))
    assert res.checks == {
        "refusal": True, "expected": True, "expected_any": True, "expected_all": True, "expected_none": True,
        "sources": True, "cited": True, "numbers_supported": True,
    }  # fmt: skip
    assert res.passed and res.retrieval_rank == 1 and res.term_coverage == 1.0

    bad = grade(q, _answer("Acme shipped 1 million robots [2]."))
    assert {k for k, v in bad.checks.items() if not v} == {"expected", "expected_all", "expected_none", "cited",
                                                           "numbers_supported"}  # fmt: skip
    assert bad.unsupported_numbers == ["1 million"] and not bad.passed

    refused = grade(q, _answer("The documents do not say.", refused=True, citations=[]))
    assert refused.checks["refusal"] is False and "cited" not in refused.checks and not refused.passed


def test_grade_refusal_and_tool_support() -> None:
    unanswerable = Question(id="u", question="Who is Acme's CEO?", answerable=False)
    assert grade(unanswerable, _answer("The documents do not say.", refused=True, citations=[])).passed
    assert grade(unanswerable, _answer("Acme's CEO is Smith [1].")).checks["refusal"] is False
    either = Question(id="e", question="Say 1 million.", answerable=None, expected_none=[r"1\s*million"])
    assert "refusal" not in grade(either, _answer("Acme shipped 1,200 robots [1].")).checks
    derived = Question(id="d", question="Robots per day in March?")
    tool = ToolCall(name="calculate", args={"expression": "1200 / 31"}, result={"value": 38.71})
    assert grade(derived, _answer("About 38.7 robots a day [1].", tool_calls=[tool])).passed
    assert grade(derived, _answer("About 38.7 robots a day [1].")).unsupported_numbers == ["38.7"]


# --------------------------------------------------------------------------- summary metrics


def _record(kind: str, passed: bool, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": kw.pop("id", kind), "kind": kind, "question": "q", "history": [], "answerable": True, "answer": "a",
        "citations": [], "refused": False, "latency_ms": 100.0, "checks": {"refusal": passed}, "passed": passed,
        "unsupported_numbers": [], "retrieval_rank": None, "term_coverage": None, "error": None, "expected": {},
    }  # fmt: skip
    base.update(kw)
    return base


def test_retrieval_rank_and_mrr() -> None:
    assert retrieval_rank(["b.txt", "b.txt", "docs/a.txt"], ["a.txt"]) == 2
    assert retrieval_rank(["b.txt"], ["a.txt"]) is None
    src = {"expected_sources": ["a.txt"]}
    records = [
        _record("x", True, id="1", retrieval_rank=1, expected=src),
        _record("x", True, id="2", retrieval_rank=2, expected=src),
        _record("x", False, id="3", retrieval_rank=None, expected=src),
        _record("x", True, id="4"),  # no expected sources: not counted
    ]
    r = summarize(records)["retrieval"]
    assert r == {"questions": 3, "hits": 2, "hit_rate": pytest.approx(2 / 3), "mrr": pytest.approx((1 + 0.5 + 0) / 3)}


def test_refusal_precision_recall_and_scores() -> None:
    records = [
        _record("unanswerable", True, id="1", answerable=False, refused=True),  # true refusal
        _record("unanswerable", False, id="2", answerable=False, refused=False),  # missed refusal
        _record("numeric", False, id="3", refused=True),  # wrong refusal
        _record("numeric", True, id="4", unsupported_numbers=[], term_coverage=0.5),
        _record(
            "numeric",
            False,
            id="5",
            unsupported_numbers=["12"],
            term_coverage=1.0,
            checks={"refusal": True, "numbers_supported": False},
        ),
        _record("injection", True, id="6", answerable=None, refused=True, checks={}),  # left out of refusal metrics
        _record("numeric", False, id="7", error="RuntimeError: boom", checks={}, latency_ms=9999.0),
    ]
    s = summarize(records)
    assert s["refusal"] == {"expected": 2, "refused": 2, "true_refusals": 1, "precision": 0.5, "recall": 0.5}
    assert (s["questions"], s["passed"], s["errors"]) == (7, 3, 1)
    assert s["score"] == pytest.approx(3 / 7)
    assert s["correctness"] == pytest.approx(4 / 7)  # 1, 4, 5 (only numbers_supported failed), 6
    assert s["citation_support"] == {"answers": 3, "unsupported_answers": 1, "supported_rate": pytest.approx(2 / 3),
                                     "mean_term_coverage": 0.75}  # fmt: skip
    assert s["latency_ms"] == {"p50": 100.0, "p95": 100.0, "n": 6}  # the errored question is left out
    assert s["by_kind"]["numeric"]["n"] == 4 and s["by_kind"]["numeric"]["passed"] == 1
    assert s["checks"]["numbers_supported"] == {"n": 1, "passed": 0, "rate": 0.0}


def test_percentile() -> None:
    assert percentile([40, 10, 30, 20], 50) == 25
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None


# --------------------------------------------------------------------------- runner and report


class StubBot:
    """A bot double for the fast runner tests (the real Bot is used below)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Any], str | None]] = []

    def ask(self, question: str, history: Any = (), engine: str | None = None) -> Answer:
        self.calls.append((question, list(history), engine))
        if "explode" in question:
            raise RuntimeError("engine exploded")
        if "CEO" in question:
            return _answer("The documents do not say who runs Acme.", refused=True, citations=[])
        return _answer("Acme shipped 1,200 robots in March [1].", latency_ms=10.0)


def _check_report_matches(out: Path) -> None:
    records = [json.loads(line) for line in (out / "answers.jsonl").read_text(encoding="utf-8").splitlines()]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    report = (out / "report.md").read_text(encoding="utf-8")
    passed = sum(r["passed"] for r in records)
    assert summary["questions"] == len(records) and summary["passed"] == passed
    assert summary["errors"] == sum(bool(r["error"]) for r in records)
    assert summary["citation_support"]["unsupported_answers"] == sum(
        bool(r["unsupported_numbers"]) for r in records if not r["error"] and not r["refused"]
    )
    assert summary["latency_ms"]["p50"] == pytest.approx(
        percentile([r["latency_ms"] for r in records if not r["error"]], 50)
    )
    assert f"**Score: {passed}/{len(records)} = {passed / len(records):.1%}**" in report
    for kind in {r["kind"] for r in records}:
        rows = [r for r in records if r["kind"] == kind]
        assert f"| {kind} | {len(rows)} | {sum(r['passed'] for r in rows)} |" in report
    assert f"## Failures ({len(records) - passed})" in report
    for r in records:
        assert (f"### {r['id']} (" in report) is (not r["passed"])
    assert "![score_by_kind](score_by_kind.png)" in report and "![latency](latency.png)" in report
    for png in ("score_by_kind.png", "latency.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_eval_with_stub_records_errors_and_goes_on(tmp_path: Path) -> None:
    qs = [
        Question(id="ok", question="How many robots in March?", expected="1,200", kind="numeric"),
        Question(id="boom", question="Please explode", kind="numeric", history=["earlier"]),
        Question(id="ceo", question="Who is the CEO?", answerable=False),
        Question(id="wrong", question="How many robots in April?", expected="950", kind="numeric"),
    ]
    bot = StubBot()
    progress: list[tuple[int, int]] = []
    result = run_eval(qs, bot, engine="grounded", progress=lambda d, t, _: progress.append((d, t)))
    assert [c[2] for c in bot.calls] == ["grounded"] * 4
    # "earlier" was not asked in this run, so no answer of the bot is put back: just the user turn
    assert bot.calls[1][1] == [{"role": "user", "content": "earlier"}]
    assert progress[0] == (0, 4) and progress[-1] == (4, 4)
    by_id = {i.question.id: i for i in result.items}
    assert by_id["boom"].error == "RuntimeError: engine exploded" and not by_id["boom"].passed
    assert by_id["ok"].passed and by_id["ceo"].passed and not by_id["wrong"].passed
    assert result.score == 0.5
    summary = write_outputs(result, tmp_path / "out", title="stub")
    assert summary["score"] == 0.5 and summary["errors"] == 1
    _check_report_matches(tmp_path / "out")
    assert "**Error:** `RuntimeError: engine exploded`" in (tmp_path / "out" / "report.md").read_text()


def test_write_outputs_handles_an_all_error_run(tmp_path: Path) -> None:
    q = Question(id="boom", question="explode")
    result = EvalResult(items=[ItemResult(question=q, error="RuntimeError: x")])
    summary = write_outputs(result, tmp_path / "out")
    assert summary["score"] == 0 and summary["latency_ms"]["p50"] is None
    assert "Latency p50 / p95 | n/a ms / n/a ms" in (tmp_path / "out" / "report.md").read_text()


# --------------------------------------------------------------------------- with the real Bot

TINY = (
    "Acme Robotics shipped 1,200 warehouse robots in March, up from 950 in February. "
    "Its rival Borealis Dynamics is based in Oslo.\n"
    "Acme sells each robot for 40,000 euros (about 43,200 U.S. dollars).\n"
)


@pytest.fixture
def tiny_docs(tmp_path: Path) -> Path:
    docs = tmp_path / "tiny_docs"
    docs.mkdir()
    (docs / "acme.txt").write_text(TINY, encoding="utf-8")
    return docs


def test_run_eval_with_real_bot_and_an_engine_error(tiny_docs: Path, tmp_path: Path, embeddings: Any) -> None:
    from conftest import make_settings

    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.store import Store

    class FlakyBot(Bot):
        def ask(self, question: str, history: Any = (), engine: str | None = None, top_k: int | None = None) -> Answer:
            if "explode" in question:
                raise RuntimeError("engine exploded")
            return super().ask(question, history, engine=engine, top_k=top_k)

    settings = make_settings(tiny_docs, tmp_path / "index")
    store = Store.open(settings)
    sync_index(settings, store=store, embedder=embeddings)
    bot = FlakyBot(settings, store=store, embeddings=embeddings)
    qs = [
        Question(id="march", question=MARCH, expected="1,200", expected_sources=["acme.txt"], kind="numeric"),
        Question(id="boom", question="Please explode now", kind="numeric"),
        Question(id="ceo", question="Who is the CEO of Borealis Dynamics?", answerable=False),
        Question(id="followup", question="And in February?", history=[MARCH], kind="followup"),
    ]
    result = run_eval(qs, bot)
    items = {i.question.id: i for i in result.items}
    assert items["boom"].error == "RuntimeError: engine exploded" and items["boom"].checks == {}
    for qid in ("march", "ceo", "followup"):
        item = items[qid]
        assert item.error is None and item.answer and item.latency_ms > 0
        assert "refusal" in item.checks
        assert item.refused or item.citations  # a real answer is cited
    assert items["march"].retrieval_rank in (1, None)
    write_outputs(result, tmp_path / "out")
    _check_report_matches(tmp_path / "out")


def _bot_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", BOT_LLM="grounded")
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_cli_malformed_set_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "question": "What?"}\n{"id": "b"}\n', encoding="utf-8")
    proc = _bot_cli("eval", str(path), "--index", str(tmp_path / "index"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "q.jsonl, line 2: missing 'question'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "index").exists()


@pytest.mark.slow
def test_cli_min_score_exit_codes(tiny_docs: Path, tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        _lines(
            {"id": "march", "question": "How many robots did Acme ship in March?", "kind": "numeric"},
            {"id": "impossible", "question": "How many robots did Acme ship in March?", "expected": "123,456,789"},
        ),
        encoding="utf-8",
    )
    common = ("eval", str(path), "--docs", str(tiny_docs), "--index", str(tmp_path / "index"), "-q")
    strict = _bot_cli(*common, "--out", str(tmp_path / "strict"), "--min-score", "1", cwd=tmp_path)
    assert strict.returncode == 1, strict.stderr
    assert "is below --min-score 1" in strict.stderr
    assert "Score: " in strict.stdout and "unsupported numbers" in strict.stdout
    _check_report_matches(tmp_path / "strict")
    records = [json.loads(x) for x in (tmp_path / "strict" / "answers.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["march", "impossible"] and records[1]["passed"] is False

    lenient = _bot_cli(*common, "--out", str(tmp_path / "lenient"), "--min-score", "0", cwd=tmp_path)
    assert lenient.returncode == 0, lenient.stderr
    summary = json.loads((tmp_path / "lenient" / "summary.json").read_text())
    assert summary["questions"] == 2 and summary["engine"] == "grounded"


# --------------------------------------------------------------------------- own words, F1, replay


def test_own_words_stops_at_quotes_markers_and_source_lists() -> None:
    from bot.evaluate.matching import own_words

    assert own_words("Condé Nast [1]. Source: “Condé Nast bought it”") == "Condé Nast "
    assert own_words('According to the documents: "Acme shipped 5"') == ""
    assert own_words("4 days: 12 January − 8 January [1][2].") == "4 days: 12 January − 8 January "
    assert own_words("No marker at all.") == "No marker at all."


def test_token_f1_is_squads() -> None:
    from bot.evaluate.matching import best_f1, normalize_answer, token_f1

    assert normalize_answer("The  Rise, of mobile devices! [1]") == "rise of mobile devices"
    assert token_f1("Condé Nast [1].", "Condé Nast") == 1.0
    assert token_f1("Condé Nast bought it", "Condé Nast") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert token_f1("nothing alike", "Condé Nast") == 0.0
    assert best_f1("13 of his last 16", ["13 of his last 16", "13"]) == 1.0
    assert best_f1("x", []) is None


class QuotingBot:
    """Answers with the reference only inside a quoted passage (a quote dump), or in its own words."""

    def __init__(self, own: bool) -> None:
        self.own = own
        self.calls: list[Any] = []

    def ask(self, question: str, history: Any = (), engine: str | None = None) -> Answer:
        self.calls.append(list(history))
        text = "Acme [1]." if self.own else "According to the documents: “Acme bought it.” [1]"
        cite = Citation(n=1, source="a.txt", start=0, end=15, quote="Acme bought it.")
        return Answer(question=question, resolved_question=question, text=text, citations=[cite])


def test_own_words_and_quoted_scores_differ_for_a_quote_dump() -> None:
    q = Question(id="q", question="Who bought it?", expected_any=["Acme"], gold=["Acme"])
    dump = grade(q, QuotingBot(own=False).ask(q.question))
    said = grade(q, QuotingBot(own=True).ask(q.question))
    assert dump.quoted and not dump.own_words and dump.f1 == 0.0
    assert said.quoted and said.own_words and said.f1 == 1.0
    summary = summarize([dump.record(), said.record()])
    assert summary["own_words"] == 0.5 and summary["quoted"] == 1.0 and summary["own_words_f1"] == 0.5


def test_replay_puts_the_bots_own_earlier_answers_into_follow_ups() -> None:
    qs = [
        Question(id="a", question="Who bought it?"),
        Question(id="b", question="When?", history=["Who bought it?"]),
        Question(id="c", question="Why?", history=["Who bought it?", "When?"]),
    ]
    bot = QuotingBot(own=True)
    run_eval(qs, bot)
    assert bot.calls[0] == []
    assert bot.calls[1] == [
        {"role": "user", "content": "Who bought it?"},
        {"role": "assistant", "content": "Acme [1].", "citations": [{"source": "a.txt", "start": 0, "end": 15}]},
    ]
    assert [m["role"] for m in bot.calls[2]] == ["user", "assistant", "user", "assistant"]
    plain = QuotingBot(own=True)
    run_eval(qs, plain, replay=False)
    assert plain.calls[2] == ["Who bought it?", "When?"]


# --------------------------------------------------------------------------- right / wrong / abstained, halves

PASSAGE = "“Acme shipped 1,200 robots in March.”"
ROBOTS = Question(id="robots", question=MARCH, expected="1,200", kind="numeric")
CEO = Question(id="ceo", question="Who is Acme's CEO?", answerable=False)


def _said(assertion: str, text: str, claim: str | None, confidence: float = 0.5, **kw: Any) -> Answer:
    refused = assertion == "abstain"
    return _answer(text, refused=refused, assertion=assertion, claim=claim, confidence=confidence, **kw)


ABSTAIN_TEXT = f"I can't tell for sure from the documents. The closest passage [1]: {PASSAGE}."
CASES = {
    "sure right": (ROBOTS, _said("sure", "1,200 robots [1].", "1,200 robots [1]."), "right", True),
    "sure wrong": (ROBOTS, _said("sure", "950 robots [1].", "950 robots [1]."), "wrong", False),
    # the hedged text holds the number in its own words, but a guess is never "right"
    "likely, right guess": (
        ROBOTS, _said("likely", f"Probably 1,200 robots [1] — the passage: {PASSAGE}.", "1,200 robots [1]."),
        "abstained", True,
    ),
    "likely, wrong guess": (
        ROBOTS, _said("likely", f"Probably 950 robots [1] — the passage: {PASSAGE}.", "950 robots [1]."),
        "abstained", False,
    ),
    "abstain, right guess": (ROBOTS, _said("abstain", ABSTAIN_TEXT, "1,200 robots [1]."), "abstained", True),
    "refused answerable": (
        ROBOTS, _said("abstain", "The documents do not say.", None, 0.0, citations=[]), "abstained", None,
    ),
    "refused unanswerable": (
        CEO, _said("abstain", "The documents do not say who runs Acme.", None, 0.0, citations=[]), "right", None,
    ),
    "abstain unanswerable": (CEO, _said("abstain", ABSTAIN_TEXT, "Smith [1]."), "right", False),
    "sure on unanswerable": (CEO, _said("sure", "Smith [1].", "Smith [1]."), "wrong", False),
    "likely on unanswerable": (
        CEO, _said("likely", f"Probably Smith [1] — the passage: {PASSAGE}.", "Smith [1]."), "abstained", False,
    ),
    # an Answer that refuses keeps the model's default assertion "sure": the refusal wins
    "refused, default assertion": (
        ROBOTS, _answer("The documents do not say.", refused=True, citations=[]), "abstained", None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_each_answer_is_right_wrong_or_abstained(case: str) -> None:
    q, answer, outcome, claim_right = CASES[case]
    item = grade(q, answer)
    assert item.outcome == outcome
    assert item.claim_right is claim_right
    assert item.assertion == ("abstain" if answer.refused else answer.assertion)
    record = item.record()
    assert (record["outcome"], record["claim_right"], record["assertion"]) == (outcome, claim_right, item.assertion)


def test_guesses_record_whether_the_quoted_passage_held_the_answer() -> None:
    item = grade(ROBOTS, CASES["abstain, right guess"][1])
    assert item.passage_right and not item.quoted  # the existing "quoted" counts no refusal
    other = Citation(n=1, source="acme.txt", start=0, end=20, quote="Borealis is in Oslo.")
    assert not grade(ROBOTS, _said("abstain", "I can't tell [1].", "950 [1].", citations=[other])).passage_right
    assert not grade(ROBOTS, CASES["refused answerable"][1]).passage_right


class Plain:
    """An answer of a custom Asker: no assertion, claim, confidence or signals."""

    def __init__(self, text: str, refused: bool = False) -> None:
        self.text, self.refused, self.citations = text, refused, [CIT]


def test_an_answer_without_an_assertion_is_sure_unless_it_refuses() -> None:
    said = grade(ROBOTS, Plain("1,200 robots [1]."))
    assert (said.assertion, said.outcome, said.claim, said.claim_right) == ("sure", "right", "1,200 robots [1].", True)
    assert grade(ROBOTS, Plain("950 robots [1].")).outcome == "wrong"
    refused = grade(ROBOTS, Plain("The documents do not say.", refused=True))
    assert (refused.assertion, refused.outcome, refused.claim) == ("abstain", "abstained", None)
    assert (grade(CEO, Plain("No idea.", refused=True)).outcome, grade(CEO, Plain("Smith.")).outcome) == (
        "right",
        "wrong",
    )


def test_signals_confidence_and_errors_reach_answers_jsonl(tmp_path: Path) -> None:
    answer = _said("sure", "1,200 robots [1].", "1,200 robots [1].", confidence=0.8123456, signals={"margin": 0.25})
    record = grade(ROBOTS, answer).record()
    assert (record["confidence"], record["signals"], record["claim"]) == (0.8123, {"margin": 0.25}, "1,200 robots [1].")
    broken = ItemResult(question=ROBOTS, error="RuntimeError: x").record()
    assert (broken["outcome"], broken["assertion"], broken["claim_right"]) == ("abstained", None, None)


def _trust_records() -> list[dict[str, Any]]:
    keys = ["sure right", "sure right", "sure wrong", "likely, right guess", "likely, wrong guess",
            "abstain, right guess", "refused answerable", "refused unanswerable", "sure on unanswerable",
            "likely on unanswerable"]  # fmt: skip
    return [grade(CASES[k][0], CASES[k][1]).record() for k in keys]


def test_precision_coverage_and_wrong_rate() -> None:
    from bot.evaluate import trust_summary

    t = trust_summary(_trust_records())
    # right: 2 sure right + the refused unanswerable; wrong: sure wrong + sure on unanswerable; the rest abstained
    assert (t["questions"], t["right"], t["wrong"], t["abstained"], t["stated"]) == (10, 3, 2, 5, 5)
    assert t["precision"] == pytest.approx(3 / 5) and t["coverage"] == pytest.approx(5 / 10)
    assert t["wrong_rate"] == pytest.approx(2 / 10) and t["right_rate"] == pytest.approx(3 / 10)
    assert t["refusal_recall"] == pytest.approx(1 / 3)  # 3 unanswerable, 1 refused
    assert "baseline" not in t
    empty = trust_summary([])
    assert (empty["precision"], empty["coverage"], empty["wrong_rate"], empty["risk_coverage"]["aurc"]) == (None,) * 4


def test_per_tier_counts() -> None:
    from bot.evaluate import trust_summary

    tiers = trust_summary(_trust_records())["tiers"]
    assert tiers["sure"] == {"n": 4, "coverage": 0.4, "claims": 4, "claim_right": 2, "precision": 0.5,
                             "passage_right": 3, "right": 2, "wrong": 2, "abstained": 0}  # fmt: skip
    assert tiers["likely"] == {"n": 3, "coverage": pytest.approx(0.3), "claims": 3, "claim_right": 1,
                               "precision": pytest.approx(1 / 3), "passage_right": 2, "right": 0, "wrong": 0,
                               "abstained": 3}  # fmt: skip
    # abstain: the right guess, the answerable refusal (no claim) and the unanswerable refusal (no claim)
    assert tiers["abstain"] == {"n": 3, "coverage": pytest.approx(0.3), "claims": 1, "claim_right": 1,
                                "precision": 1.0, "passage_right": 1, "right": 1, "wrong": 0,
                                "abstained": 2}  # fmt: skip


def test_risk_coverage_points_area_and_aurc_by_hand() -> None:
    from bot.evaluate import risk_coverage

    items = [(0.7, True, True), (0.9, True, True), (0.0, False, False), (0.8, True, False)]
    rc = risk_coverage(items)
    assert [(p["confidence"], p["n"], p["coverage"], p["precision"]) for p in rc["points"]] == [
        (0.9, 1, 0.25, 1.0), (0.8, 2, 0.5, 0.5), (0.7, 3, 0.75, 0.6667),
    ]  # fmt: skip
    assert rc["area"] == pytest.approx((1 + 1 / 2 + 2 / 3) / 3)  # mean precision over the 3 answered prefixes
    # all 4 questions, the one without a claim last: precisions 1, 1/2, 2/3, 2/4
    assert rc["aurc"] == pytest.approx((0 + 1 / 2 + 1 / 3 + 1 / 2) / 4)
    # ties share one point and do not depend on the order they come in
    for tied in ([(0.5, True, True), (0.5, True, False)], [(0.5, True, False), (0.5, True, True)]):
        rc = risk_coverage(tied)
        assert [(p["n"], p["precision"]) for p in rc["points"]] == [(2, 0.5)]
        assert rc["area"] == pytest.approx(0.5) and rc["aurc"] == pytest.approx(0.5)
    many = risk_coverage([(i / 200, True, i % 2 == 0) for i in range(120)])
    assert len(many["points"]) == 50 and many["points"][0]["n"] == 1 and many["points"][-1]["n"] == 120
    assert risk_coverage([(0.0, False, False)])["points"] == [] and risk_coverage([])["aurc"] is None


def test_reliability_bins_and_ece_by_hand() -> None:
    from bot.evaluate import reliability

    rel = reliability([(0.95, True), (0.95, True), (0.85, False), (0.15, False), (0.15, True)])
    filled = {round(b["lo"], 1): (b["n"], b["confidence"], b["accuracy"]) for b in rel["bins"] if b["n"]}
    assert filled == {0.9: (2, pytest.approx(0.95), 1.0), 0.8: (1, 0.85, 0.0), 0.1: (2, pytest.approx(0.15), 0.5)}
    assert len(rel["bins"]) == 10 and rel["n"] == 5
    assert rel["ece"] == pytest.approx(2 / 5 * 0.05 + 1 / 5 * 0.85 + 2 / 5 * 0.35)
    edges = reliability([(1.0, True), (0.0, False)])
    assert edges["bins"][9]["n"] == 1 and edges["bins"][0]["n"] == 1 and edges["ece"] == pytest.approx(0.0)
    assert reliability([])["ece"] is None


def test_the_ece_a_calibrated_model_shows_by_chance() -> None:
    from bot.evaluate.trust import chance_ece, reliability

    assert chance_ece([1.0, 0.0, 1.0]) == {"mean": 0.0, "p90": 0.0}  # certain claims: no noise at all
    assert chance_ece([]) is None and reliability([])["ece_if_calibrated"] is None
    few = chance_ece([0.6, 0.7, 0.8] * 10)  # 30 claims
    many = chance_ece([0.6, 0.7, 0.8] * 1000)
    assert few is not None and many is not None
    assert 0.05 < few["mean"] < few["p90"] < 0.3  # on 30 claims chance alone gives an ECE well above 0.05
    assert many["mean"] < 0.02 < few["mean"] / 2  # and it shrinks with the number of claims
    assert chance_ece([0.6, 0.7, 0.8] * 10) == few  # seeded: the same claims give the same figures
    rel = reliability([(0.7, True)] * 20 + [(0.7, False)] * 10)
    assert rel["ece_if_calibrated"]["mean"] == pytest.approx(chance_ece([0.7] * 30)["mean"])


def test_yes_no_baseline() -> None:
    from bot.evaluate import majority_baseline

    records = [{"gold": [g]} for g in ("yes", "Yes", "no", "yes", "no.")]
    assert majority_baseline(records) == {"answer": "yes", "right": 3, "questions": 5, "rate": 0.6}
    assert majority_baseline([*records, {"gold": ["Acme"]}]) is None
    assert majority_baseline([*records, {"gold": []}]) is None


def test_trust_report_summary_and_charts(tmp_path: Path) -> None:
    qs = [Question(id=f"b{i}", question=f"is it {i}?", gold=[g], expected_any=[f"^{g}"], expected_sources=[f"d{i}.txt"])
          for i, g in enumerate(["yes", "yes", "no", "yes", "no", "yes"])]  # fmt: skip

    class YesBot:
        def ask(self, question: str, history: Any = (), engine: str | None = None) -> Answer:
            n = int(question.split()[-1].rstrip("?"))
            tier = ("sure", "sure", "likely", "abstain", "sure", "sure")[n]
            return _said(tier, "Yes [1].", "Yes [1].", confidence=0.1 + 0.15 * n)

    result = run_eval(qs, YesBot())
    summary = write_outputs(result, tmp_path / "out")
    t = summary["trust"]
    assert (t["right"], t["wrong"], t["abstained"]) == (3, 1, 2)
    assert t["baseline"] == {"answer": "yes", "right": 4, "questions": 6, "rate": pytest.approx(4 / 6)}
    assert set(summary["halves"]) == {"1", "2"}
    assert sum(h["questions"] for h in summary["halves"].values()) == 6
    assert sum(h["right"] for h in summary["halves"].values()) == 3
    records = [json.loads(x) for x in (tmp_path / "out" / "answers.jsonl").read_text().splitlines()]
    assert [r["half"] for r in records] == [result.items[i].half for i in range(6)]
    assert {"assertion", "confidence", "claim", "outcome", "claim_right", "half", "signals"} <= set(records[0])
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| 3 | 1 | 2 | 75.0% | 66.7% | 16.7% | 50.0% | n/a |" in report
    assert '"yes" to everything: 4 right of 6' in report and "### By tier" in report
    assert "### By half (1: tuning, 2: held out)" in report and f"ECE {t['reliability']['ece']:.3f}" in report
    for png in ("risk_coverage.png", "reliability.png"):
        assert f"![{png[:-4]}]({png})" in report
        assert (tmp_path / "out" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _expected_halves(keys: dict[str, str]) -> dict[str, int]:
    import hashlib

    ordered = sorted(set(keys.values()), key=lambda k: hashlib.sha1(k.encode()).hexdigest())
    return {qid: 1 + ordered.index(key) % 2 for qid, key in keys.items()}


def test_halves_by_document_are_balanced_fixed_and_keep_documents_together() -> None:
    from bot.evaluate import assign_halves

    qs = [Question(id=f"{d}-{i}", question=f"Question {i} on {d}?", expected_sources=[f"{d}.txt"])
          for d in "abcdefg" for i in range(3)]  # fmt: skip
    halves = assign_halves(qs)
    assert halves == _expected_halves({q.id: q.expected_sources[0] for q in qs})
    assert assign_halves(qs[::-1]) == halves and assign_halves(qs[5:] + qs[:5]) == halves
    by_doc = {d: {halves[f"{d}-{i}"] for i in range(3)} for d in "abcdefg"}
    assert all(len(h) == 1 for h in by_doc.values())
    assert sorted(h.pop() for h in by_doc.values()).count(1) == 4  # 7 documents: 4 in half 1, 3 in half 2


def test_halves_of_a_small_set_follow_conversations() -> None:
    from bot.evaluate import assign_halves

    root = "How many robots did Acme ship?"
    qs = [
        Question(id="root", question=root, expected_sources=["acme.txt"]),
        Question(id="f1", question="And in April?", history=[root], expected_sources=["acme.txt"]),
        Question(id="f2", question="Why?", history=[{"role": "user", "content": root}, "And in April?"]),
        *[Question(id=f"s{i}", question=f"Standalone {i}?", expected_sources=["acme.txt"]) for i in range(5)],
        Question(id="other", question="Where is Borealis?", expected_sources=["borealis.txt"]),
    ]
    halves = assign_halves(qs)  # 2 documents: grouped by conversation, not by document
    assert halves["root"] == halves["f1"] == halves["f2"]
    roots = {q.id: (q.history[0] if isinstance(q.history[0], str) else q.history[0]["content"]) if q.history
             else q.question for q in qs}  # fmt: skip
    assert halves == _expected_halves(roots)
    assert len({halves[f"s{i}"] for i in range(5)}) == 2  # same document, different halves
    assert assign_halves(list(reversed(qs))) == halves


def test_project_and_thirdparty_sets_split_in_two() -> None:
    from bot.evaluate import assign_halves

    for path in (ROOT / "evals" / "seed_questions.jsonl", ROOT / "evals" / "thirdparty" / "coqa" / "questions.jsonl",
                 ROOT / "evals" / "thirdparty" / "boolq_dev" / "questions.jsonl"):  # fmt: skip
        qs = load_questions(path)
        halves = assign_halves(qs)
        assert set(halves.values()) == {1, 2}, path
        if "thirdparty" in str(path):  # by document: a story's conversation stays in one half
            docs: dict[str, set[int]] = {}
            for q in qs:
                docs.setdefault(q.expected_sources[0], set()).add(halves[q.id])
            assert all(len(h) == 1 for h in docs.values())
            assert abs(sum(h == {1} for h in docs.values()) - sum(h == {2} for h in docs.values())) <= 1


def test_run_eval_marks_halves_from_the_whole_set() -> None:
    from bot.evaluate import assign_halves

    qs = [Question(id=f"q{i}", question=f"How many robots in month {i}?", expected_sources=[f"d{i}.txt"])
          for i in range(8)]  # fmt: skip
    halves = assign_halves(qs)
    second = [q for q in qs if halves[q.id] == 2]
    result = run_eval(second, StubBot(), halves=halves)
    assert {i.half for i in result.items} == {2}
    assert set(result.summary["halves"]) == {"2"}
    # without the whole set's halves, a subset would be split again on its own
    assert {i.half for i in run_eval(second, StubBot()).items} == {1, 2}


# --------------------------------------------------------------------------- `bot eval` gates and --half


class TierBot:
    """Answers by the question: 'right', 'wrong', 'guess' (likely) or anything else (abstain)."""

    def ask(self, question: str, history: Any = (), engine: str | None = None) -> Answer:
        word = question.split()[0]
        if word == "right":
            return _said("sure", "1,200 robots [1].", "1,200 robots [1].", 0.9)
        if word == "wrong":
            return _said("sure", "950 robots [1].", "950 robots [1].", 0.8)
        if word == "guess":
            return _said("likely", f"Probably 1,200 robots [1] — the passage: {PASSAGE}.", "1,200 robots [1].", 0.6)
        return _said("abstain", ABSTAIN_TEXT, "1,200 robots [1].", 0.2)


def _eval_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, words: list[str], *flags: str) -> Any:
    from typer.testing import CliRunner

    import bot.cli

    path = tmp_path / "set.jsonl"
    path.write_text(_lines(*[{"id": f"{w}{i}", "question": f"{w} robots {i}?", "expected": "1,200",
                              "expected_sources": [f"doc{i}.txt"]} for i, w in enumerate(words)]),
                    encoding="utf-8")  # fmt: skip
    monkeypatch.setattr(bot.cli, "open_bot", lambda settings, quiet=False: TierBot())
    args = ["eval", str(path), "--docs", str(tmp_path), "--index", str(tmp_path / "index"), "-q"]
    return CliRunner().invoke(bot.cli.app, [*args, "--out", str(tmp_path / "out"), *flags])


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--min-precision", "0.5", "--max-wrong-rate", "0.25", "--min-right", "0.25"), None),
        (("--min-precision", "0.6"), "Precision 0.500 is below --min-precision 0.6."),
        (("--max-wrong-rate", "0.2"), "Wrong rate 0.250 is above --max-wrong-rate 0.2."),
        (("--min-right", "0.3"), "Right rate 0.250 is below --min-right 0.3."),
    ],
)
def test_cli_trust_gates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, flags: tuple[str, ...], message: Any) -> None:
    result = _eval_in_process(monkeypatch, tmp_path, ["right", "wrong", "guess", "none"], *flags)
    assert result.exit_code == (1 if message else 0), result.output
    assert "Right 1, wrong 1, abstained 2 of 4: precision 50.0%, coverage 50.0%, wrong rate 25.0%" in result.output
    if message:
        assert message in result.output and "Traceback" not in result.output


def test_cli_precision_gate_fails_a_bot_that_states_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = _eval_in_process(monkeypatch, tmp_path, ["none", "guess"], "--min-precision", "0.9")
    assert result.exit_code == 1
    assert "Precision n/a (nothing stated) is below --min-precision 0.9." in result.output
    loose = _eval_in_process(monkeypatch, tmp_path, ["none", "guess"], "--max-wrong-rate", "0", "--min-right", "0.1")
    assert loose.exit_code == 1 and "Right rate 0.000 is below --min-right 0.1." in loose.output
    assert "Wrong rate" not in loose.output.split("Report:")[-1]  # no wrong answer: that gate passes


def test_cli_half_asks_one_fixed_half(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bot.evaluate import assign_halves

    words = ["right", "wrong", "guess", "none", "right", "right"]
    both = _eval_in_process(monkeypatch, tmp_path, words)
    assert both.exit_code == 0 and "Half 1 (tuning)" in both.output and "Half 2 (held out)" in both.output
    halves = assign_halves(load_questions(tmp_path / "set.jsonl"))
    for half in (1, 2):
        result = _eval_in_process(monkeypatch, tmp_path, words, "--half", str(half))
        assert result.exit_code == 0, result.output
        records = [json.loads(x) for x in (tmp_path / "out" / "answers.jsonl").read_text().splitlines()]
        assert [r["id"] for r in records] == [qid for qid, h in halves.items() if h == half]
        assert {r["half"] for r in records} == {half}
        summary = json.loads((tmp_path / "out" / "summary.json").read_text())
        assert list(summary["halves"]) == [str(half)] and summary["questions"] == len(records)
    one_doc = tmp_path / "one.jsonl"
    one_doc.write_text(_lines({"id": "a", "question": "right robots?"}), encoding="utf-8")
    from typer.testing import CliRunner

    import bot.cli

    empty = CliRunner().invoke(bot.cli.app, ["eval", str(one_doc), "--half", "2", "-q", "--out", str(tmp_path / "o")])
    assert empty.exit_code == 2 and "no questions in half 2" in empty.output
