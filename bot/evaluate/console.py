"""What ``bot eval`` prints after a run, and its gates: plain lines from a summary (``summary.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def pct(value: float | None) -> str:
    """A share as a percentage, ``n/a`` when there is none."""
    return "n/a" if value is None else f"{value:.1%}"


def summary_lines(s: Mapping[str, Any], engine: str) -> list[str]:
    """The run's headline figures, one line each: scores, refusals, latency, right / wrong / abstained, halves."""
    ref, cs, rt, lat = s["refusal"], s["citation_support"], s["retrieval"], s["latency_ms"]
    out = [
        f"Score: {s['passed']}/{s['questions']} = {s['score']:.1%} (engine {engine})",
        f"Correctness: {pct(s['correctness'])}; errors: {s['errors']}",
    ]
    f1 = "n/a" if s["own_words_f1"] is None else f"{s['own_words_f1']:.3f}"
    out.append(f"Own words: {pct(s['own_words'])}; quoted: {pct(s['quoted'])}; own-words F1: {f1}")
    out.append(
        f"Refusals: precision {pct(ref['precision'])} ({ref['true_refusals']}/{ref['refused']}), "
        f"recall {pct(ref['recall'])} ({ref['true_refusals']}/{ref['expected']})"
    )
    out.append(f"Answers with unsupported numbers: {cs['unsupported_answers']} of {cs['answers']}")
    mrr = "n/a" if rt["mrr"] is None else f"{rt['mrr']:.3f}"
    out.append(f"Retrieval: hit rate {pct(rt['hit_rate'])} ({rt['hits']}/{rt['questions']}), MRR {mrr}")
    if lat["p50"] is not None:
        out.append(f"Latency: p50 {lat['p50']:,.0f} ms, p95 {lat['p95']:,.0f} ms")
    t = s["trust"]
    rel = t["reliability"]
    ece = "n/a" if rel["ece"] is None else f"{rel['ece']:.3f}"
    if rel.get("ece_if_calibrated"):
        ece += f" (a calibrated model: {rel['ece_if_calibrated']['mean']:.3f} by chance)"
    out.append(
        f"Right {t['right']}, wrong {t['wrong']}, abstained {t['abstained']} of {t['questions']}: "
        f"precision {pct(t['precision'])}, coverage {pct(t['coverage'])}, wrong rate {pct(t['wrong_rate'])}, "
        f"right rate {pct(t['right_rate'])}; ECE {ece}"
    )
    if t.get("baseline"):
        b = t["baseline"]
        out.append(f'Baseline: "{b["answer"]}" to everything: {b["right"]} right of {b["questions"]}')
    for name, h in s["halves"].items():
        label = "tuning" if name == "1" else "held out"
        out.append(
            f"Half {name} ({label}): right {h['right']}, wrong {h['wrong']}, abstained {h['abstained']}; "
            f"precision {pct(h['precision'])}, coverage {pct(h['coverage'])}, wrong rate {pct(h['wrong_rate'])}"
        )
    return out


def gate_failures(
    s: Mapping[str, Any],
    *,
    min_score: float | None = None,
    min_own_words: float | None = None,
    min_precision: float | None = None,
    max_wrong_rate: float | None = None,
    min_right: float | None = None,
) -> list[str]:
    """One message per gate the run fails (none set, none failed: an empty list)."""
    t = s["trust"]
    failed = []
    if min_score is not None and s["score"] < min_score:
        failed.append(f"Score {s['score']:.3f} is below --min-score {min_score:g}.")
    if min_own_words is not None and s["own_words"] < min_own_words:
        failed.append(f"Own-words score {s['own_words']:.3f} is below --min-own-words {min_own_words:g}.")
    if min_precision is not None and (t["precision"] is None or t["precision"] < min_precision):
        got = "n/a (nothing stated)" if t["precision"] is None else f"{t['precision']:.3f}"
        failed.append(f"Precision {got} is below --min-precision {min_precision:g}.")
    if max_wrong_rate is not None and (t["wrong_rate"] or 0.0) > max_wrong_rate:
        failed.append(f"Wrong rate {t['wrong_rate']:.3f} is above --max-wrong-rate {max_wrong_rate:g}.")
    if min_right is not None and (t["right_rate"] or 0.0) < min_right:
        failed.append(f"Right rate {t['right_rate'] or 0.0:.3f} is below --min-right {min_right:g}.")
    return failed
