"""The confidence model: a small logistic regression over :data:`bot.verdict.features.FEATURES`.

The model is data - ``bot/verdict/model.json``: its version, the feature names in order, the scaling,
the coefficients, the intercept, and how it was made (the command, the question sets and halves it was
fitted on, and its cross-validated scores). It is written by :mod:`bot.verdict.train` and read here with
plain Python (no scikit-learn at answer time). Loading checks that the file's feature list is the one
this code computes: a model trained on other features is an error, never silently misread.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError
from bot.verdict.features import FEATURES, near_miss

MODEL_PATH = Path(__file__).with_name("model.json")
CAP_RULES = {"near_miss": near_miss}
"""Rules whose claims get at most the right rate measured for them on the tuning halves (``caps`` in the file)."""
FORMAT = "docqa-verdict-logistic/1"


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression on standardised features: ``p = σ(b + Σ w_i (x_i − μ_i) / σ_i)``."""

    version: str
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    caps: tuple[tuple[str, float], ...] = ()  # (rule, the highest confidence a claim it marks may get)

    def predict(self, values: dict[str, float]) -> float:
        """The probability that the answer described by ``values`` is right (capped by the model's rules)."""
        z = self.intercept
        for name, mu, sd, w in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            z += w * (float(values.get(name, 0.0)) - mu) / sd
        p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        for rule, cap in self.caps:
            if CAP_RULES[rule](values):
                p = min(p, cap)
        return p

    def contributions(self, values: dict[str, float]) -> dict[str, float]:
        """Each feature's share of the logit (for explaining a confidence)."""
        return {
            name: round(w * (float(values.get(name, 0.0)) - mu) / sd, 4)
            for name, mu, sd, w in zip(self.features, self.mean, self.scale, self.coef, strict=True)
        }


def parse_model(data: dict, where: str = "model", features: tuple[str, ...] = FEATURES) -> ConfidenceModel:
    """Check and read a model's JSON form (``features``: the list the code computes for it).

    Raises:
        ConfigError: If the format is unknown, a field is missing, or the feature list is not the one
            :data:`FEATURES` names (same names, same order).

    """
    if data.get("format") != FORMAT:
        raise ConfigError(f"{where}: not a confidence model of format {FORMAT!r} (found {data.get('format')!r}).")
    try:
        n = len(data["features"])
        model = ConfidenceModel(
            version=str(data["version"]),
            features=tuple(data["features"]),
            mean=tuple(float(x) for x in data["mean"]),
            scale=tuple(float(x) or 1.0 for x in data["scale"]),
            coef=tuple(float(x) for x in data["coef"]),
            intercept=float(data["intercept"]),
            caps=tuple((str(k), float(v)) for k, v in data.get("caps", {}).items()),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: damaged confidence model ({type(exc).__name__}: {exc}).") from None
    if model.features != features:
        extra = [f for f in model.features if f not in features]
        lacking = [f for f in features if f not in model.features]
        detail = f"unknown {extra}, missing {lacking}" if extra or lacking else "same names, another order"
        raise ConfigError(
            f"{where}: its feature list does not match this code's ({detail}); retrain it with "
            "`python -m bot.verdict.train`."
        )
    unknown = [rule for rule, _ in model.caps if rule not in CAP_RULES]
    if unknown:
        raise ConfigError(f"{where}: unknown cap rules {unknown} (known: {sorted(CAP_RULES)}).")
    if not (len(model.mean) == len(model.scale) == len(model.coef) == n):
        raise ConfigError(f"{where}: damaged confidence model (the arrays do not have {n} entries).")
    return model


_LOADED: dict[Path, ConfidenceModel] = {}
_LOCK = threading.Lock()


def load_model(path: Path | None = None, features: tuple[str, ...] = FEATURES) -> ConfidenceModel:
    """The confidence model (read and checked once per process) - or another model file for ``features``.

    Raises:
        ConfigError: If the file is missing, not JSON, or does not match the features.

    """
    path = Path(path or MODEL_PATH)
    with _LOCK:
        if path not in _LOADED:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                trainer = "bot.verdict.train_auto" if features != FEATURES else "bot.verdict.train"
                raise ConfigError(
                    f"The confidence model {path} is missing; rebuild it with `python -m {trainer}`."
                ) from None
            except (OSError, ValueError) as exc:
                raise ConfigError(f"The confidence model {path} cannot be read ({exc}).") from None
            _LOADED[path] = parse_model(data, str(path), features)
        return _LOADED[path]
