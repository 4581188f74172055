from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.core.model import MODEL_PATH, LinearModel, ModelError, feature_fingerprint, load_model, parse_model
from bot.core.pipeline.answerability import ANSWERABILITY_FEATURES, INTENT_FEATURES
from bot.core.pipeline.features import CANDIDATE_FEATURES


def committed() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    return raw


def test_the_committed_model_loads_and_fits_the_engines_features() -> None:
    model = load_model()
    assert model.ranker.features == CANDIDATE_FEATURES
    assert model.answerability.features == ANSWERABILITY_FEATURES
    assert model.intents.features == INTENT_FEATURES
    assert model.fingerprint == feature_fingerprint()
    model.check(CANDIDATE_FEATURES, ANSWERABILITY_FEATURES, INTENT_FEATURES)


def test_a_model_fitted_on_other_features_is_refused() -> None:
    model = load_model()
    with pytest.raises(ModelError, match="python -m bot fit"):
        model.check(CANDIDATE_FEATURES[:-1], ANSWERABILITY_FEATURES, INTENT_FEATURES)


def test_a_model_fitted_on_older_feature_code_is_refused() -> None:
    raw = committed()
    raw["fingerprint"] = "0123456789abcdef"
    with pytest.raises(ModelError, match="python -m bot fit") as caught:
        parse_model(json.dumps(raw), "model.json")
    assert "0123456789abcdef" in str(caught.value)
    assert feature_fingerprint() in str(caught.value)


def test_the_fingerprint_to_compare_with_can_be_given() -> None:
    raw = committed()
    raw["fingerprint"] = "0123456789abcdef"
    model = parse_model(json.dumps(raw), "model.json", fingerprint="0123456789abcdef")
    assert model.fingerprint == "0123456789abcdef"
    with pytest.raises(ModelError, match="python -m bot fit"):
        parse_model(MODEL_PATH.read_text(encoding="utf-8"), "model.json", fingerprint="0123456789abcdef")


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[1, 2, 3]",
        "",
    ],
)
def test_a_malformed_model_file_is_refused(text: str) -> None:
    with pytest.raises(ModelError, match=r"^model\.json: "):
        parse_model(text, "model.json")


def test_a_model_file_of_another_format_is_refused() -> None:
    raw = committed()
    raw["format"] = 2
    with pytest.raises(ModelError, match="unknown model format 2"):
        parse_model(json.dumps(raw), "model.json")


@pytest.mark.parametrize(
    ("part", "key", "value"),
    [
        ("ranker", "scale", "negative"),
        ("answerability", "scale", "zero"),
        ("ranker", "weights", "short"),
        ("intents", "bias", "missing"),
    ],
)
def test_a_model_with_broken_numbers_is_refused(part: str, key: str, value: str) -> None:
    raw = committed()
    model = raw[part]
    if value == "negative":
        model[key][0] = -1.0
    elif value == "zero":
        model[key][3] = 0.0
    elif value == "short":
        model[key] = model[key][:-1]
    else:
        del model[key]
    with pytest.raises(ModelError, match="not a valid model file"):
        parse_model(json.dumps(raw), "model.json")


def test_a_missing_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read the model file"):
        load_model(tmp_path / "model.json")


def test_contributions_with_the_bias_sum_to_the_score() -> None:
    model = LinearModel(
        ("a", "b", "c"),
        np.array([1.0, 0.0, -2.0]),
        np.array([2.0, 1.0, 0.5]),
        np.array([0.5, -1.0, 2.0]),
        0.25,
    )
    values = np.array([3.0, 4.0, -1.0])
    parts = model.contributions(values)
    assert parts == pytest.approx({"a": 0.5, "b": -4.0, "c": 4.0})
    assert list(parts) == ["b", "c", "a"]  # largest effect first
    score = float(model.scores(values.reshape(1, -1))[0])
    assert sum(parts.values()) + model.bias == pytest.approx(score)
    assert model.probability(values) == pytest.approx(1 / (1 + np.exp(-score)))


def test_contributions_of_the_committed_model_sum_to_its_score() -> None:
    model = load_model().answerability
    values = np.linspace(0.0, 1.0, len(model.features))
    score = float(model.scores(values.reshape(1, -1))[0])
    assert sum(model.contributions(values).values()) + model.bias == pytest.approx(score)


def test_a_model_round_trips_through_its_json() -> None:
    model = load_model()
    again = LinearModel.from_json(model.ranker.to_json())
    assert again.features == model.ranker.features
    assert np.allclose(again.weights, model.ranker.weights, atol=1e-6)
    assert np.allclose(again.scale, model.ranker.scale, atol=1e-6)
