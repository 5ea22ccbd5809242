"""Indexing throughput of the project's pipeline vs raw sentence-transformers and LangChain's Chroma.

All measurements run in one process on the same chunks (the seed article
replicated into a generated corpus), with the embedding model loaded once
beforehand, repeated and interleaved so machine noise hits every variant alike.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    generate_corpus,
    machine_info,
    md_table,
    median,
    release_chroma,
    run_header,
    timed,
    write_section,
)

EXAMPLES = """examples:
  python bench/bench_index.py                       # 40 generated docs (~470 chunks), 3 repeats
  python bench/bench_index.py --docs 80 --repeats 5
  python bench/bench_index.py --write               # also rewrite the bench_index section of docs/benchmarks.md
"""

TARGET_RATIO = 0.9  # pipeline throughput / raw encode throughput
TARGET_FACTS = 0.20  # extraction time / index time without extraction


@dataclass
class Results:
    """Seconds per repeat of each measurement."""

    times: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        """Record one timing."""
        self.times.setdefault(name, []).append(seconds)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--docs", type=int, default=40, help="generated documents (default 40, ~12 chunks each)")
    p.add_argument("--repeats", type=int, default=3, help="repeats of each measurement (default 3)")
    p.add_argument("--batch-size", type=int, default=32, help="embedding batch size for every variant (default 32)")
    p.add_argument("--no-langchain", action="store_true", help="skip the LangChain Chroma.from_documents variant")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default 0 = torch's default)")
    p.add_argument("--write", action="store_true", help="rewrite the bench_index section of docs/benchmarks.md")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally write) the markdown table."""
    args = parse_args(argv)
    t_import, _ = timed(lambda: __import__("sentence_transformers"))
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    import chromadb  # noqa: F401  (imported up front so no variant pays for it)

    from bot.embed import MiniLMEmbeddings, load_model, model_path
    from bot.indexer import sync_index
    from bot.load import discover, load_document
    from bot.settings import Settings
    from bot.split import split_document

    try:
        from bot.facts import extract_facts
    except ImportError:
        print("bot.facts is missing: the pipeline cannot index without it.", file=sys.stderr)
        return 2

    res = Results()
    t_load, model = timed(load_model)
    res.extra.update(import_s=t_import, load_s=t_load)
    embedder = MiniLMEmbeddings(batch_size=args.batch_size)
    model.encode(["warm up the model"] * 4, show_progress_bar=False)

    work = Path(tempfile.mkdtemp(prefix="bench_index_"))
    try:
        corpus = work / "docs"
        generate_corpus(corpus, args.docs)
        base = Settings(
            docs_dir=corpus, index_dir=work / "unused", collection="bench", embed_batch_size=args.batch_size
        )
        docs = [load_document(s, p) for s, p in discover([(corpus, "")])]
        size, overlap = base.chunk_size, base.chunk_overlap
        chunks = [c for d in docs for c in split_document(d.source, d.text, d.sha256, size, overlap)]
        texts = [c.text for c in chunks]
        res.extra.update(docs=len(docs), chunks=len(chunks), chars=sum(map(len, texts)))

        def pipeline(r: int) -> None:
            settings = base.model_copy(update={"index_dir": work / f"idx_{r}"})
            t, report = timed(lambda: sync_index(settings, embedder=embedder))
            assert report.embedded == len(chunks), report.summary()
            res.add("pipeline", t)
            res.extra["facts"] = report.facts
            t, again = timed(lambda: sync_index(settings, embedder=embedder))
            res.add("rerun", t)
            res.extra["rerun_embedded"] = again.embedded
            release_chroma()
            shutil.rmtree(settings.index_dir, ignore_errors=True)

        def raw(_r: int) -> None:
            res.add(
                "raw",
                timed(
                    lambda: model.encode(
                        texts, batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=False
                    )
                )[0],
            )

        def facts(_r: int) -> None:
            res.add("facts", timed(lambda: [extract_facts(d.text, d.source) for d in docs])[0])

        runs = [pipeline, raw, facts]
        if not args.no_langchain:
            from langchain_chroma import Chroma
            from langchain_core.documents import Document
            from langchain_huggingface import HuggingFaceEmbeddings

            lc_emb = HuggingFaceEmbeddings(
                model_name=str(model_path()),
                model_kwargs={"device": "cpu", "local_files_only": True},
                encode_kwargs={"normalize_embeddings": True, "batch_size": args.batch_size},
            )
            lc_emb.embed_query("warm up the model")
            lc_docs = [Document(page_content=c.text, metadata=c.model_dump(exclude={"id", "text"})) for c in chunks]

            def langchain(r: int) -> None:
                path = work / f"lc_{r}"

                def build() -> Any:
                    return Chroma.from_documents(
                        lc_docs,
                        lc_emb,
                        ids=[c.id for c in chunks],
                        collection_name="bench",
                        persist_directory=str(path),
                        collection_metadata={"hnsw:space": "cosine"},
                    )

                t, store = timed(build)
                assert store._collection.count() == len(chunks)
                res.add("langchain", t)
                del store
                release_chroma()
                shutil.rmtree(path, ignore_errors=True)

            runs.append(langchain)

        for r in range(args.repeats):
            order = runs[r % len(runs) :] + runs[: r % len(runs)]  # rotate so no variant always runs first
            for run in order:
                run(r)
            print(f"repeat {r + 1}/{args.repeats} done", file=sys.stderr)
    finally:
        release_chroma()
        shutil.rmtree(work, ignore_errors=True)

    table, verdict = render(res)
    print(table)
    print()
    print(verdict)
    if args.write:
        header = run_header(machine_info())
        body = "\n".join(["## Indexing (`bench/bench_index.py`)", "", *header, "", table, "", verdict])
        write_section("bench_index", body)
        print("\nwrote the bench_index section of docs/benchmarks.md", file=sys.stderr)
    return 0


