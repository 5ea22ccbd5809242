"""Engine comparison: ``grounded``, ``local`` and ``auto`` (and, by flag, the tutorial baselines) on one fixed sample.

The sample is drawn once, deterministically, from six question sets: the four third-party sets
(``squadshifts_nyt``, ``coqa``, ``drop_dev``, ``boolq_dev``; see ``evals/thirdparty/README.md``), the seed set
(``evals/seed_questions.jsonl`` over ``seeds/``) and the batteries set (``evals/batteries_questions.jsonl``
over ``evals/corpus_batteries``): ``--per-set`` questions of each (default 40; a smaller set is taken whole),
the unanswerable ones first, up to ``--refusals`` per set, so refusals are measured too; kept in file order.
Every engine answers the same questions over the same documents, one index per set, and each answer is
graded by :func:`bot.evaluate.grade` and counted by :mod:`bot.evaluate.trust`.

Engines (``bench/eval_engines.py``):

* ``grounded`` - no generative model;
* ``local`` - the bundled Qwen2.5-Coder-1.5B reading the grounded engine's evidence, checked;
* ``auto`` - the grounded answer and the reader's reply checked against each other (its combined confidence
  model ``bot/verdict/model_auto.json``; a neutral stand-in, said in the report, while the file is missing);
* ``baseline`` / ``baseline-qwen`` - the LangChain RAG tutorial with SmolLM2-135M / the bundled Qwen;
* ``local-tools`` - the bundled model retrieving and calling ``find_quantity``/``calculate`` itself.

Reported per set and engine, and over all sets (``bench/eval_tables.py``): right / wrong / abstained and
precision (right / stated); per tier (sure, likely, abstain) the answers, their right claims and precision;
wrong answers stated as sure, of all questions; first-token and total latency p50 / p95; and for ``auto``
the answers taken on the grounded path alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine_info, release_chroma, run_header, write_section
from eval_engines import DEFAULT_ENGINES, ENGINES, auto_model_note, engine_arg, make_asker
from eval_tables import LEGEND, Row, render

EXAMPLES = """examples:
  python bench/bench_eval.py                         # 40 questions of each of the 6 sets; grounded, local, auto
  python bench/bench_eval.py --per-set 2 --sets seed,coqa          # a quick look (2 questions of 2 sets)
  python bench/bench_eval.py --engines grounded,auto --answers out/auto.jsonl   # keep every graded answer
  python bench/bench_eval.py --engines baseline,baseline-qwen,grounded,local   # the tutorial baselines too
  python bench/bench_eval.py --evalsets ../shared/evalsets --write  # other copies of the sets; rewrite the docs
"""

THIRD_PARTY = ("squadshifts_nyt", "coqa", "drop_dev", "boolq_dev")
SETS = (*THIRD_PARTY, "seed", "batteries")
SEED_OFFSET = {"squadshifts_nyt": 0, "coqa": 1, "drop_dev": 2, "seed": 3, "boolq_dev": 4, "batteries": 5}
"""Each set's sample is drawn with ``--seed`` plus its offset (fixed per set, so adding a set changes no other)."""


@dataclass
class Sample:
    """The questions of one set and where its documents are."""

    name: str
    docs: Path
    questions: list[Any] = field(default_factory=list)
    total: int = 0
    halves: dict[str, int] = field(default_factory=dict)


def pick(questions: list[Any], n: int, refusals: int, seed: int) -> list[Any]:
    """``n`` questions: up to ``refusals`` unanswerable ones, the rest drawn at random; kept in file order."""
    rng = random.Random(seed)
    unanswerable = [i for i, q in enumerate(questions) if q.answerable is False]
    chosen = set(rng.sample(unanswerable, min(refusals, len(unanswerable), n)))
    rest = [i for i in range(len(questions)) if i not in chosen]
    chosen |= set(rng.sample(rest, min(n - len(chosen), len(rest))))
    return [questions[i] for i in sorted(chosen)]


def set_files(args: argparse.Namespace) -> dict[str, tuple[Path, Path]]:
    """Each set's question file and document folder."""
    files = {name: (args.evalsets / name / "questions.jsonl", args.evalsets / name / "corpus") for name in THIRD_PARTY}
    files["seed"] = (args.seed_set, args.seed_docs)
    files["batteries"] = (args.batteries_set, args.batteries_docs)
    return files


def load_samples(args: argparse.Namespace) -> list[Sample]:
    """The fixed sample of every chosen set (the halves of the whole set are kept for the answers file)."""
    from bot.evaluate import load_questions
    from bot.evaluate.halves import assign_halves

    out = []
    for name, (qfile, docs) in set_files(args).items():
        if args.sets and name not in args.sets:
            continue
        if not qfile.is_file() or not docs.is_dir():
            raise SystemExit(f"missing question set {qfile} or corpus {docs} (see --evalsets, --seed-set, ...)")
        questions = load_questions(qfile)
        chosen = pick(questions, args.per_set, args.refusals, args.seed + SEED_OFFSET[name])
        out.append(Sample(name, docs, chosen, len(questions), assign_halves(questions)))
    return out


def ask(asker: Any, q: Any, engine: str | None) -> tuple[Any, float, float]:
    """Stream one answer; return it with the seconds to its first text (the final answer if none came before)."""
    from bot.models import Answer

    t0 = time.perf_counter()
    first = None
    final = None
    for piece in asker.stream(q.question, q.history, engine=engine):
        if isinstance(piece, Answer):
            final = piece
        elif piece and first is None:
            first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    if final is None:
        raise RuntimeError("the engine ended without an answer")
    return final, total if first is None else first, total


