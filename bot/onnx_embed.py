"""The embedding model without torch: an ONNX copy of the packaged all-MiniLM-L6-v2, run by ONNX Runtime.

Importing torch and sentence-transformers takes seconds and hundreds of MiB; a one-shot ``bot ask``
needs one query vector. So the packaged model is exported once to ONNX (transformer, mean pooling
and normalisation in one graph, :mod:`bot.onnx_export`, the only place that needs torch), and every
later process embeds with ``onnxruntime`` and the model's own ``tokenizers`` tokenizer, which import
in a fraction of a second. The vectors equal sentence-transformers' (the export checks cosine >=
0.9999 on probe sentences before the file is used), so indexes built with either stay valid.

The export lives in the model cache (``BOT_MODEL_DIR/onnx``): a small graph file and its weights
beside it (ONNX external data, which ONNX Runtime maps instead of copying: it loads about three
times faster and in about 80 MiB less memory than one file). Both are named after a key of the
packaged model (its files' names, sizes and modification times, and :data:`FORMAT`): a new or
reinstalled model gets new files, and older ones are removed. A stamp next to them (their sizes,
modification times and sha256, as for the local model) lets later runs verify them with one
``stat`` each; a file that changed since it was stamped is hashed again, and a damaged or missing
file is exported again (with a one-line message on stderr), or, when torch is not there to export
it, is a :class:`~bot.errors.ConfigError` naming the fix.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

from bot.errors import ConfigError
from bot.minilm import model_path
from bot.onnx_model import (
    FORMAT,
    PREFIX,
    OnnxEncoder,
    _stamp_path,
    check_file,
    data_path,
    onnx_cache_dir,
    onnx_file,
    remove,
    source_key,
)

__all__ = [
    "FORMAT",
    "OnnxEncoder",
    "check_file",
    "data_path",
    "ensure_onnx",
    "load_encoder",
    "onnx_cache_dir",
    "onnx_file",
    "source_key",
]

log = logging.getLogger(__name__)
_LOCK = threading.Lock()


def ensure_onnx(model_dir: Path | None = None, cache_dir: Path | str | None = None) -> Path:
    """Return the verified ONNX copy of the model, exporting it first when it is missing, stale or damaged.

    Args:
        model_dir: The sentence-transformers model folder; default the packaged model.
        cache_dir: The model cache (``BOT_MODEL_DIR``); the file goes in its ``onnx`` folder.

    Returns:
        The path of the ``.onnx`` file.

    Raises:
        ConfigError: If the file must be exported and cannot be (no torch, unwritable folder), naming the fix.

    """
    model_dir = Path(model_dir or model_path())
    target = onnx_file(model_dir, cache_dir)
    problem = check_file(target)
    if problem is None:
        return target
    if any(p.exists() for p in (target, data_path(target), _stamp_path(target))):
        log.warning("The ONNX embedding model is damaged (%s); exporting it again (up to a minute).", problem)
        remove(target)
    else:
        log.warning("Exporting the embedding model to ONNX (once, up to a minute): %s", target)
    from bot.onnx_export import export_onnx

    export_onnx(model_dir, target)
    for old in target.parent.glob(f"{PREFIX}-*.onnx"):  # files of an earlier model or format
        if old != target:
            remove(old)
    return target


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


@lru_cache(maxsize=2)
def _load(model_dir: str, cache_dir: str | None) -> OnnxEncoder:
    path = ensure_onnx(Path(model_dir), cache_dir)
    try:
        return OnnxEncoder(path, Path(model_dir))
    except Exception as exc:  # a file damaged in place, with its size and time kept: ONNX Runtime cannot load it
        log.warning("ONNX Runtime cannot load %s (%s); exporting it again.", path, _first_line(exc))
        remove(path)
        path = ensure_onnx(Path(model_dir), cache_dir)
        try:
            return OnnxEncoder(path, Path(model_dir))
        except Exception as again:
            raise ConfigError(
                f"ONNX Runtime cannot load the embedding model {path} ({_first_line(again)}): "
                f"delete it and run again, or set BOT_EMBEDDER=torch"
            ) from None


def load_encoder(model_dir: Path | str | None = None, cache_dir: Path | str | None = None) -> OnnxEncoder:
    """The ONNX encoder of a model folder (loaded once per process; exported first if need be).

    Args:
        model_dir: The sentence-transformers model folder; default the packaged model.
        cache_dir: The model cache (``BOT_MODEL_DIR``); default ``~/.cache/docqa-bot/models``.

    Returns:
        The encoder.

    Raises:
        ConfigError: If the ONNX file cannot be exported or loaded; the message names the fix.

    """
    with _LOCK:
        return _load(str(model_dir or model_path()), None if cache_dir is None else str(cache_dir))
