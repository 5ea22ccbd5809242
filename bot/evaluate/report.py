"""Summary and report: aggregate metrics, ``summary.json``, ``report.md`` and charts."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from bot.errors import InputError
from bot.evaluate.charts import draw as draw_charts
from bot.evaluate.trust import halves_summary, trust_summary


class EvalResult(Protocol):
    """What :func:`write_outputs` needs of a run (``bot.evaluate.runner.EvalResult``)."""

    items: list[Any]
    engine: str | None
    started: str
    seconds: float


_CORRECTNESS_CHECKS = ("refusal", "expected", "expected_any", "expected_all", "expected_none")


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
        questions without errors), per-check pass rates, a per-kind breakdown, ``trust`` (right / wrong /
        abstained, precision, coverage, tiers, risk-coverage, reliability: :func:`trust_summary`) and
        ``halves`` (the trust block of each half present, ``"1"`` tuning and ``"2"`` held out).

    """
    n = len(records)
    passed = sum(bool(r["passed"]) for r in records)
    f1s = [float(r["f1"]) for r in records if r.get("f1") is not None]
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
        k["own"] = k.get("own", 0) + bool(r.get("own_words"))
        if not r.get("error"):
            k["latencies"].append(float(r["latency_ms"]))
    by_kind = {
        name: {
            "n": k["n"],
            "passed": k["passed"],
            "score": k["passed"] / k["n"],
            "own_words": k.get("own", 0) / k["n"],
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
        "own_words": sum(bool(r.get("own_words")) for r in records) / n if n else 0.0,
        "quoted": sum(bool(r.get("quoted")) for r in records) / n if n else 0.0,
        "own_words_f1": sum(f1s) / len(f1s) if f1s else None,
        "f1_questions": len(f1s),
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
        "trust": trust_summary(records),
        "halves": halves_summary(records),
    }


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1%}" if pct else f"{value:,.0f}"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _turn_text(turn: Any) -> str:
    return turn if isinstance(turn, str) else f"{turn.get('role', 'user')}: {turn.get('content')}"


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _chance(rel: Mapping[str, Any]) -> str:
    """How the ECE compares with sampling noise: what a perfectly calibrated model would show on these claims."""
    c = rel.get("ece_if_calibrated")
    if not c:
        return ""
    return (f" - a perfectly calibrated model would show {_num(c['mean'])} on this many claims by chance "
            f"(90 % of draws below {_num(c['p90'])})")  # fmt: skip


def chance_cell(rel: Mapping[str, Any]) -> str:
    """A reliability block's chance ECE as a table cell: ``mean, p90`` (``n/a`` without claims)."""
    c = rel.get("ece_if_calibrated")
    return f"{_num(c['mean'])}, {_num(c['p90'])}" if c else "n/a"


def render_trust(summary: Mapping[str, Any]) -> list[str]:
    """The report's trust sections: right / wrong / abstained, per tier, per half, calibration."""
    t = summary["trust"]
    rc, rel = t["risk_coverage"], t["reliability"]
    lines = [
        "",
        "## Right, wrong, abstained",
        "",
        "| Right | Wrong | Abstained | Precision | Coverage | Wrong rate | Right rate | Refusal recall |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {t['right']} | {t['wrong']} | {t['abstained']} | {_fmt(t['precision'], True)} "
        f"| {_fmt(t['coverage'], True)} | {_fmt(t['wrong_rate'], True)} | {_fmt(t['right_rate'], True)} "
        f"| {_fmt(t['refusal_recall'], True)} |",
        "",
        "Right: a plainly stated answer whose own words hold the expected answer, or a refusal of an unanswerable "
        "question. Wrong: any other plainly stated answer. Abstained: a refusal, an abstention or a hedged "
        "(likely) guess. Precision = right / (right + wrong); coverage = (right + wrong) / all; wrong rate = "
        "wrong / all.",
    ]
    base = t.get("baseline")
    if base:
        lines += ["", f"Baseline: \"{base['answer']}\" to everything: {base['right']} right of {base['questions']} "
                  f"({base['rate']:.1%})."]  # fmt: skip
    lines += [
        "",
        f"Calibration: ECE {_num(rel['ece'])} over {rel['n']} answers with a claim (10 bins){_chance(rel)}; AURC "
        f"{_num(rc['aurc'])} (risk against coverage over all questions, lower is better); mean precision over "
        f"the risk-coverage curve {_num(rc['area'])}.",
        "",
        "### By tier",
        "",
        "| Tier | Answers | Share | With a claim | Claims right | Claim precision | Passage held it "
        "| Right | Wrong | Abstained |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, k in t["tiers"].items():
        lines.append(
            f"| {name} | {k['n']} | {_fmt(k['coverage'], True)} | {k['claims']} | {k['claim_right']} "
            f"| {_fmt(k['precision'], True)} | {k['passage_right']} | {k['right']} | {k['wrong']} | {k['abstained']} |"
        )
    halves = summary.get("halves") or {}
    if halves:
        lines += [
            "",
            "### By half (1: tuning, 2: held out)",
            "",
            "| Half | Questions | Right | Wrong | Abstained | Precision | Coverage | Wrong rate | ECE "
            "| ECE if calibrated (mean, p90) | AURC |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for half, h in halves.items():
            lines.append(
                f"| {half} | {h['questions']} | {h['right']} | {h['wrong']} | {h['abstained']} "
                f"| {_fmt(h['precision'], True)} | {_fmt(h['coverage'], True)} | {_fmt(h['wrong_rate'], True)} "
                f"| {_num(h['reliability']['ece'])} | {chance_cell(h['reliability'])} "
                f"| {_num(h['risk_coverage']['aurc'])} |"
            )
    return lines


def render_report(
    summary: Mapping[str, Any], records: Sequence[Mapping[str, Any]], charts: Sequence[str] = (), title: str = ""
) -> str:
    """Render the Markdown report: headline metrics, trust tables, per-kind table, charts, failures with answers."""
    s = summary
    ref, cs, rt, lat = s["refusal"], s["citation_support"], s["retrieval"], s["latency_ms"]
    f1 = "n/a" if s.get("own_words_f1") is None else format(s["own_words_f1"], ".3f")
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
        f"| Own words (the answer before any quote, source list or marker is right) | {s['own_words']:.1%} |",
        f"| Quoted (right anywhere, quoted passages included) | {s['quoted']:.1%} |",
        f"| Own-words token F1 against `gold` | {f1} ({s['f1_questions']} questions) |",
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
    ]
    lines += render_trust(s)
    lines += [
        "",
        "## By question kind",
        "",
        "| Kind | Questions | Passed | Score | Own words | p50 latency (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, k in s["by_kind"].items():
        lines.append(
            f"| {_md(kind)} | {k['n']} | {k['passed']} | {k['score']:.1%} | {k['own_words']:.1%} "
            f"| {_fmt(k['p50_ms'])} |"
        )
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
    charts = draw_charts(summary, latencies, out)
    (out / "report.md").write_text(render_report(summary, records, charts, title), encoding="utf-8")
    return summary
