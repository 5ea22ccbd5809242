"""Train the confidence model: ``python -m bot.verdict.train`` (collect, then fit).

1. **collect** - ask every question of the training sets with the grounded engine and a neutral model,
   and write one row per question to ``bot/verdict/training_data.jsonl``: the set, the question id, its
   document (the group), its half (:mod:`bot.evaluate.halves`), the features and whether the engine's
   claim is right (graded like ``bot eval`` grades own words). About three minutes on two cores, most of it
   indexing the corpora.
2. **fit** - read those rows, keep the **first half** of every set (the tuning half; the second half is
   held out for reporting), choose the regularisation by cross-validation with folds grouped by document
   (scikit-learn's ``GroupKFold``), fit a logistic regression on all first-half rows and write
   ``bot/verdict/model.json`` with its feature list, version, training command, data and scores.

Fitting is deterministic: the same rows give the same file (tests check this). ``fit`` needs
scikit-learn (the ``test`` extra); answering never does.

    python -m bot.verdict.train                 # collect + fit
    python -m bot.verdict.train fit             # refit from the saved rows
    python -m bot.verdict.train collect --sets seed batteries
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.verdict.features import FEATURES
from bot.verdict.model import CAP_RULES, FORMAT, MODEL_PATH

ROOT = Path(__file__).resolve().parents[2]
DATA_PATH = Path(__file__).with_name("training_data.jsonl")
VERSION = "2026-12-07.1"
COMMAND = "python -m bot.verdict.train"
SETS: dict[str, tuple[str, str]] = {
    "squadshifts_nyt": ("evals/thirdparty/squadshifts_nyt/questions.jsonl", "evals/thirdparty/squadshifts_nyt/corpus"),
    "coqa": ("evals/thirdparty/coqa/questions.jsonl", "evals/thirdparty/coqa/corpus"),
    "drop_dev": ("evals/thirdparty/drop_dev/questions.jsonl", "evals/thirdparty/drop_dev/corpus"),
    "boolq_dev": ("evals/thirdparty/boolq_dev/questions.jsonl", "evals/thirdparty/boolq_dev/corpus"),
    "seed": ("evals/seed_questions.jsonl", "seeds"),
    "batteries": ("evals/batteries_questions.jsonl", "evals/corpus_batteries"),
}
"""The training sets (question file, documents), relative to the repository root."""


@dataclass(frozen=True)
class Spec:
    """What one confidence model is trained from: its features, files, engine and the bot attribute it sets."""

    features: tuple[str, ...]
    data: Path
    model: Path
    command: str
    engine: str
    attr: str  # the Bot attribute that holds this model (set to a neutral model while collecting)
    caps: dict[str, Any] = field(default_factory=dict)
    keep: Any = None  # rows (features by name) the model ever sees at answer time; None: all


GROUNDED = Spec(FEATURES, DATA_PATH, MODEL_PATH, COMMAND, "grounded", "confidence_model", CAP_RULES)
"""The grounded engine's model (``model.json``)."""
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
"""Inverse regularisation strengths tried by cross-validation."""
FOLDS = 5


