"""Trust metrics: right / wrong / abstained, precision and coverage, tiers, risk-coverage and calibration.

Every graded answer has an outcome (:func:`classify`):

* **right** - a plainly stated (``sure``) answer whose own words hold the expected answer, or an abstention
  (a refusal) on an unanswerable question;
* **wrong** - any other ``sure`` answer: a wrong value, the wrong yes/no, an answer to an unanswerable question;
* **abstained** - a refusal or abstention on an answerable question, or a hedged ``likely`` guess (on any
  question); an engine error counts here too (no answer was given).

Precision is right / stated (stated = right + wrong), coverage stated / all, wrong rate wrong / all. Each
answer's ``claim`` (the short answer the engine found, even when it hedged or withheld it) is graded on its
own, so the guesses behind ``likely`` and ``abstain`` answers and the calibration of ``confidence`` can be
measured too (:func:`risk_coverage`, :func:`reliability`).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

TIERS = ("sure", "likely", "abstain")
"""How an answer is said, from :class:`bot.models.Answer`'s ``assertion``."""
BINS = 10
"""Equal-width confidence bins of the reliability diagram."""
CHANCE_DRAWS = 200
"""Simulated labelings behind :func:`chance_ece`."""
MAX_POINTS = 50
"""At most this many risk-coverage points are kept in ``summary.json``."""


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def assertion_of(answer: Any, refused: bool) -> str:
    """The tier an answer is said in: its ``assertion``; ``abstain`` when refused; ``sure`` when it has none."""
    if refused:
        return "abstain"
    said = getattr(answer, "assertion", None)
    return said if said in TIERS else "sure"


def classify(answerable: bool | None, assertion: str | None, own_right: bool) -> str:
    """The outcome of one answer: ``right``, ``wrong`` or ``abstained``.

    Args:
        answerable: The question's ``answerable`` (False: the right answer is a refusal; None: either).
        assertion: ``sure``, ``likely`` or ``abstain``; None when the engine raised (no answer).
        own_right: Whether the answer's own words are right (:func:`bot.evaluate.runner._correct`).

    Returns:
        ``right``, ``wrong`` or ``abstained`` (see the module docstring).

    """
    if assertion is None:
        return "abstained"
    if answerable is False:
        return {"abstain": "right", "sure": "wrong"}.get(assertion, "abstained")
    if assertion == "sure":
        return "right" if own_right else "wrong"
    return "abstained"


def _prefix_precisions(ranked: Sequence[tuple[Any, bool]]) -> tuple[list[float], list[tuple[Any, int, int]]]:
    """Precision of every prefix of a ranking, ties spread evenly; and the tie groups (key, prefix size, right).

    ``ranked`` is sorted best first by its key. Items with the same key cannot be told apart by a threshold,
    so inside a group of ties the right ones are counted as if spread evenly (the expected precision over
    every order of the ties): the curve does not depend on the order of the file.
    """
    precisions: list[float] = []
    groups: list[tuple[Any, int, int]] = []
    done = right = 0
    i = 0
    while i < len(ranked):
        key = ranked[i][0]
        j = i
        while j < len(ranked) and ranked[j][0] == key:
            j += 1
        size, good = j - i, sum(ok for _, ok in ranked[i:j])
        precisions.extend((right + good * step / size) / (done + step) for step in range(1, size + 1))
        done, right = done + size, right + good
        groups.append((key, done, right))
        i = j
    return precisions, groups


def _thin(points: list[dict[str, Any]], limit: int = MAX_POINTS) -> list[dict[str, Any]]:
    if len(points) <= limit:
        return points
    keep = sorted({round(i * (len(points) - 1) / (limit - 1)) for i in range(limit)})
    return [points[i] for i in keep]


