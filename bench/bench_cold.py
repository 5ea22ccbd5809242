"""Cold one-shot commands: ``bot ask`` and ``bot search`` in a fresh process on an existing index.

Every run is a new ``python -m bot.cli`` process (start-up, imports, opening the index, the answer),
timed from outside: wall seconds around the child, its user + system CPU seconds and its peak
resident memory from ``os.wait4`` (the kernel's accounting of the finished child). The variants
run in turn (A B C A B C ...) after one warm-up round that builds each variant's own index of the
seeds, so a drifting machine hits them alike; ratios are taken run by run against each baseline.

Variants:

* ``onnx``: the current tree with its defaults (the ONNX embedder);
* ``torch``: the current tree with ``BOT_EMBEDDER=torch`` (sentence-transformers and torch);
* ``rev:<REV>`` (``--rev REV``): the code of a git revision, e.g. the commit before the ONNX
  embedder ("today's path"), run from a temporary ``git worktree`` in the same venv;
* ``floor``: no bot code at all, only what any query path on this stack must pay: Python's start,
  importing chromadb, onnxruntime, tokenizers and LangChain's retriever interface, and opening the
  onnx variant's index with ``chromadb.PersistentClient``. It bounds from below what a one-shot
  command can reach without leaving the fixed stack.

Also, optionally: how long ``bot chat`` takes until its page answers (``--chat``); what each command
imports, from ``python -X importtime`` (``--imports``); and the embedder's own throughput on the
chunks of a generated corpus, ONNX vs raw ``SentenceTransformer.encode``, interleaved in one process
(``--encode``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, SEEDS, generate_corpus, machine_info, md_table, median, run_header, write_section

EXAMPLES = """examples:
  python bench/bench_cold.py                            # ask and search, onnx vs torch, 5 runs each
  python bench/bench_cold.py --rev 4cfedb5 --chat --imports --encode --write
