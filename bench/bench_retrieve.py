"""Retrieval latency of HybridRetriever vs query embedding alone and LangChain's dense-only Chroma search.

Indexes the seed corpus and a generated larger corpus, then times a fixed list
of questions x repeats, interleaving the variants question by question so
machine noise hits them alike. The retriever is warmed up first (its BM25
index is built on the first query).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    SEEDS,
    generate_corpus,
    machine_info,
    md_table,
    percentile,
    release_chroma,
    run_header,
    timed,
    write_section,
)

EXAMPLES = """examples:
  python bench/bench_retrieve.py                    # seeds + 40 generated docs, 5 repeats of 20 questions
  python bench/bench_retrieve.py --repeats 10 --docs 80
  python bench/bench_retrieve.py --write            # also rewrite the bench_retrieve section of docs/benchmarks.md
"""

TARGET_OVERHEAD_MS = 10.0  # hybrid p50 <= query-embedding p50 + this

QUESTIONS = [
    "How many vehicles did HIMA deliver in November?",
    "How many brands does Huawei's auto lineup have now?",
    "Which automaker is Huawei partnering with on Yijing?",
    "Which company is behind Qijing?",
    "How much did Changan invest in Yinwang?",
    "What stake does Seres own in Yinwang?",
    "What is the price range of the Yijing models?",
    "What is the price range in U.S. dollars?",
    "Who manages investment and staffing in the Yijing partnership?",
    "What does Huawei provide in the Jing series?",
    "How will Yijing vehicles be distributed?",
    "Who handles after-sales service for Yijing?",
    "Which startups did HIMA surpass?",
    "What is Yinwang responsible for?",
    "Why do Seres and Changan have a dual advantage?",
    "Which markets should Seres expand into?",
    "How should Avatr position itself?",
    "Which segment matters for Deepal?",
    "What risks does Huawei face from more Jing brands?",
    "Where are Seres and Changan based?",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--docs", type=int, default=40, help="generated documents of the larger corpus (default 40)")
    p.add_argument("--repeats", type=int, default=5, help="passes over the 20 questions (default 5)")
    p.add_argument("--no-langchain", action="store_true", help="skip the LangChain Chroma.similarity_search reference")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default 0 = torch's default)")
    p.add_argument("--write", action="store_true", help="rewrite the bench_retrieve section of docs/benchmarks.md")
    return p.parse_args(argv)


def bench_corpus(name: str, docs_dir: Path, work: Path, args: argparse.Namespace, embedder: Any, lc_emb: Any) -> dict:
    """Index one corpus and time every variant on every question; return per-variant latencies in ms."""
    from bot.indexer import sync_index
    from bot.retrieve import HybridRetriever
    from bot.settings import Settings
    from bot.store import Store

    settings = Settings(docs_dir=docs_dir, index_dir=work / f"idx_{name}", collection="bench")
    report = sync_index(settings, embedder=embedder)
    store = Store.open(settings, create=False)
    retriever = HybridRetriever(store=store, embeddings=embedder, k=settings.top_k, fetch_k=settings.fetch_k)
    retriever.invoke("warm up")  # builds the BM25 index
    vec = embedder.embed_query("warm up")

    variants: dict[str, Callable[[str], Any]] = {
        "embed": embedder.embed_query,
        "hybrid": retriever.invoke,
        "dense_store": lambda _q: store.query_chunks(vec, settings.fetch_k),
        "bm25": lambda q: retriever.keyword_search(q, settings.fetch_k),
        "fingerprint": lambda _q: store.fingerprint(),
    }
    if lc_emb is not None:
        from langchain_chroma import Chroma
        from langchain_core.documents import Document

        chunks = store.all_chunks()
        lc = Chroma.from_documents(
            [Document(page_content=c.text, metadata={"source": c.source}) for c in chunks],
            lc_emb,
            ids=[c.id for c in chunks],
            collection_name="bench_lc",
            persist_directory=str(work / f"lc_{name}"),
            collection_metadata={"hnsw:space": "cosine"},
        )
        lc.similarity_search("warm up", k=settings.top_k)
        variants["langchain"] = lambda q: lc.similarity_search(q, k=settings.top_k)

    times: dict[str, list[float]] = {k: [] for k in variants}
    names = list(variants)
    n = 0
    for _r in range(args.repeats):
        for q in QUESTIONS:
            order = names[n % len(names) :] + names[: n % len(names)]
            n += 1
            for key in order:
                # every call pays for its query embedding, as a new question does (no query-vector cache)
                embedder.__dict__.pop("_query_cache", None)
                times[key].append(timed(lambda key=key, q=q: variants[key](q))[0] * 1000)
    return {"name": name, "chunks": report.chunks, "docs": report.files, "times": times}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally write) the markdown table."""
    args = parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from bot.embed import MiniLMEmbeddings, load_model, model_path

    load_model()
    embedder = MiniLMEmbeddings()
    embedder.embed_query("warm up")
    lc_emb = None
    if not args.no_langchain:
        from langchain_huggingface import HuggingFaceEmbeddings

        lc_emb = HuggingFaceEmbeddings(
            model_name=str(model_path()),
            model_kwargs={"device": "cpu", "local_files_only": True},
            encode_kwargs={"normalize_embeddings": True},
        )
        lc_emb.embed_query("warm up")

    work = Path(tempfile.mkdtemp(prefix="bench_retrieve_"))
    try:
        generate_corpus(work / "generated", args.docs)
        results = [
            bench_corpus("seeds", SEEDS, work, args, embedder, lc_emb),
            bench_corpus("generated", work / "generated", work, args, embedder, lc_emb),
        ]
    finally:
        release_chroma()
        shutil.rmtree(work, ignore_errors=True)

    table, verdict = render(results, args.repeats)
    print(table)
    print()
    print(verdict)
    if args.write:
        body = "\n".join(
            ["## Retrieval (`bench/bench_retrieve.py`)", "", *run_header(machine_info()), "", table, "", verdict]
        )
        write_section("bench_retrieve", body)
        print("\nwrote the bench_retrieve section of docs/benchmarks.md", file=sys.stderr)
    return 0