def run_set(sample: Sample, engines: Sequence[str], work: Path) -> tuple[list[Row], str | None]:
    """Every engine on one set's sample, one engine after the other; and which ``auto`` model answered."""
    from bot.evaluate import grade
    from bot.evaluate.runner import ItemResult
    from bot.service import Bot
    from bot.settings import Settings

    bot = Bot.open(Settings(docs_dir=sample.docs, index_dir=work / "index", collection="bench_eval"))
    auto_note = auto_model_note(bot) if "auto" in engines else None
    rows: list[Row] = []
    for engine in engines:
        asker = make_asker(engine, bot, sample.docs, work)
        for i, q in enumerate(sample.questions, 1):
            print(f"\r  {sample.name}/{engine}: {i}/{len(sample.questions)}", end="", file=sys.stderr, flush=True)
            try:
                answer, first, total = ask(asker, q, engine_arg(engine))
                item = grade(q, answer)
                row = Row(sample.name, engine, item, answer.engine, first, total)
            except Exception as exc:  # one broken question must not stop the run
                error = f"{type(exc).__name__}: {exc}"
                row = Row(sample.name, engine, ItemResult(question=q, error=error), "", None, 0.0, error)
            row.item.half = sample.halves.get(q.id)
            rows.append(row)
        print(file=sys.stderr)
    release_chroma()
    return rows, auto_note


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        prog="python bench/bench_eval.py",
        description=__doc__,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--evalsets", type=Path, default=ROOT / "evals" / "thirdparty",
                   help=f"folder with {'/, '.join(THIRD_PARTY)}/ (default evals/thirdparty)")  # fmt: skip
    p.add_argument("--seed-set", type=Path, default=ROOT / "evals" / "seed_questions.jsonl", help="the seed set")
    p.add_argument("--seed-docs", type=Path, default=ROOT / "seeds", help="its documents (default seeds/)")
    p.add_argument("--batteries-set", type=Path, default=ROOT / "evals" / "batteries_questions.jsonl",
                   help="the batteries set")  # fmt: skip
    p.add_argument("--batteries-docs", type=Path, default=ROOT / "evals" / "corpus_batteries",
                   help="its documents (default evals/corpus_batteries)")  # fmt: skip
    p.add_argument("--per-set", type=int, default=40,
                   help="questions drawn from each set (default 40; batteries has 37: all)")  # fmt: skip
    p.add_argument("--refusals", type=int, default=3, help="unanswerable questions per set, when it has some")
    p.add_argument("--seed", type=int, default=11, help="random seed of the sample (fixed: the same sample each run)")
    engines_help = f"comma-separated, from {', '.join(ENGINES)} (default {','.join(DEFAULT_ENGINES)})"
    p.add_argument("--engines", default=",".join(DEFAULT_ENGINES), help=engines_help)
    p.add_argument("--sets", default="", help=f"only these sets, comma-separated, from {', '.join(SETS)}")
    p.add_argument("--answers", type=Path, help="also write every graded answer to this JSONL file")
    p.add_argument("--write", action="store_true", help="rewrite the bench_eval section of docs/benchmarks.md")
    args = p.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in args.engines:
        if e not in ENGINES:
            p.error(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    for s in args.sets:
        if s not in SETS:
            p.error(f"unknown set {s!r}; choose from {', '.join(SETS)}")
    if args.per_set < 1:
        p.error("--per-set must be at least 1")
    return args


def write_answers(path: Path, rows: Sequence[Row]) -> None:
    """One JSON line per graded answer (see :meth:`eval_tables.Row.record`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r.record(), ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the engines on the sample; print (and optionally write) the tables."""
    args = parse_args(argv)
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(key, "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    samples = load_samples(args)
    load = os.getloadavg()
    t0 = time.perf_counter()
    rows: list[Row] = []
    auto_notes: set[str] = set()
    for sample in samples:
        work = Path(tempfile.mkdtemp(prefix=f"bench_eval_{sample.name}_"))
        try:
            got, auto_note = run_set(sample, args.engines, work)
            rows += got
            auto_notes |= {auto_note} if auto_note else set()
        finally:
            release_chroma()
            shutil.rmtree(work, ignore_errors=True)
    minutes = (time.perf_counter() - t0) / 60
    load_after = os.getloadavg()
    tables = render(rows, [s.name for s in samples], args.engines)
    sizes = ", ".join(f"{s.name} {len(s.questions)} of {s.total}" for s in samples)
    note = (
        f"Sample: {sizes} (seed {args.seed}; up to {args.refusals} unanswerable per set). "
        + (f"`auto` confidence model: {'; '.join(sorted(auto_notes))}. " if auto_notes else "")
        + f"Wall time {minutes:.0f} min; load average {load[0]:.1f} before, {load_after[0]:.1f} after "
        "(other jobs may share the cores)."
    )
    print(tables)
    print()
    print(note)
    if args.answers:
        write_answers(args.answers, rows)
        print(f"\nwrote {len(rows)} answers to {args.answers}", file=sys.stderr)
    if args.write:
        body = "\n".join(
            ["## Engines compared: right, wrong, tiers, latency (`bench/bench_eval.py`)", "",
             *run_header(machine_info()), "", note, "", tables, "", LEGEND]
        )  # fmt: skip
        write_section("bench_eval", body)
        print("\nwrote the bench_eval section of docs/benchmarks.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
