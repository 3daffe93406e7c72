"""`scale=`: the input scaling fitted at training time and carried inside the model."""

import json

import keras
import numpy as np
import pytest
from conftest import tensorflow_only

from keras_dec.backbones.scaling import ScalingFit, fit_scaling, has_input_scaling, scale
from keras_dec.cli import main
from keras_dec.pipeline import train_dec
from keras_dec.recipe import Recipe
from keras_dec.saving import load_model

RECIPE = Recipe(dims=(16, 4), pretrain_epochs=3, pretrain_learning_rate=0.1, max_iter=20,
                update_interval=5)


def _counts(n=120, d=6):
    """Integer features (counts 0-40) with three groups and one constant column."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], n // 3)
    x = rng.poisson(lam=np.array([3.0, 12.0, 30.0])[y, None], size=(n, d))
    x[:, -1] = 7
    return x.astype("int64"), y


@pytest.mark.parametrize("method", ["minmax", "standard"])
def test_the_layer_matches_numpy(method):
    x, _ = _counts()
    x = x.astype("float64")
    if method == "minmax":
        span = x.max(0) - x.min(0)
        expected = (x - x.min(0)) / np.where(span == 0, 1, span)
    else:
        std = x.std(0)
        expected = (x - x.mean(0)) / np.where(std == 0, 1, std)
    got = scale(x.astype("float32"), fit_scaling(x, method))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.all(got[:, -1] == 0)  # a constant column becomes 0


@pytest.mark.parametrize("method", ["minmax", "standard"])
def test_fitting_block_by_block_matches_the_whole_array(method):
    x, _ = _counts()
    fit = ScalingFit(method)
    for block in np.array_split(x, [1, 50, 50, 97]):  # an empty block among them
        fit.add(block)
    x = x.astype("float32")
    np.testing.assert_allclose(scale(x, fit.layer()), scale(x, fit_scaling(x, method)),
                               atol=1e-5)


def test_a_fit_with_no_rows_is_refused_and_none_needs_none():
    with pytest.raises(ValueError, match="No rows to fit the 'standard' scaling on"):
        ScalingFit("standard").layer()
    fit = ScalingFit("none")
    fit.add(np.ones((3, 2)))
    assert fit.layer() is None
    with pytest.raises(ValueError, match="Received: scale='log'"):
        ScalingFit("log")


def test_none_is_no_layer_and_unknown_methods_are_refused():
    assert fit_scaling(np.ones((3, 2)), "none") is None
    with pytest.raises(ValueError, match="`scale` must be 'none', 'minmax' or 'standard'. Received: scale='robust'"):
        fit_scaling(np.ones((3, 2)), "robust")
    with pytest.raises(ValueError, match="`scale`"):
        train_dec(np.random.default_rng(0).random((20, 3)), 2, RECIPE, scale="log")


def test_integers_are_refused_without_a_scale_and_accepted_with_one():
    x, _ = _counts()
    with pytest.raises(ValueError, match="holds integers from 0 to"):
        train_dec(x, 3, RECIPE, seed=0, verbose=0)
    dec, report = train_dec(x, 3, RECIPE, seed=0, verbose=0, scale="minmax")
    assert report["scale"] == "minmax" and has_input_scaling(dec)


def test_scaling_inside_equals_scaling_the_data_first(tmp_path):
    x, y = _counts()
    inside, report = train_dec(x, 3, RECIPE, y=y, seed=0, verbose=0, scale="minmax",
                               output=tmp_path / "run")
    x_scaled = scale(x.astype("float32"), fit_scaling(x, "minmax"))
    outside, outside_report = train_dec(x_scaled, 3, RECIPE, y=y, seed=0, verbose=0)
    np.testing.assert_array_equal(inside.predict_clusters(x), outside.predict_clusters(x_scaled))
    assert report["dec"] == pytest.approx(outside_report["dec"])
    # The saved model takes raw features and scales them the same way.
    loaded = load_model(tmp_path / "run" / "model.keras")
    assert has_input_scaling(loaded)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), inside.predict(x, verbose=0),
                               atol=1e-6)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["scale"] == "minmax"


def test_a_plain_model_has_no_input_scaling():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert not has_input_scaling(model)


def _train_cli(tmp_path, x, y):
    np.savez(tmp_path / "counts.npz", x=x, y=y)
    code = main(["train", "--data", str(tmp_path / "counts.npz"), "--n-clusters", "3",
                 "--output", str(tmp_path / "run"), "--scale", "standard", "--dims", "16,4",
                 "--pretrain-epochs", "3", "--max-iter", "20", "--quiet", "--seed", "0"])
    assert code == 0
    return tmp_path / "run" / "model.keras"


def test_cli_train_and_predict_take_raw_integer_features(tmp_path, capsys):
    x, y = _counts()
    model_path = _train_cli(tmp_path, x, y)
    np.save(tmp_path / "raw.npy", x)
    assert main(["predict", "--model", str(model_path), "--input", str(tmp_path / "raw.npy"),
                 "--output", str(tmp_path / "ids.npy")]) == 0
    expected = load_model(model_path).predict_clusters(x)
    np.testing.assert_array_equal(np.load(tmp_path / "ids.npy"), expected)


@tensorflow_only
def test_the_exported_graph_scales_raw_features_itself(tmp_path, capsys):
    x, y = _counts()
    model_path = _train_cli(tmp_path, x, y)
    base = tmp_path / "export"
    assert main(["export", "--model", str(model_path), "--base-path", str(base),
                 "--tflite", "none"]) == 0  # parity checked on the raw training data
    assert "FAILED" not in capsys.readouterr().out
    saved_model = base / "dec" / "1"
    meta = json.loads((saved_model / "assets.extra" / "keras_dec.json").read_text())
    assert meta["input_scaling"] is True and meta["training"]["scale"] == "standard"
    np.save(tmp_path / "raw.npy", x)
    assert main(["predict", "--model", str(saved_model), "--input", str(tmp_path / "raw.npy"),
                 "--output", str(tmp_path / "ids.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "ids.npy"),
                                  load_model(model_path).predict_clusters(x))