LABELS = {
    "embed": "query embedding alone (`embed_query`)",
    "hybrid": "**HybridRetriever.invoke** (dense + BM25 + RRF)",
    "langchain": "LangChain `Chroma.similarity_search` (dense only, reference)",
    "dense_store": "part: Chroma nearest-neighbour query (vector given)",
    "bm25": "part: `keyword_search` (BM25, incl. fingerprint check)",
    "fingerprint": "part: `store.fingerprint()` (index-change check)",
}


def render(results: list[dict], repeats: int) -> tuple[str, str]:
    """The markdown table and the target verdict lines."""
    rows = []
    verdict = []
    for res in results:
        t = res["times"]
        for key, label in LABELS.items():
            if key in t:
                rows.append(
                    [
                        f"{res['name']} ({res['docs']} docs, {res['chunks']} chunks)",
                        label,
                        f"{percentile(t[key], 50):.1f}",
                        f"{percentile(t[key], 95):.1f}",
                    ]
                )
        emb50, hyb50 = percentile(t["embed"], 50), percentile(t["hybrid"], 50)
        over = hyb50 - emb50
        parts = percentile(t["dense_store"], 50) + percentile(t["bm25"], 50)
        verdict.append(
            f"- {res['name']}: hybrid p50 {hyb50:.1f} ms = query embedding p50 {emb50:.1f} ms + {over:.1f} ms "
            f"(target <= +{TARGET_OVERHEAD_MS:.0f} ms): {'met' if over <= TARGET_OVERHEAD_MS else 'NOT met'}; "
            f"the non-embedding parts timed alone (Chroma query + BM25) take {parts:.1f} ms at p50."
        )
    n = len(QUESTIONS) * repeats
    table = (
        f"{len(QUESTIONS)} fixed questions x {repeats} repeats = {n} timings per row, variants interleaved "
        "question by question; milliseconds.\n\n" + md_table(["Corpus", "Variant", "p50 ms", "p95 ms"], rows)
    )
    return table, "\n".join(verdict)


if __name__ == "__main__":
    raise SystemExit(main())