def risk_coverage(items: Iterable[tuple[float, bool, bool]], total: int | None = None) -> dict[str, Any]:
    """The risk-coverage curve of answering only above a confidence threshold.

    Answers with a claim are sorted by confidence, highest first; each prefix (every threshold) has a
    coverage (prefix size / all questions) and a precision (claims right / prefix size). Answers without a
    claim are never answered. Ties share one point (see :func:`_prefix_precisions`).

    Args:
        items: One ``(confidence, has_claim, claim_right)`` per question (claim_right False without a claim
            or on an unanswerable question).
        total: All questions (default: the number of items).

    Returns:
        ``points`` (one per distinct confidence, thinned to :data:`MAX_POINTS`: confidence, n, coverage,
        precision), ``area`` (mean precision over the prefixes = the area under precision against coverage
        divided by the largest coverage reached; None without claims) and ``aurc`` (the standard area under
        the risk-coverage curve over all questions, risk = 1 - precision, lower is better: every question
        ranked by confidence with those without a claim last as not right, the mean risk over its prefixes;
        None without questions).

    """
    rows = list(items)
    n = len(rows) if total is None else total
    answered = sorted(((float(c), bool(ok)) for c, has, ok in rows if has), key=lambda p: -p[0])
    precisions, groups = _prefix_precisions(answered)
    points = [
        {"confidence": round(c, 4), "n": k, "coverage": round(k / n, 4), "precision": round(r / k, 4)}
        for c, k, r in groups
    ]
    everything = sorted((((bool(has), float(c)), bool(has and ok)) for c, has, ok in rows), key=lambda p: p[0])
    all_precisions, _ = _prefix_precisions(everything[::-1])
    return {
        "points": _thin(points),
        "area": _ratio(sum(precisions), len(precisions)),
        "aurc": _ratio(sum(1 - p for p in all_precisions), len(all_precisions)),
    }


def reliability(pairs: Iterable[tuple[float, bool]], bins: int = BINS) -> dict[str, Any]:
    """Reliability diagram and expected calibration error of claims.

    Args:
        pairs: One ``(confidence, claim_right)`` per answer with a claim.
        bins: Number of equal-width confidence bins over [0, 1] (a confidence of 1 falls in the last).

    Returns:
        ``bins`` (lo, hi, n, mean ``confidence``, ``accuracy`` of the claims; None when empty), ``n``,
        ``ece`` = Σ n_b / N · |accuracy_b - confidence_b| (None without claims) and ``ece_if_calibrated``
        (:func:`chance_ece`: what a perfectly calibrated model would show on these claims; None without claims).

    """
    rows = [(float(c), bool(ok)) for c, ok in pairs]
    return {**_reliability(rows, bins), "ece_if_calibrated": chance_ece([c for c, _ in rows], bins)}


def chance_ece(confidences: Sequence[float], bins: int = BINS, draws: int = CHANCE_DRAWS) -> dict[str, float] | None:
    """The ECE a perfectly calibrated model would show on this many claims, from sampling noise alone.

    On a few dozen claims the ECE of even a calibrated model is far from 0 (on 30 claims spread over the
    bins it is about 0.15), so a set's ECE means little without this yardstick. Each draw labels every claim
    right with probability equal to its confidence; the draws are seeded, so the figures are reproducible.

    Returns:
        ``mean`` and ``p90`` (the 90th percentile) of the ECE over the draws; None without claims.

    """
    if not confidences:
        return None
    rng = random.Random(0)
    values = sorted(_reliability([(c, rng.random() < c) for c in confidences], bins)["ece"] for _ in range(draws))
    return {"mean": sum(values) / draws, "p90": values[min(draws - 1, int(0.9 * draws))]}


def _reliability(rows: list[tuple[float, bool]], bins: int) -> dict[str, Any]:
    filled: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for c, ok in rows:
        filled[min(max(int(c * bins), 0), bins - 1)].append((c, ok))
    out = []
    ece = 0.0
    for b, members in enumerate(filled):
        conf = _ratio(sum(c for c, _ in members), len(members))
        acc = _ratio(sum(ok for _, ok in members), len(members))
        if conf is not None and acc is not None:
            ece += len(members) / len(rows) * abs(acc - conf)
        out.append({"lo": b / bins, "hi": (b + 1) / bins, "n": len(members), "confidence": conf, "accuracy": acc})
    return {"bins": out, "n": len(rows), "ece": ece if rows else None}


