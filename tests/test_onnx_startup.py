"""A one-shot command imports only what it uses: no torch, no sentence-transformers, no LangChain tracing.

Each command runs in a fresh interpreter (as ``bot`` does) over an index built in-process; the test
lists the heavy modules left in ``sys.modules`` when the command is done. The startup costs themselves
are measured in ``bench/bench_cold.py``, not here.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pytest

from bot.embed import MiniLMEmbeddings
from bot.indexer import sync_index
from bot.settings import Settings

HEAVY = ("torch", "sentence_transformers", "transformers", "langsmith", "langchain_core.retrievers", "gradio")
RUN = """
import json, os, sys
sys.argv = ["bot", *json.loads(os.environ["CLI_ARGS"])]
from bot.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = [m for m in json.loads(os.environ["HEAVY_MODULES"]) if m in sys.modules]
print("\\nRESULT " + json.dumps({"code": code, "heavy": heavy, "onnxruntime": "onnxruntime" in sys.modules}))
"""


def run_cli(*args: str) -> dict:
    """Run ``bot ARGS`` in a fresh interpreter; its exit code, output and the heavy modules it imported."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CLI_ARGS": json.dumps(args), "HEAVY_MODULES": json.dumps(HEAVY)}
    out = subprocess.run([sys.executable, "-c", RUN], capture_output=True, text=True, timeout=600, env=env)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, out.stdout + out.stderr
    result = json.loads(lines[-1].removeprefix("RESULT "))
    result["stdout"], result["stderr"] = out.stdout, out.stderr
    return result


@pytest.fixture
def indexed(seed_settings: Settings, embeddings: MiniLMEmbeddings) -> Settings:
    sync_index(seed_settings, embedder=embeddings)
    return seed_settings


@pytest.mark.parametrize(
    ("command", "embeds"),
    [
        (["ask", "How many vehicles did HIMA deliver in November?"], True),
        (["search", "deliveries in November", "-k", "2"], True),
        (["facts", "--subject", "HIMA"], False),
    ],
)
def test_one_shot_commands_import_no_heavy_module(indexed: Settings, command: list[str], embeds: bool) -> None:
    result = run_cli(*command, "--docs", str(indexed.docs_dir), "--index", str(indexed.index_dir))
    assert result["code"] == 0, result["stderr"]
    assert result["heavy"] == [], result["heavy"]
    assert result["onnxruntime"] is embeds  # bot facts embeds nothing, so it does not load the model at all
    if command[0] == "ask":
        assert "81,864" in result["stdout"]


def test_the_lexicon_is_sorted_and_answers_as_lemminflect() -> None:
    from lemminflect import config, getAllLemmas

    from bot.language.lexicon import all_lemmas, lines, overrides, word_of

    with gzip.open(config.lemma_lu_fn, "rt") as f:
        assert lines() == [line.rstrip("\n") for line in f]
    words = [word_of(line) for line in lines()]
    assert words == sorted(words)  # the binary search relies on it (a new lemminflect could change it)
    for word in {w.lower() for w in words} | set(overrides()) | {"bought", "xyzzy", "", "'d"}:
        assert list(all_lemmas(word).items()) == list(getAllLemmas(word).items()), word
