"""The fitted models of the answer path, loaded from one small file: ``bot/core/model.json``.

``python -m bot fit`` writes the file (see :mod:`bot.fitting`). It holds, for the ranking model
and the answerability model, the names of their features, how each was standardised and its
weight, plus a fingerprint of the code that computes the features. The fingerprint is checked
when the file is loaded: a model fitted on features that have since changed would score
silently wrong, so it is refused, and the message says how to fit it again.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.core.errors import CitebotError

__all__ = [
    "FEATURE_SOURCES",
    "MODEL_PATH",
    "FittedModel",
    "LinearModel",
    "ModelError",
    "feature_fingerprint",
    "load_model",
    "model_digest",
    "parse_model",
]

FloatArray = npt.NDArray[np.float64]

_CORE = Path(__file__).resolve().parent
MODEL_PATH = _CORE / "model.json"
MODEL_FORMAT = 1
# Every file whose code shapes a feature value. Editing any of them changes the fingerprint, so
# the model must be fitted again (`python -m bot fit`) before the engine will load it.
FEATURE_SOURCES: tuple[str, ...] = (
    "english.py",
    "lexicon.py",
    "data/english-synonyms.tsv",
    "text.py",
    "documents.py",
    "sentences.py",
    "mentions.py",
    "index.py",
    "intent_matcher.py",
    "pipeline/analysis.py",
    "pipeline/retrieval.py",
    "pipeline/features.py",
    "pipeline/answerability.py",
)


class ModelError(CitebotError):
    """The model file is missing, malformed or was fitted on other feature code."""


def feature_fingerprint() -> str:
    """A hash of the code in :data:`FEATURE_SOURCES`, as the fit records it."""
    digest = hashlib.sha256()
    for name in FEATURE_SOURCES:
        digest.update(name.encode() + b"\0")
        # Line endings are normalised so a checkout on another system has the same fingerprint.
        digest.update((_CORE / name).read_bytes().replace(b"\r\n", b"\n"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class LinearModel:
    """A linear score over standardised features: ``((x - mean) / scale) . weights + bias``."""

    features: tuple[str, ...]
    mean: FloatArray
    scale: FloatArray
    weights: FloatArray
    bias: float

    def scores(self, values: FloatArray) -> FloatArray:
        """The score of each row of ``values`` (columns in :attr:`features` order)."""
        return ((values - self.mean) / self.scale) @ self.weights + self.bias

    def probability(self, values: FloatArray) -> float:
        """The logistic probability of one row of ``values``."""
        logit = float(self.scores(values.reshape(1, -1))[0])
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))

    def contributions(self, values: FloatArray) -> dict[str, float]:
        """How much each feature of one row moved the score, largest effect first."""
        parts = (values - self.mean) / self.scale * self.weights
        pairs = sorted(zip(self.features, parts.tolist(), strict=True), key=lambda p: -abs(p[1]))
        return dict(pairs)

    def to_json(self) -> dict[str, Any]:
        """The model as stored in the model file."""
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(float(self.bias), 6),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LinearModel:
        """A model as read from the model file."""
        features = tuple(str(f) for f in raw["features"])
        arrays = [np.asarray(raw[key], dtype=np.float64) for key in ("mean", "scale", "weights")]
        if any(a.shape != (len(features),) for a in arrays) or not np.all(arrays[1] > 0):
            raise ValueError("mean, scale and weights must have one positive-scale entry per feature")
        return cls(features, arrays[0], arrays[1], arrays[2], float(raw["bias"]))


@dataclass(frozen=True)
class FittedModel:
    """Both models of the answer path and what they were fitted on."""

    ranker: LinearModel
    answerability: LinearModel
    intents: LinearModel
    fingerprint: str  # of the feature code the models were fitted on
    digest: str  # of the model file: part of every knowledge version
    report: dict[str, Any]  # what the fit measured, for people reading the file

    def check(
        self, ranker: tuple[str, ...], answerability: tuple[str, ...], intents: tuple[str, ...]
    ) -> None:
        """Refuse a model whose features are not the ones the engine computes."""
        fitted = (self.ranker.features, self.answerability.features, self.intents.features)
        if fitted != (ranker, answerability, intents):
            raise ModelError(
                "the model file was fitted on other features than the engine computes; "
                "run `python -m bot fit` to fit it again"
            )


def parse_model(text: str, source: str, *, fingerprint: str | None = None) -> FittedModel:
    """Read a model file's text; raises :class:`ModelError` when it is malformed or stale."""
    try:
        raw = json.loads(text)
        if raw.get("format") != MODEL_FORMAT:
            raise ModelError(
                f"{source}: unknown model format {raw.get('format')!r}, expected {MODEL_FORMAT}; "
                "run `python -m bot fit` to write one this citebot reads"
            )
        model = FittedModel(
            LinearModel.from_json(raw["ranker"]),
            LinearModel.from_json(raw["answerability"]),
            LinearModel.from_json(raw["intents"]),
            str(raw["fingerprint"]),
            hashlib.sha256(text.encode()).hexdigest()[:16],  # the same as model_digest
            dict(raw.get("report", {})),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(
            f"{source}: not a valid model file ({exc}); "
            "restore it from the repository or run `python -m bot fit`"
        ) from exc
    expected = feature_fingerprint() if fingerprint is None else fingerprint
    if model.fingerprint != expected:
        raise ModelError(
            f"{source} was fitted on feature code {model.fingerprint}, but the code is now {expected}: "
            "run `python -m bot fit` to fit the models again"
        )
    return model


@lru_cache(maxsize=4)
def model_digest(path: Path = MODEL_PATH) -> str:
    """A hash of the model file's bytes ("none" without one): part of every knowledge version."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "none"


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> FittedModel:
    """The fitted model in ``path`` (read once per process)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read the model file {path}: {exc.strerror}") from exc
    return parse_model(text, str(path))
