"""A real Chroma server for tests (``chroma run`` in a subprocess) and backend fixtures.

Registered as a pytest plugin from ``conftest.py``. Tests that take the
``backend`` fixture (or ``store_settings``) run twice: against an embedded
``PersistentClient`` and against the session's Chroma server; the server runs
are marked ``server`` (deselect with ``-m "not server"``).
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMA_BIN = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """``chroma run --path PATH --port PORT`` that can be started, stopped and restarted."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = path.parent / f"{path.name}-chroma-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def heartbeat(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def start(self, timeout: float = 60.0) -> ChromaServer:
        assert CHROMA_BIN.exists(), f"chroma executable not found at {CHROMA_BIN}"
        self.path.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(CHROMA_BIN), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}:\n{self._log_tail()}")
            if self.heartbeat():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run did not answer a heartbeat within {timeout} s:\n{self._log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One Chroma server for the whole session (tests use distinct collection names)."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def backend(request: pytest.FixtureRequest) -> str:
    """Which Chroma deployment the test runs against."""
    return request.param


@pytest.fixture
def chroma_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """The server URL for the ``server`` backend, None for embedded."""
    if backend == "server":
        return request.getfixturevalue("chroma_server").url
    return None


def collection_for(nodeid: str) -> str:
    """A valid collection name (3+ chars) unique to a test."""
    return "t" + hashlib.sha1(nodeid.encode()).hexdigest()[:20]


@pytest.fixture
def collection(request: pytest.FixtureRequest) -> str:
    """This test's own collection name."""
    return collection_for(request.node.nodeid)


@pytest.fixture
def store_settings(seed_docs: Path, tmp_path: Path, chroma_url: str | None, collection: str):
    """Settings over a private seed copy, a private index folder and collection, on the test's backend."""
    from bot.settings import Settings

    return Settings(docs_dir=seed_docs, index_dir=tmp_path / "index", collection=collection, chroma_url=chroma_url)