"""
QUESTION = "How many vehicles did HIMA deliver in November?"
QUERY = "deliveries in November"
TARGET_WALL_S, TARGET_PEAK_MIB, TARGET_CHAT_S = 1.5, 300, 5.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=5, help="timed runs of each command and variant (default 5)")
    p.add_argument("--rev", help="also run the code of this git revision (e.g. the commit before the change)")
    p.add_argument("--chat", action="store_true", help="also time `bot chat` until its page answers (3 runs)")
    p.add_argument("--imports", action="store_true", help="also list each command's imports (-X importtime)")
    p.add_argument("--encode", action="store_true", help="also compare the embedders' throughput on chunks")
    p.add_argument("--write", action="store_true", help="rewrite the bench_cold section of docs/benchmarks.md")
    return p.parse_args(argv)


class Variant:
    """One way of running the ``bot`` command: a source tree, extra environment, its own index."""

    def __init__(self, name: str, tree: Path, env: dict[str, str], work: Path) -> None:
        self.name, self.tree, self.index = name, tree, work / f"index-{name.replace(':', '-')}"
        base = {k: v for k, v in os.environ.items() if k != "BOT_EMBEDDER"}
        self.env = {**base, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(tree), **env}

    def argv(self, *args: str, python_flags: tuple[str, ...] = ()) -> list[str]:
        """The command line of ``bot ARGS`` in this variant."""
        return [sys.executable, *python_flags, "-m", "bot.cli", *args]

    def cwd(self) -> Path:
        """Where the command runs (its tree, so ``bot`` is that tree's package)."""
        return self.tree


class Floor(Variant):
    """The stack's own start-up cost: imports and opening the Chroma store, no bot code (see the module doc)."""

    CODE = (
        "import sys, chromadb, onnxruntime, tokenizers, langchain_core.retrievers; "
        "chromadb.PersistentClient(path=sys.argv[1] + '/chroma').list_collections()"
    )

    def __init__(self, of: Variant, work: Path) -> None:
        super().__init__("floor", ROOT, {}, work)
        self.index = of.index

    def argv(self, *args: str, python_flags: tuple[str, ...] = ()) -> list[str]:
        """``python -c CODE INDEX``, whatever the command (only ``--index`` is read)."""
        index = args[list(args).index("--index") + 1] if "--index" in args else str(self.index)
        return [sys.executable, *python_flags, "-c", self.CODE, index]


def run_once(variant: Variant, args: list[str]) -> tuple[float, float, float, int]:
    """Run a command once: (wall s, cpu s, peak MiB, exit code) of the whole child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        variant.argv(*args), cwd=variant.cwd(), env=variant.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        print(f"{variant.name}: {' '.join(args)} exited {proc.returncode}: {proc.stderr.read().decode()[-500:]}")
    proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def cold_runs(variants: list[Variant], commands: dict[str, list[str]], runs: int) -> dict[tuple[str, str], dict]:
    """Interleaved timed runs: {(command, variant): {"wall": [...], "cpu": [...], "peak": [...]}}."""
    out: dict[tuple[str, str], dict] = {}
    for name, args in commands.items():
        for i in range(runs + 1):  # round 0 is the warm-up (page cache, .pyc files)
            for v in variants:
                wall, cpu, peak, code = run_once(v, [*args, "--docs", str(SEEDS), "--index", str(v.index)])
                if i and not code:
                    row = out.setdefault((name, v.name), {"wall": [], "cpu": [], "peak": []})
                    row["wall"].append(wall), row["cpu"].append(cpu), row["peak"].append(peak)
            print(f"  {name} round {i}/{runs} done", flush=True)
    return out


def chat_start(variant: Variant, runs: int = 3) -> list[float]:
    """Seconds from starting ``bot chat`` until its page answers, per run."""
    times = []
    for _ in range(runs):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        args = ["chat", "--docs", str(SEEDS), "--index", str(variant.index), "--port", str(port)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            variant.argv(*args), cwd=variant.cwd(), env=variant.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            while time.perf_counter() - t0 < 120 and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                        if r.status == 200:
                            times.append(time.perf_counter() - t0)
                            break
                except OSError:
                    time.sleep(0.05)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    return times


def import_table(variant: Variant, args: list[str], top: int = 8) -> tuple[float, list[tuple[str, float]]]:
    """Total import seconds of a command and its costliest top-level imports (``-X importtime``)."""
    proc = subprocess.run(
        variant.argv(*args, "--docs", str(SEEDS), "--index", str(variant.index), python_flags=("-X", "importtime")),
        cwd=variant.cwd(), env=variant.env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    total, tops = 0.0, []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            total += int(m.group(1)) / 1e6
            if len(m.group(3)) <= 1:
                tops.append((m.group(4), int(m.group(2)) / 1e6))
    return total, sorted(tops, key=lambda t: -t[1])[:top]


def encode_compare(repeats: int = 3) -> dict[str, float]:
    """Chunks per second of the ONNX embedder vs raw ``SentenceTransformer.encode`` (median of interleaved runs)."""
    import numpy as np

    from bot.embed import MiniLMEmbeddings
    from bot.split import chunk_spans

    with tempfile.TemporaryDirectory() as tmp:
        texts = [p.read_text()[a:b] for p in generate_corpus(Path(tmp)) for a, b in chunk_spans(p.read_text())]
    onnx, torch = MiniLMEmbeddings(32), MiniLMEmbeddings(32, backend="torch")
    onnx.embed_query("warm up"), torch.embed_query("warm up")
    model = torch.model
    times: dict[str, list[float]] = {"onnx": [], "raw": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        a = np.asarray(onnx.encode(texts))
        times["onnx"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        b = model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        times["raw"].append(time.perf_counter() - t0)
    cosine = float(np.min(np.sum(a * b, axis=1)))
    return {"chunks": len(texts), **{k: len(texts) / median(v) for k, v in times.items()}, "min_cosine": cosine}


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def stats(xs: list[float], fmt: str = "{:.2f}") -> str:
    """Median (min-max) of a list."""
    return f"{fmt.format(median(xs))} ({fmt.format(min(xs))}-{fmt.format(max(xs))})" if xs else "-"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print (and optionally write) the markdown section."""
    args = parse_args(argv)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    variants = [Variant("onnx", ROOT, {}, work), Variant("torch", ROOT, {"BOT_EMBEDDER": "torch"}, work)]
    tree = None
    try:
        if args.rev:
            tree = work / "rev"
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.rev], cwd=ROOT, check=True)
            variants.append(Variant(f"rev:{args.rev}", tree, {}, work))
        for v in variants:  # each variant builds its own index with its own code
            run_once(v, ["index", "--docs", str(SEEDS), "--index", str(v.index), "-q"])
        variants.append(Floor(variants[0], work))
        commands = {"ask": ["ask", QUESTION], "search": ["search", QUERY]}
        res = cold_runs(variants, commands, args.runs)
        rows = []
        for name in commands:
            base = res.get((name, "onnx"))
            for v in variants:
                r = res.get((name, v.name))
                if not r:
                    continue
                ratio = "-"
                if base and v.name != "onnx":  # run by run: onnx's run i over this variant's run i
                    ratio = f"{median([a / b for a, b in zip(base['wall'], r['wall'], strict=False)]):.3f}"
                peak = f"{max(r['peak']):.0f}"
                rows.append([f"bot {name}", v.name, stats(r["wall"]), stats(r["cpu"]), peak, ratio])
        header = ["command", "variant", "wall s, median (min-max)", "CPU s, median (min-max)", "peak MiB", "onnx / it"]
        lines = [
            f'Seed index (built by each variant first); `bot ask "{QUESTION}"` and `bot search "{QUERY}"`, '
            f"{args.runs} runs each after one warm-up round, variants in turn. Load average when the run started: "
            f"{load}. onnxruntime {_version('onnxruntime')}, tokenizers {_version('tokenizers')}.",
            "",
            md_table(header, rows),
        ]
        ask = res.get(("ask", "onnx"))
        if ask:
            ok = median(ask["wall"]) <= TARGET_WALL_S and max(ask["peak"]) <= TARGET_PEAK_MIB
            lines.append(
                f"\nTarget (issue 22): cold `bot ask` <= {TARGET_WALL_S} s wall median and <= {TARGET_PEAK_MIB} MiB "
                f"peak: **{'met' if ok else 'not met'}** ({median(ask['wall']):.2f} s, {max(ask['peak']):.0f} MiB)."
            )
        floor = res.get(("ask", "floor"))
        if ask and floor:
            own = median(ask["wall"]) - median(floor["wall"])
            lines.append(
                f"The stack alone (`floor`: Python, chromadb, onnxruntime, tokenizers, LangChain's retriever "
                f"interface, opening the index; no bot code) takes {median(floor['wall']):.2f} s median in the same "
                f"run, so the bot's own share of a cold `bot ask` is {own:.2f} s."
            )
        if args.chat:
            chat = [[v.name, stats(chat_start(v))] for v in variants if not isinstance(v, Floor)]
            lines += ["", f"`bot chat` until its page answers (3 runs; target <= {TARGET_CHAT_S} s):", ""]
            lines.append(md_table(["variant", "seconds median (min-max)"], chat))
        if args.imports:
            lines += ["", "Imports (`python -X importtime`, one run each, onnx variant), total and costliest:", ""]
            table = []
            for name, cmd in {**commands, "facts": ["facts"]}.items():
                total, tops = import_table(variants[0], cmd)
                table.append([f"bot {name}", f"{total:.2f}", ", ".join(f"{m} {s:.2f}" for m, s in tops)])
            lines.append(md_table(["command", "import s", "top-level imports (s, cumulative)"], table))
        if args.encode:
            e = encode_compare()
            lines += [
                "",
                f"Embedder throughput on {e['chunks']} chunks of the generated corpus (batch 32, one process, "
                f"interleaved, median of 3): ONNX {e['onnx']:.1f} chunks/s, raw `SentenceTransformer.encode` "
                f"{e['raw']:.1f} chunks/s (ratio {e['onnx'] / e['raw']:.2f}); lowest cosine {e['min_cosine']:.7f}.",
            ]
        body = "\n".join(lines)
        print(body)
        if args.write:
            section = ["## Cold one-shot commands (`bench/bench_cold.py`)", "", *run_header(machine_info()), "", body]
            write_section("bench_cold", "\n".join(section))
    finally:
        if tree is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
