"""Answer latency against corpus size: is per-question work bounded by the evidence, not the corpus?

One run indexes, then asks the same kind of questions of, corpora of growing size:

* the seed article (5 kB);
* each third-party corpus in ``evals/thirdparty`` (52-164 kB) with its own questions;
* a large folder: all three corpora plus generated variants of every document (names replaced, so
  every document is new text), about 8x the largest corpus;

and reports warm answer latency p50/p95 per corpus with its ratio to the seed (the baseline of the
run). Flat ratios mean the cost of a question does not grow with the corpus. Index time is reported
too but is not the point.

    python bench/bench_answer.py                  # all corpora, results printed
    python bench/bench_answer.py --questions 30 --variants 3 --write   # and docs/benchmarks.md updated
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SEEDS, machine_info, md_table, percentile, run_header, write_section

THIRD = ROOT / "evals" / "thirdparty"
SETS = ("squadshifts_nyt", "coqa", "drop_dev")
_CAP = re.compile(r"\b[A-Z][a-z]{3,}\b")


def questions_of(name: str, n: int) -> list[tuple[str, list]]:
    """An evenly spaced fixed sample of a set's questions (with their histories)."""
    rows = [json.loads(line) for line in (THIRD / name / "questions.jsonl").read_text().splitlines() if line.strip()]
    step = max(1, len(rows) // n)
    return [(r["question"], r.get("history") or []) for r in rows[::step][:n]]


def seed_questions(n: int) -> list[tuple[str, list]]:
    rows = [json.loads(line) for line in (ROOT / "evals" / "seed_questions.jsonl").read_text().splitlines() if line]
    return [(r["question"], r.get("history") or []) for r in rows[:n]]


def make_variant(text: str, rng: random.Random) -> str:
    """The same document with its capitalised words replaced by made-up names (consistently within it)."""
    mapping: dict[str, str] = {}

    def name(m: re.Match[str]) -> str:
        word = m.group(0)
        if word not in mapping:
            mapping[word] = word[0] + "".join(rng.choice("aeioulnrstkm") for _ in range(len(word) - 1))
        return mapping[word]

    return _CAP.sub(name, text)


def build_large(dest: Path, variants: int) -> Path:
    """All third-party corpora plus ``variants`` renamed copies of each of their documents."""
    rng = random.Random(11)
    dest.mkdir(parents=True, exist_ok=True)
    for name in SETS:
        for doc in sorted((THIRD / name / "corpus").glob("*.txt")):
            text = doc.read_text(encoding="utf-8")
            (dest / f"{name}__{doc.name}").write_text(text, encoding="utf-8")
            for v in range(variants):
                (dest / f"{name}__v{v}__{doc.name}").write_text(make_variant(text, rng), encoding="utf-8")
    return dest


def measure(label: str, docs: Path, index: Path, questions: list[tuple[str, list]], embeddings) -> dict:
    """Index a folder, warm up, then time every question (warm)."""
    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.settings import Settings
    from bot.store import Store

    settings = Settings(docs_dir=docs, index_dir=index)
    t0 = time.perf_counter()
    store = Store.open(settings)
    report = sync_index(settings, store=store, embedder=embeddings)
    index_s = time.perf_counter() - t0
    bot = Bot(settings, store=store, embeddings=embeddings)
    for q, h in questions[:3]:  # warm: keyword index, word statistics, caches of a running service
        bot.ask(q, h)
    times = []
    for q, h in questions:
        t = time.perf_counter()
        bot.ask(q, h)
        times.append((time.perf_counter() - t) * 1000)
    size = sum(p.stat().st_size for p in docs.rglob("*") if p.is_file())
    return {
        "corpus": label, "kB": size / 1000, "docs": report.files, "chunks": report.chunks,
        "index_s": index_s, "n": len(times), "p50": statistics.median(times), "p95": percentile(times, 95),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=30, help="questions asked per corpus (default 30)")
    ap.add_argument("--variants", type=int, default=3, help="renamed copies of each document in the large folder")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    ap.add_argument("--write", action="store_true", help="update the answer-latency section of docs/benchmarks.md")
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from bot.embed import MiniLMEmbeddings

    embeddings = MiniLMEmbeddings()
    work = Path(tempfile.mkdtemp(prefix="bench-answer-"))
    try:
        mixed = [q for name in SETS for q in questions_of(name, args.questions // len(SETS) + 1)][: args.questions]
        runs = [measure("seed article", SEEDS, work / "idx-seed", seed_questions(args.questions), embeddings)]
        for name in SETS:
            sample = questions_of(name, args.questions)
            runs.append(measure(name, THIRD / name / "corpus", work / f"idx-{name}", sample, embeddings))
        large = build_large(work / "large", args.variants)
        runs.append(measure(f"all three + {args.variants} variants each", large, work / "idx-large", mixed, embeddings))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = runs[0]["p50"]
    rows = [
        [r["corpus"], f"{r['kB']:,.0f}", r["docs"], r["chunks"], f"{r['index_s']:.0f}", r["n"], f"{r['p50']:.1f}",
         f"{r['p95']:.1f}", f"{r['p50'] / base:.2f}x"]
        for r in runs
    ]  # fmt: skip
    header = ["corpus", "kB", "docs", "chunks", "index s", "questions", "p50 ms", "p95 ms", "p50 vs seed"]
    table = md_table(header, rows)
    print(table)
    if args.write:
        body = "\n".join(
            [
                "## Answer latency against corpus size (`bench/bench_answer.py`)",
                "",
                *run_header(machine_info()),
                "",
                "Warm answers of the grounded engine (index built first, three warm-up questions), the same "
                "question sample per corpus kind; the large folder asks a mix of the three sets' questions.",
                "",
                table,
            ]
        )
        write_section("bench-answer", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