# -- collect ----------------------------------------------------------------------------------------
def spread(items: list[Any], limit: int | None) -> list[Any]:
    """At most ``limit`` of ``items``, every k-th in order (all of them when ``limit`` is None or not reached)."""
    if limit is None or len(items) <= limit:
        return items
    return items[:: -(-len(items) // limit)]  # ceil(len / limit) as the step


def collect_set(
    name: str,
    work: Path,
    quiet: bool = False,
    reports: Path | None = None,
    spec: Spec = GROUNDED,
    half: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Ask one set's questions with the spec's engine and return its training rows (and write its report).

    ``limit`` keeps at most that many of the (half's) questions, evenly spread over the file (every k-th), so
    a slow engine can be collected on a fixed, reproducible sample that still spans many documents.
    """
    from bot.evaluate.halves import MIN_DOCUMENTS, assign_halves, group_key
    from bot.evaluate.questions import load_questions
    from bot.evaluate.runner import run_eval
    from bot.service import Bot
    from bot.settings import load_settings
    from bot.verdict.model import ConfidenceModel

    qfile, docs = SETS[name]
    questions = load_questions(ROOT / qfile)
    settings = load_settings(docs_dir=ROOT / docs, index_dir=work / f"idx-{name}", llm=spec.engine)
    bot = Bot.open(settings)
    n = len(spec.features)
    neutral = ConfidenceModel("neutral", spec.features, (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0)
    setattr(bot, spec.attr, neutral)  # the features do not depend on the model; the labels grade the claim
    halves = assign_halves(questions)
    if half is not None:
        questions = [q for q in questions if halves[q.id] == half]
    questions = spread(questions, limit)
    by_document = len({q.expected_sources[0] for q in questions if q.expected_sources}) >= MIN_DOCUMENTS
    rows = []
    result = run_eval(questions, bot, engine=spec.engine)
    if reports is not None:
        from bot.evaluate.report import write_outputs

        write_outputs(result, reports / name, title=f"{name} (training run, neutral model)")
    for item in result.items:
        q = item.question
        signals = item.signals
        right = item.claim_right
        if right is None or not signals or not any(f in signals for f in spec.features):
            continue  # nothing claimed (refused, an error), or answered without this model (auto: grounded alone)
        rows.append(
            {
                "set": name,
                "id": q.id,
                "group": group_key(q, by_document),
                "half": halves[q.id],
                "right": int(right),
                "features": [signals.get(f, 0.0) for f in spec.features],
            }
        )
    if not quiet:
        print(f"{name}: {len(rows)} claims of {len(questions)} questions", file=sys.stderr)
    return rows


def collect(
    sets: Sequence[str],
    out: Path = DATA_PATH,
    work: Path | None = None,
    quiet: bool = False,
    reports: Path | None = None,
    spec: Spec = GROUNDED,
    half: int | None = None,
    limit: int | None = None,
) -> int:
    """Collect the rows of some sets into ``out`` (rows of other sets already there are kept)."""
    kept: list[dict[str, Any]] = []
    if out.exists() and set(sets) != set(SETS):
        kept = [r for r in _read_rows(out, spec.features) if r["set"] not in sets]  # other sets' rows stay
    with tempfile.TemporaryDirectory(prefix="verdict-") as tmp:
        base = work or Path(tmp)
        rows = [r for name in sets for r in collect_set(name, base, quiet, reports, spec, half, limit)]
    allrows = sorted(kept + rows, key=lambda r: (list(SETS).index(r["set"]), r["id"]))
    with out.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"features": list(spec.features)}) + "\n")
        for r in allrows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(rows)


def _read_rows(path: Path, features: tuple[str, ...] = FEATURES) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    if header.get("features") != list(features):
        raise SystemExit(f"{path} was collected for other features; run its training command's collect again.")
    return [json.loads(line) for line in lines[1:] if line.strip()]


# -- fit --------------------------------------------------------------------------------------------
def _ece(p: Sequence[float], y: Sequence[int], bins: int = 10) -> float:
    """Expected calibration error over equal-width bins."""
    total, err = len(p), 0.0
    for b in range(bins):
        idx = [i for i, v in enumerate(p) if (b / bins <= v < (b + 1) / bins) or (b == bins - 1 and v == 1.0)]
        if idx:
            conf = sum(p[i] for i in idx) / len(idx)
            acc = sum(y[i] for i in idx) / len(idx)
            err += len(idx) / total * abs(acc - conf)
    return err


def fit(data: Path = DATA_PATH, out: Path = MODEL_PATH, half: int = 1, spec: Spec = GROUNDED) -> dict[str, Any]:
    """Fit the model on one half of the collected rows and write it; returns the written JSON."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    rows = [r for r in _read_rows(data, spec.features) if r["half"] == half]
    if spec.keep is not None:
        rows = [r for r in rows if spec.keep(dict(zip(spec.features, r["features"], strict=True)))]
    x = np.array([r["features"] for r in rows], dtype=float)
    y = np.array([r["right"] for r in rows], dtype=int)
    groups = np.array([f"{r['set']}:{r['group']}" for r in rows])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    folds = list(GroupKFold(n_splits=FOLDS).split(z, y, groups))
    best: tuple[float, float, list[float]] | None = None
    for c in C_GRID:
        oof = np.zeros(len(y))
        for train, test in folds:
            m = LogisticRegression(C=c, max_iter=2000).fit(z[train], y[train])
            oof[test] = m.predict_proba(z[test])[:, 1]
        loss = float(-np.mean(y * np.log(oof + 1e-9) + (1 - y) * np.log(1 - oof + 1e-9)))
        if best is None or loss < best[0]:
            best = (loss, c, oof.tolist())
    assert best is not None
    loss, c, oof = best
    model = LogisticRegression(C=c, max_iter=2000).fit(z, y)
    caps = {}
    for rule, marks in spec.caps.items():  # the right rate of the claims a rule marks, on the tuning half
        idx = [i for i, r in enumerate(rows) if marks(dict(zip(spec.features, r["features"], strict=True)))]
        if idx:
            caps[rule] = round(sum(int(y[i]) for i in idx) / len(idx), 4)
    by_set = {}
    for name in SETS:
        idx = [i for i, r in enumerate(rows) if r["set"] == name]
        if idx:
            ys, ps = [int(y[i]) for i in idx], [oof[i] for i in idx]
            by_set[name] = {
                "rows": len(idx),
                "right": sum(ys),
                "auroc": round(float(roc_auc_score(ys, ps)), 4) if 0 < sum(ys) < len(ys) else None,
                "ece": round(_ece(ps, ys), 4),
            }
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "features": list(spec.features),
        "mean": [round(float(v), 8) for v in mean],
        "scale": [round(float(v), 8) for v in scale],
        "coef": [round(float(v), 8) for v in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 8),
        "caps": caps,
        "training": {
            "command": spec.command,
            "data": str(data.relative_to(ROOT)) if data.is_relative_to(ROOT) else str(data),
            "data_sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
            "sets": list(SETS),
            "half": half,
            "rows": len(rows),
            "C": c,
            "cross_validation": {
                "folds": FOLDS,
                "grouped_by": "document",
                "log_loss": round(loss, 4),
                "auroc": round(float(roc_auc_score(y, oof)), 4),
                "ece": round(_ece(oof, y.tolist()), 4),
                "by_set": by_set,
            },
        },
    }
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return doc


def main(argv: Sequence[str] | None = None, spec: Spec = GROUNDED) -> int:
    """The training command (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog=spec.command,
        description=f"Collect training rows and fit the confidence model ({spec.model.name}).",
        epilog=f"Examples:\n  {spec.command}\n  {spec.command} fit\n  {spec.command} collect --sets seed batteries",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("step", nargs="?", choices=("all", "collect", "fit"), default="all")
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS), help="sets to collect")
    parser.add_argument("--half", type=int, choices=(1, 2), default=None, help="collect only this half")
    parser.add_argument("--limit", type=int, default=None, help="at most this many questions per set (every k-th)")
    parser.add_argument("--data", type=Path, default=spec.data, help="training rows (JSON lines)")
    parser.add_argument("--out", type=Path, default=spec.model, help="model file to write")
    parser.add_argument("--work", type=Path, default=None, help="folder for the indexes (default: a temp folder)")
    parser.add_argument("--reports", type=Path, default=None, help="also write each set's bot eval report here")
    args = parser.parse_args(argv)
    if args.step in ("all", "collect"):
        collect(args.sets, args.data, args.work, reports=args.reports, spec=spec, half=args.half, limit=args.limit)
    if args.step in ("all", "fit"):
        doc = fit(args.data, args.out, spec=spec)
        cv = doc["training"]["cross_validation"]
        print(f"wrote {args.out}: {doc['training']['rows']} rows, C={doc['training']['C']}, "
              f"out-of-fold AUROC {cv['auroc']}, ECE {cv['ece']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
