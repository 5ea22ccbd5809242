"""Export the packaged sentence-transformers model to one ONNX file (run once; the only user of torch at run time).

The graph takes ``input_ids``, ``attention_mask`` and ``token_type_ids`` (batch and sequence
length dynamic) and returns ``sentence_embedding``: the transformer's token vectors, mean-pooled
over the attention mask and L2-normalised, as the model's sentence-transformers modules
(Transformer, mean Pooling, Normalize) compute them. The exporter is ``torch.onnx.export`` with
``dynamo=True`` (it needs the ``onnx`` and ``onnxscript`` packages); the weights go in a file of
their own beside the graph (ONNX external data). Before the file is moved into
place its vectors of a few probe sentences are compared with sentence-transformers' own: a cosine
below :data:`MIN_COSINE` is an error, so a file that is in the cache is known to give the same
vectors.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import warnings
from pathlib import Path

from bot.errors import ConfigError
from bot.onnx_model import EXPORT_FIX, OnnxEncoder, data_path, remove, write_stamp

log = logging.getLogger(__name__)

MIN_COSINE = 0.9999
"""Lowest cosine between an ONNX vector and sentence-transformers' vector of the same probe sentence."""
PROBES = (
    "How many boats did the harbour count last spring?",
    "The northern ferry line carried 12,345 passengers in its first month, twice the forecast.",
    "  leading and trailing spaces\n",
    "deliver",
    "Ünïcödé, 中文 and emoji ☃ in one line",
    "A long text that is cut at the model's maximum sequence length. " * 40,
)


def _check_layout(model_dir: Path) -> None:
    """Refuse a model whose modules are not Transformer, mean Pooling and Normalize (what the graph computes)."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((model_dir / "modules.json").read_text())]
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"Cannot read the embedding model's layout in {model_dir} ({exc}): {EXPORT_FIX}") from None
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modules != ["Transformer", "Pooling", "Normalize"] or modes != {"pooling_mode_mean_tokens"}:
        raise ConfigError(
            f"The embedding model in {model_dir} is not Transformer + mean Pooling + Normalize "
            f"({modules}, {sorted(modes)}): set BOT_EMBEDDER=torch"
        )


def export_onnx(model_dir: Path, target: Path) -> float:
    """Export the model in ``model_dir`` to ``target`` (and its weights beside it), check it, then stamp it.

    Args:
        model_dir: The sentence-transformers model folder.
        target: Where the ``.onnx`` file goes (written in a temporary folder, then moved).

    Returns:
        The lowest cosine between the file's vectors and sentence-transformers' on :data:`PROBES`.

    Raises:
        ConfigError: If torch, sentence-transformers, onnx or onnxscript is missing, the folder cannot be
            written, or the exported vectors differ from sentence-transformers'.

    """
    _check_layout(model_dir)
    try:
        import numpy as np
        import onnx  # noqa: F401  (torch's exporter needs both; import here to name the fix)
        import onnxscript  # noqa: F401
        import torch

        from bot.minilm import load_model
    except ImportError as exc:
        raise ConfigError(f"Cannot export the embedding model to ONNX ({exc}): {EXPORT_FIX}") from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create {target.parent} for the ONNX embedding model ({exc}): "
            "set BOT_MODEL_DIR to a writable folder"
        ) from None
    st_model = load_model(str(model_dir))
    bert = st_model[0].auto_model.eval()

    class SentenceEmbedding(torch.nn.Module):
        """Transformer + mean pooling over the attention mask + L2 normalisation."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor):
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    example = torch.ones((2, 8), dtype=torch.long)
    batch, seq = torch.export.Dim("batch", min=1, max=65536), torch.export.Dim("seq", min=1, max=512)
    # Written under the final names in a folder of its own (the graph names its weights file), then moved.
    work = target.parent / f".export-{os.getpid()}"
    staged = work / target.name
    try:
        work.mkdir(exist_ok=True)
        with _quiet_exporter(), torch.no_grad():
            program = torch.onnx.export(
                SentenceEmbedding().eval(),
                (example, torch.ones_like(example), torch.zeros_like(example)),
                dynamo=True,
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["sentence_embedding"],
                dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}, {0: batch, 1: seq}),
                optimize=True,
                verbose=False,
            )
            program.save(str(staged), external_data=True)
        if not data_path(staged).is_file():
            raise ConfigError(f"The ONNX exporter did not write {data_path(staged).name}: set BOT_EMBEDDER=torch")
        want = st_model.encode(list(PROBES), normalize_embeddings=True, show_progress_bar=False)
        got = OnnxEncoder(staged, model_dir).encode(PROBES)
        cosine = float(np.min(np.sum(want * got, axis=1) / np.linalg.norm(want, axis=1) / np.linalg.norm(got, axis=1)))
        if not cosine >= MIN_COSINE:
            raise ConfigError(
                f"The ONNX export of the embedding model gives other vectors than sentence-transformers (cosine "
                f"{cosine:.6f} < {MIN_COSINE}): set BOT_EMBEDDER=torch"
            )
        remove(target)
        os.replace(data_path(staged), data_path(target))
        os.replace(staged, target)
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the ONNX embedding model to {target.parent} ({exc}): set BOT_MODEL_DIR to a writable folder"
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_stamp(target, min_cosine=round(cosine, 7), torch=torch.__version__)
    log.info("Exported %s (cosine to sentence-transformers >= %.7f)", target, cosine)
    return cosine


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's warnings and log lines (e.g. "torchvision is not installed") for the export."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
