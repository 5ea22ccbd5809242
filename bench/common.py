"""Shared helpers of the benchmark scripts: corpus generator, timing, machine info, docs writer.

Not part of the ``bot`` package; imported by ``bench/bench_*.py`` when they run as scripts.
"""

from __future__ import annotations

import os
import platform
import random
import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "huawei_auto_brand_alliances.txt"
DOCS_FILE = ROOT / "docs" / "benchmarks.md"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

T = TypeVar("T")

# Name substitutions of the generated corpus: each seed name is replaced by one of its alternatives.
_NAMES: dict[str, tuple[str, ...]] = {
    "Huawei": ("Huawei", "Xiaomi", "Baidu", "Tencent", "Alibaba", "Lenovo", "ZTE", "Oppo"),
    "Dongfeng": ("Dongfeng", "FAW", "BAIC", "SAIC", "Chery", "JAC", "Geely", "Great Wall"),
    "GAC": ("GAC", "BYD", "Haval", "Hongqi", "Zeekr"),
    "Seres": ("Seres", "Leapmotor", "Neta", "Voyah", "Jetour"),
    "Changan": ("Changan", "Dorcen", "Lynk", "Roewe", "Wuling"),
    "Chongqing": ("Chongqing", "Shenzhen", "Wuhan", "Hefei", "Shanghai", "Guangzhou", "Xi'an"),
    "Yijing": ("Yijing", "Lanjing", "Haojing", "Mingjing", "Tianjing"),
    "Yinwang": ("Yinwang", "Xinwang", "Zhiwang", "Lianwang"),
    "HIMA": ("HIMA", "SIMA", "NIMA", "TIMA"),
    "November": ("January", "March", "May", "July", "September", "November"),
}
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_NAME = re.compile(r"\b(" + "|".join(map(re.escape, _NAMES)) + r")\b")


def _vary_number(match: re.Match[str], rng: random.Random) -> str:
    """Scale a number by a random factor, keeping its format (thousands separators, decimals)."""
    raw = match.group(0)
    digits = raw.replace(",", "")
    factor = rng.uniform(0.5, 1.8)
    if "." in digits:
        decimals = len(digits.split(".")[1])
        return f"{float(digits) * factor:.{decimals}f}"
    value = max(1, round(int(digits) * factor))
    return f"{value:,}" if "," in raw else str(value)


def generate_corpus(dest: Path, n_docs: int = 40, seed: int = 7) -> list[Path]:
    """Write ``n_docs`` deterministic variants of the seed article into ``dest``.

    Each variant renames the companies/places, rescales every number and
    shuffles and drops a few paragraphs, so chunk texts (and facts) differ.

    Args:
        dest: Folder to write ``doc_XXX.txt`` files into (created).
        n_docs: Number of documents (about 12 chunks each with the default chunk size).
        seed: Base seed of the generator.

    Returns:
        The written paths, sorted.
    """
    dest.mkdir(parents=True, exist_ok=True)
    paragraphs = [p for p in SEED_FILE.read_text(encoding="utf-8").split("\n") if p.strip()]
    paths = []
    for i in range(n_docs):
        rng = random.Random(seed * 100_003 + i)
        names = {k: rng.choice(v) for k, v in _NAMES.items()}
        body = paragraphs[1:]
        rng.shuffle(body)
        body = body[: len(body) - rng.randint(0, 2)]
        text = "\n".join([paragraphs[0], *body])
        text = _NAME.sub(lambda m, names=names: names[m.group(1)], text)
        text = _NUMBER.sub(lambda m, rng=rng: _vary_number(m, rng), text)
        path = dest / f"doc_{i:03d}.txt"
        path.write_text(text + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Run ``fn`` once; return (seconds, result)."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def median(xs: Sequence[float]) -> float:
    """Median of a non-empty sequence."""
    return statistics.median(xs)


def percentile(xs: Sequence[float], q: float) -> float:
    """Percentile ``q`` (0-100) with linear interpolation."""
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    """CPU, cores and versions of the libraries that matter for the numbers."""
    import torch

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "chromadb": _version("chromadb"),
        "sentence-transformers": _version("sentence-transformers"),
        "langchain-chroma": _version("langchain-chroma"),
        "langchain-huggingface": _version("langchain-huggingface"),
    }


def run_header(info: dict[str, Any]) -> list[str]:
    """Markdown lines stating the exact command, the date and the machine."""
    cmd = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    versions = ", ".join(
        f"{k} {info[k]}"
        for k in ("python", "torch", "chromadb", "sentence-transformers", "langchain-chroma", "langchain-huggingface")
    )
    return [
        f"Command: `{cmd}`  ",
        f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}  ",
        f"Machine: {info['cpu']}, {info['cores']} cores (torch threads: {info['torch_threads']}); {versions}",
    ]


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


_DOC_HEADER = "# Benchmarks\n\nSee the sections below; each is rewritten by its script with `--write`.\n"


def write_section(name: str, body: str, path: Path = DOCS_FILE) -> None:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->`` in the docs file.

    Other sections and the text around them are kept; a missing section is appended.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else _DOC_HEADER
    # Markers count only on a line of their own, so prose may mention them.
    pattern = re.compile(rf"^{re.escape(start)}$.*?^{re.escape(end)}$", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def release_chroma() -> None:
    """Drop chromadb's cached clients so temporary index folders can be removed and recreated."""
    try:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # cache layout differs between chromadb versions; it is only a cleanup
        pass