def render(res: Results) -> tuple[str, str]:
    """The markdown table and the target verdict lines."""
    n = res.extra["chunks"]
    med = {k: median(v) for k, v in res.times.items()}
    raw = med["raw"]
    rows = []
    labels = [
        ("raw", "sentence-transformers `model.encode` (ceiling)"),
        ("pipeline", "project `sync_index`, fresh index"),
        ("langchain", "LangChain `Chroma.from_documents` + `HuggingFaceEmbeddings`"),
    ]
    for key, label in labels:
        if key in med:
            rows.append(
                [label, f"{med[key]:.2f}", f"{n / med[key]:.0f}", f"{raw / med[key]:.2f}x", _spread(res.times[key])]
            )
    facts = med["facts"]
    rows.append(["`bot.facts.extract_facts` over the corpus", f"{facts:.3f}", "", "", _spread(res.times["facts"])])
    rows.append(
        [
            f"`sync_index` re-run, no changes ({res.extra['rerun_embedded']} embedded)",
            f"{med['rerun']:.3f}",
            "",
            "",
            _spread(res.times["rerun"]),
        ]
    )
    rows.append(["import sentence-transformers + torch (once)", f"{res.extra['import_s']:.2f}", "", "", ""])
    rows.append(["model load (once, excluded above)", f"{res.extra['load_s']:.2f}", "", "", ""])
    reps = len(res.times["raw"])
    table = (
        f"Corpus: {res.extra['docs']} generated documents, {n} chunks, {res.extra['chars']:,} characters, "
        f"{res.extra.get('facts', 0)} facts; median of {reps} interleaved repeats.\n\n"
        + md_table(["Variant", "Seconds (median)", "Chunks/s", "vs raw encode", "Min-max s"], rows)
    )
    ratio = raw / med["pipeline"]
    added = med["facts"] / max(med["pipeline"] - med["facts"], 1e-9)
    share = med["facts"] / med["pipeline"]
    verdict = "\n".join(
        [
            f"- Pipeline throughput = {ratio:.2f}x raw encode (target >= {TARGET_RATIO}x): "
            f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}.",
            f"- Fact extraction = {share:.1%} of `sync_index` time, i.e. adds {added:.1%} to the rest "
            f"(target <= {TARGET_FACTS:.0%}): {'met' if added <= TARGET_FACTS else 'NOT met'}.",
            f"- Re-run with no changes embedded {res.extra['rerun_embedded']} chunks in {med['rerun']:.3f} s.",
        ]
    )
    return table, verdict


def _spread(xs: list[float]) -> str:
    return f"{min(xs):.3f}-{max(xs):.3f}" if min(xs) < 1 else f"{min(xs):.2f}-{max(xs):.2f}"


if __name__ == "__main__":
    raise SystemExit(main())
