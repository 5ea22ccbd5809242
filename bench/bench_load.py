"""Latency of the web UI's ``/ask`` API under load: N parallel sessions vs one session asking in turn.

Starts a real ``bot chat`` server on a copy of the docs folder (seeds by default), then asks the
first N questions of a question set (``evals/seed_questions.jsonl`` by default, questions without
history) through real ``gradio_client`` clients:

* sequential: one client asks every question in turn, ``--rounds`` times;
* parallel: N clients (one per question, each its own session) start together and each asks its
  question ``--rounds`` times in a row.

Each parallel answer is compared with the sequential answer to the same question (text and
citations): a difference is a crossed or unstable answer and makes the script exit 1. The server is
restarted for each ``--concurrency`` value (``BOT_UI_CONCURRENCY``), so the queue settings can be
compared in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, SEEDS, machine_info, md_table, percentile, run_header, write_section

EXAMPLES = """examples:
  python bench/bench_load.py                         # 20 sessions x 3 rounds on the seeds
  python bench/bench_load.py --sessions 10 --rounds 5
  python bench/bench_load.py --concurrency 2,4,8     # compare queue settings (one server each)
  python bench/bench_load.py --write                 # also rewrite the bench_load section of docs/benchmarks.md
"""

TARGET_P95_S = 1.5  # parallel p95 target of issue 10, item 14


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_questions(path: Path, n: int) -> list[str]:
    """The first ``n`` distinct questions without history of a JSONL question set."""
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        q = item.get("question")
        if isinstance(q, str) and not item.get("history") and q not in out:
            out.append(q)
        if len(out) == n:
            break
    if len(out) < n:
        raise SystemExit(f"{path} has only {len(out)} questions without history; pass --sessions {len(out)}")
    return out


class ChatServer:
    """``bot chat`` in a subprocess."""

    def __init__(self, docs: Path, workdir: Path, concurrency: int | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "GRADIO_"))}
        env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
        env.update(GRADIO_ANALYTICS_ENABLED="False")
        if concurrency:
            env["BOT_UI_CONCURRENCY"] = str(concurrency)
        self.log = workdir / f"server-{self.port}.log"
        bot = Path(sys.executable).with_name("bot")
        cmd = [str(bot), "chat", "--docs", str(docs), "--index", str(workdir / "index"), "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 300) -> ChatServer:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bot chat exited with {self.proc.returncode}:\n{self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "config", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"bot chat did not start in {timeout} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


_TLS: list[Any] = []  # one TLS context for every client of the run (see client())


def client(url: str) -> Any:
    """A real ``gradio_client`` session; all of them share one TLS context.

    ``gradio_client`` passes ``ssl_verify`` to httpx as ``verify``, and httpx builds a new TLS context
    (loading certifi's CA bundle) for every request when it is ``True``, even for ``http://``: about
    50 ms of the client's CPU per ``/ask`` call, which on a small machine took the cores the server
    needed. A ready context is used as it is; the requests, the SSE stream and its polling are unchanged.
    """
    import ssl

    from gradio_client import Client

    if not _TLS:
        _TLS.append(ssl.create_default_context())
    return Client(url, verbose=False, ssl_verify=_TLS[0])


def ask(c: Any, question: str) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    answer = c.predict(question, [], api_name="/ask")
    return time.perf_counter() - t0, answer


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["question"] == b["question"] and a["text"] == b["text"] and a["citations"] == b["citations"]


def measure(url: str, questions: list[str], rounds: int, server_pid: int) -> dict[str, Any]:
    """Sequential then parallel latencies against one running server (and the server's CPU time per request)."""
    seq_client = client(url)
    for q in questions:  # warm-up: query embeddings, keyword index, every code path once
        ask(seq_client, q)
    sequential: list[float] = []
    expected: dict[str, dict[str, Any]] = {}
    engine_ms: list[float] = []
    cpu0, own0 = cpu_seconds(server_pid), time.process_time()
    t0 = time.perf_counter()
    for _ in range(rounds):
        for q in questions:
            seconds, answer = ask(seq_client, q)
            sequential.append(seconds)
            engine_ms.append(float(answer.get("latency_ms", 0.0)))
            expected.setdefault(q, answer)
    seq_wall = time.perf_counter() - t0
    cpu1, own1_seq = cpu_seconds(server_pid), time.process_time()

    clients = [client(url) for _ in questions]  # one session each, connected before the clock starts
    own1 = time.process_time()
    barrier = threading.Barrier(len(questions))
    parallel: list[float] = []
    crossed: list[str] = []
    lock = threading.Lock()

    def session(c: Any, q: str) -> None:
        barrier.wait()
        for _ in range(rounds):
            seconds, answer = ask(c, q)
            with lock:
                parallel.append(seconds)
                if not same(answer, expected[q]):
                    crossed.append(q)

    threads = [threading.Thread(target=session, args=(c, q)) for c, q in zip(clients, questions, strict=True)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    par_wall = time.perf_counter() - t0
    cpu2, own2 = cpu_seconds(server_pid), time.process_time()
    per_request = (
        None if None in (cpu0, cpu1, cpu2) else ((cpu1 - cpu0) / len(sequential), (cpu2 - cpu1) / len(parallel))
    )
    return {
        "sequential": sequential,
        "parallel": parallel,
        "seq_wall": seq_wall,
        "par_wall": par_wall,
        "crossed": crossed,
        "engine_ms": engine_ms,
        "server_cpu": per_request,
        "client_cpu": ((own1_seq - own0) / len(sequential), (own2 - own1) / len(parallel)),
    }


def row(
    label: str, concurrency: str, xs: list[float], wall: float, crossed: int | str, cpu: float | None, own: float
) -> list[str]:
    return [
        label,
        concurrency,
        str(len(xs)),
        f"{percentile(xs, 50) * 1000:,.0f}",
        f"{percentile(xs, 95) * 1000:,.0f}",
        f"{max(xs) * 1000:,.0f}",
        f"{len(xs) / wall:.1f}",
        "n/a" if cpu is None else f"{cpu * 1000:,.0f}",
        f"{own * 1000:,.0f}",
        str(crossed),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=Path, default=SEEDS, help="documents folder (copied; default: seeds)")
    parser.add_argument("--questions", type=Path, default=ROOT / "evals" / "seed_questions.jsonl")
    parser.add_argument("--sessions", type=int, default=20, help="parallel sessions, one question each")
    parser.add_argument("--rounds", type=int, default=3, help="times each session asks its question")
    parser.add_argument(
        "--concurrency", default="", help="comma-separated BOT_UI_CONCURRENCY values (default: the server's own)"
    )
    parser.add_argument("--write", action="store_true", help="rewrite the bench_load section of docs/benchmarks.md")
    args = parser.parse_args()

    questions = load_questions(args.questions, args.sessions)
    load_at_start = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    levels = [int(x) for x in args.concurrency.split(",") if x.strip()] or [None]
    rows: list[list[str]] = []
    engine_p50: list[float] = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        work = Path(tmp)
        docs = work / "docs"
        shutil.copytree(args.docs, docs)
        for level in levels:
            run = work / f"run-{level or 'default'}"
            run.mkdir()
            server = ChatServer(docs, run, level).wait()
            try:
                m = measure(server.url, questions, args.rounds, server.proc.pid)
            finally:
                server.stop()
            name = str(level) if level else "default"
            seq_cpu, par_cpu = m["server_cpu"] or (None, None)
            seq_own, par_own = m["client_cpu"]
            rows.append(row("sequential (1 session)", name, m["sequential"], m["seq_wall"], "-", seq_cpu, seq_own))
            label = f"parallel ({len(questions)} sessions)"
            rows.append(row(label, name, m["parallel"], m["par_wall"], len(m["crossed"]), par_cpu, par_own))
            engine_p50.append(percentile(m["engine_ms"], 50))
            failed |= bool(m["crossed"])
            print(md_table(HEADER, rows[-2:]), flush=True)
    table = md_table(HEADER, rows)
    info = machine_info()
    body = "\n".join(
        [
            "## Load (`bench/bench_load.py`)",
            "",
            *run_header(info),
            "",
            f"`bot chat` on a copy of `{os.path.relpath(args.docs, ROOT)}`; the first {len(questions)} questions of "
            f"`{os.path.relpath(args.questions, ROOT)}`, each asked {args.rounds} times per mode through the `/ask` "
            "API with `gradio_client`, after one warm-up pass. Latency is per request, client side; "
            "server CPU is the `bot chat` process's CPU time per request, client CPU the benchmark's own "
            "(its `gradio_client` sessions share one TLS context, see `client()`). "
            f"Load average when the run started: {load_at_start}. "
            f"Engine time (the answer's `latency_ms`, sequential) p50: {min(engine_p50):,.0f} ms. "
            f"Target: parallel p95 <= {TARGET_P95_S} s with no crossed answers.",
            "",
            table,
        ]
    )
    print()
    print(body)
    if args.write:
        write_section("bench_load", body)
    return 1 if failed else 0


HEADER = [
    "Mode",
    "Concurrency",
    "Requests",
    "p50 ms",
    "p95 ms",
    "max ms",
    "Requests/s",
    "Server CPU ms/request",
    "Client CPU ms/request",
    "Crossed answers",
]


if __name__ == "__main__":
    sys.exit(main())
