"""Answer quality on every question set, in one run: right / wrong / abstained per half, calibration, own words.

The third-party sets (``evals/thirdparty``: news, conversations, arithmetic over text, yes/no) measure the
engine on text nobody on the project wrote; the project's own sets (seed article, batteries) are
reported beside them. Each set is asked through ``bot.evaluate.run_eval`` (follow-ups get the bot's
own earlier answers), exactly as ``bot eval`` does, and reported per fixed half (half 1 tunes rules,
thresholds and the confidence model; half 2 is held out) and whole.

    python bench/bench_quality.py                       # all sets, printed
    python bench/bench_quality.py --write               # and docs/benchmarks.md updated
    python bench/bench_quality.py --sets coqa --sample 40
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SEEDS, machine_info, md_table, run_header, write_section

THIRD = ROOT / "evals" / "thirdparty"
SETS = {
    "squadshifts_nyt": (THIRD / "squadshifts_nyt" / "questions.jsonl", THIRD / "squadshifts_nyt" / "corpus"),
    "coqa": (THIRD / "coqa" / "questions.jsonl", THIRD / "coqa" / "corpus"),
    "drop_dev": (THIRD / "drop_dev" / "questions.jsonl", THIRD / "drop_dev" / "corpus"),
    "boolq_dev": (THIRD / "boolq_dev" / "questions.jsonl", THIRD / "boolq_dev" / "corpus"),
    "seed": (ROOT / "evals" / "seed_questions.jsonl", SEEDS),
    "batteries": (ROOT / "evals" / "batteries_questions.jsonl", ROOT / "evals" / "corpus_batteries"),
}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _trust_row(name: str, half: str, t: dict) -> list:
    """One row of the trust table: right / wrong / abstained, precision, coverage, per tier, ECE, AURC."""
    from bot.evaluate.report import chance_cell

    tiers = t["tiers"]
    sure, likely = tiers["sure"], tiers["likely"]
    return [
        name, half, t["questions"], t["right"], t["wrong"], t["abstained"], _pct(t["precision"]), _pct(t["coverage"]),
        _pct(t["wrong_rate"]), f"{sure['claim_right']}/{sure['n']}", f"{likely['claim_right']}/{likely['n']}",
        tiers["abstain"]["n"], f"{t['reliability']['ece']:.3f}" if t["reliability"]["ece"] is not None else "n/a",
        chance_cell(t["reliability"]),
        f"{t['risk_coverage']['aurc']:.3f}" if t["risk_coverage"]["aurc"] is not None else "n/a",
    ]  # fmt: skip


TRUST_HEADER = [
    "set", "half", "questions", "right", "wrong", "abstained", "precision", "coverage", "wrong rate",
    "sure right/n", "likely right/n", "abstain n", "ECE", "ECE by chance (mean, p90)", "AURC",
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="*", default=list(SETS), choices=list(SETS), help="sets to run (default all)")
    ap.add_argument("--sample", type=int, default=0, help="an evenly spaced sample of this many questions per set")
    ap.add_argument("--engine", default="grounded", help="engine (default grounded)")
    ap.add_argument("--write", action="store_true", help="update the answer-quality section of docs/benchmarks.md")
    args = ap.parse_args(argv)

    from bot.embed import MiniLMEmbeddings
    from bot.evaluate import assign_halves, load_questions, run_eval, summarize
    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.settings import Settings
    from bot.store import Store

    embeddings = MiniLMEmbeddings()
    work = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    rows, trust, held_out = [], [], []
    try:
        for name in args.sets:
            questions, docs = SETS[name]
            settings = Settings(docs_dir=docs, index_dir=work / f"idx-{name}", llm=args.engine)
            store = Store.open(settings)
            sync_index(settings, store=store, embedder=embeddings)
            bot = Bot(settings, store=store, embeddings=embeddings)
            qs = load_questions(questions)
            halves = assign_halves(qs)
            if args.sample and args.sample < len(qs):
                step = len(qs) / args.sample
                qs = [qs[int(i * step)] for i in range(args.sample)]
            bot.ask(qs[0].question)  # warm (keyword index, word statistics)
            result = run_eval(qs, bot, engine=args.engine, halves=halves)
            records = [i.record() for i in result.items]
            s = summarize(records)
            held_out += [r for r in records if r.get("half") == 2]
            for half in ("1", "2"):
                if half in s.get("halves", {}):
                    trust.append(_trust_row(name, half, s["halves"][half]))
            trust.append(_trust_row(name, "all", s["trust"]))
            ref, lat = s["refusal"], s["latency_ms"]
            f1 = "—" if s["own_words_f1"] is None else f"{s['own_words_f1']:.2f}"
            rows.append(
                [name, s["questions"], _pct(s["quoted"]), _pct(s["own_words"]), f1, _pct(s["score"]),
                 f"{_pct(ref['precision'])} / {_pct(ref['recall'])}", f"{lat['p50']:.0f} / {lat['p95']:.0f}"]
            )  # fmt: skip
            print(" | ".join(str(c) for c in rows[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    header = ["set", "questions", "quoted", "own words", "own-words F1", "all checks", "refusal P / R", "p50 / p95 ms"]
    table = md_table(header, rows)
    if held_out:  # every held-out half together: the calibration the issue asks for
        trust.append(_trust_row("all sets", "2", summarize(held_out)["trust"]))
    trust_table = md_table(TRUST_HEADER, trust)
    print(trust_table)
    print(table)
    if args.write:
        body = "\n".join(
            [
                "## Answer quality per question set (`bench/bench_quality.py`)",
                "",
                *run_header(machine_info()),
                "",
                f"Engine `{args.engine}`. **Right**: a plainly stated (`sure`) answer whose own words hold the expected"
                " answer, or a refusal of an unanswerable question; **wrong**: any other `sure` answer; **abstained**: "
                "a refusal, an abstention or a hedged guess (`likely`). Precision = right / (right + wrong); coverage "
                "= stated / all; wrong rate = wrong / all. *Sure* and *likely* give the claims right of that tier. "
                "ECE: expected calibration error of the confidence (10 bins, over answers with a claim); *ECE by "
                "chance*: the ECE a perfectly calibrated model would show on the same claims from sampling noise "
                "alone (mean and 90th percentile of 200 seeded draws, `bot.evaluate.trust.chance_ece`); AURC: area "
                "under the risk-coverage curve (lower is better). Half 1 is the tuning half (rules, thresholds and "
                "the confidence model were fitted on it), half 2 is held out; *all sets, 2* pools every held-out half.",
                "",
                trust_table,
                "",
                "**Own words**: the answer text before any quoted passage, source list or citation marker "
                "contains the expected answer. **Quoted**: it is anywhere, cited passages included. **Own-words "
                "F1**: SQuAD token F1 of the own words against the best `gold` answer. **All checks**: expected "
                "answer, refusal, citations and supported numbers all pass (the score `bot eval` gates on). "
                "Latency is per question, warm, on this machine.",
                "",
                table,
            ]
        )
        write_section("bench-quality", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