def majority_baseline(records: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The trivial baseline of a yes/no set: the most common ``gold`` answer given to every question.

    Returns:
        ``answer`` (yes or no), ``right`` and ``rate`` (of all questions); None unless every question has a
        ``gold`` of yes or no.

    """
    labels = []
    for r in records:
        gold = r.get("gold") or []
        label = str(gold[0]).strip().strip(".!").lower() if gold else ""
        if label not in ("yes", "no"):
            return None
        labels.append(label)
    if not labels:
        return None
    answer, right = max(sorted(Counter(labels).items()), key=lambda kv: kv[1])
    return {"answer": answer, "right": right, "questions": len(labels), "rate": right / len(labels)}


def _tier(rows: Sequence[Mapping[str, Any]], total: int) -> dict[str, Any]:
    claims = [r for r in rows if r.get("claim") is not None]
    claim_right = sum(bool(r.get("claim_right")) for r in claims)
    outcomes = Counter(r.get("outcome") for r in rows)
    return {
        "n": len(rows),
        "coverage": _ratio(len(rows), total),
        "claims": len(claims),
        "claim_right": claim_right,
        "precision": _ratio(claim_right, len(claims)),
        "passage_right": sum(bool(r.get("passage_right")) for r in rows),
        "right": outcomes["right"],
        "wrong": outcomes["wrong"],
        "abstained": len(rows) - outcomes["right"] - outcomes["wrong"],
    }


def trust_summary(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The trust block of ``summary.json`` over ``answers.jsonl`` records.

    Returns:
        ``questions``; ``right``, ``wrong``, ``abstained`` and ``stated`` (right + wrong); ``precision``
        (right / stated), ``coverage`` (stated / all), ``wrong_rate`` (wrong / all), ``right_rate``
        (right / all); ``refusal_recall`` (unanswerable questions refused / unanswerable questions); ``tiers``
        (per assertion: n, coverage = n / all, claims, claim_right, claim precision, passage_right = the
        quoted passages hold the answer, and the outcomes); ``risk_coverage`` (:func:`risk_coverage`);
        ``reliability`` (:func:`reliability`); and ``baseline`` (:func:`majority_baseline`) for a yes/no set.
        Ratios are None when their denominator is 0. A record without an outcome counts as abstained.

    """
    n = len(records)
    outcomes = Counter(r.get("outcome") for r in records)
    right, wrong = outcomes["right"], outcomes["wrong"]
    unanswerable = [r for r in records if r.get("answerable") is False]
    refused = sum(
        not r.get("error") and (bool(r.get("refused")) or r.get("assertion") == "abstain") for r in unanswerable
    )
    items = [
        (float(r.get("confidence") or 0.0), r.get("claim") is not None, bool(r.get("claim_right"))) for r in records
    ]
    out: dict[str, Any] = {
        "questions": n,
        "right": right,
        "wrong": wrong,
        "abstained": n - right - wrong,
        "stated": right + wrong,
        "precision": _ratio(right, right + wrong),
        "coverage": _ratio(right + wrong, n),
        "wrong_rate": _ratio(wrong, n),
        "right_rate": _ratio(right, n),
        "refusal_recall": _ratio(refused, len(unanswerable)),
        "tiers": {t: _tier([r for r in records if r.get("assertion") == t], n) for t in TIERS},
        "risk_coverage": risk_coverage(items, n),
        "reliability": reliability((c, ok) for c, has, ok in items if has),
    }
    baseline = majority_baseline(records)
    if baseline is not None:
        out["baseline"] = baseline
    return out


def halves_summary(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The trust block of each half present in the records (``"1"``: tuning, ``"2"``: held out)."""
    out = {}
    for half in (1, 2):
        rows = [r for r in records if r.get("half") == half]
        if rows:
            out[str(half)] = trust_summary(rows)
    return out
