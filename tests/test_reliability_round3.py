"""Reliability, round three (issue 26): nothing silently wrong, every failure one line."""

import json

import keras
import numpy as np
import pytest
from conftest import tensorflow_only

import keras_dec.utils.validation as validation
from keras_dec import DEC, Recipe, train_dec
from keras_dec.cli import main
from keras_dec.datasets import ShardStream
from keras_dec.datasets.shards import write_shard
from keras_dec.utils.folder_lock import exclusive_folder

RECIPE = Recipe(dims=(8, 3), pretrain_epochs=2, max_iter=6, update_interval=3, n_init=2)
TINY = ["--dims", "8,3", "--pretrain-epochs", "2", "--max-iter", "6", "--quiet", "--seed", "0"]


def counts(seed=0, n=90, d=5):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n // 3)
    return np.clip(rng.normal(0, 1, (3, d))[y] * 30 + 50 + rng.normal(0, 3, (n, d)),
                   0, 100).astype("int64")


@pytest.fixture(scope="module")
def scaled_run(tmp_path_factory):
    """A run trained with --scale on raw integer counts from a file."""
    root = tmp_path_factory.mktemp("round3")
    np.save(root / "x.npy", counts())
    assert main(["train", "--data", str(root / "x.npy"), "--n-clusters", "3", "--scale",
                 "minmax", "--output", str(root / "run"), *TINY]) == 0
    return root


def test_train_checks_and_scales_its_input_once(monkeypatch):
    """Spied: `check_features` and the scaling rule run once for train_dec on an array."""
    calls = {"check_features": 0, "check_scaled": 0}
    import sys

    for name in calls:
        original = getattr(validation, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("keras_dec") and getattr(
                    module, name, None) is original:
                monkeypatch.setattr(module, name, spy)
    x = counts().astype("float32") / 100
    train_dec(x, 3, RECIPE.replace(pretrain_method="layerwise"), seed=0, verbose=0,
              baseline_kmeans=True)
    assert calls == {"check_features": 1, "check_scaled": 1}


def test_a_run_is_not_resumed_on_another_backend(tmp_path, monkeypatch):
    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch >= 1:  # after the first epoch's checkpoint
                raise KeyboardInterrupt

    x = counts().astype("float32") / 100
    with pytest.raises(KeyboardInterrupt):
        train_dec(x, 3, RECIPE, output=tmp_path, seed=0, verbose=0, pretrain_callbacks=[Stop()])
    import keras_dec.pipeline.train as train_module

    trained_on = keras.backend.backend()
    other = "jax" if trained_on != "jax" else "torch"
    monkeypatch.setattr(train_module.keras.backend, "backend", lambda: other)
    assert (tmp_path / "checkpoints" / "state.json").is_file()
    with pytest.raises(ValueError, match=rf"different run \(backend: '{trained_on}' "
                       rf"-> '{other}' changed\)"):
        train_dec(x, 3, RECIPE, output=tmp_path, seed=0, verbose=0)


@tensorflow_only
def test_report_and_export_refuse_data_that_changed_since_training(scaled_run, tmp_path, capsys):
    data = tmp_path / "x.npy"
    np.save(data, counts())
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--n-clusters", "3", "--scale", "minmax",
                 "--output", str(run), *TINY]) == 0
    assert json.loads((run / "metrics.json").read_text())["data_sha256"]
    np.save(data, counts(seed=1))  # same width, other rows
    capsys.readouterr()
    assert main(["report", str(run), "--map", "pca"]) == 2
    assert "is not the data this run trained on" in capsys.readouterr().err
    assert not (run / "report.html").exists()
    assert main(["export", "--model", str(run / "model.keras"), "--base-path",
                 str(tmp_path / "models"), "--tflite", ""]) == 2
    assert "is not the data this run trained on" in capsys.readouterr().err
    np.save(data, counts())
    assert main(["report", str(run), "--map", "pca"]) == 0


@tensorflow_only
def test_tflite_of_a_scaled_model_takes_raw_integers(scaled_run, tmp_path, capsys):
    base = tmp_path / "models"
    assert main(["export", "--model", str(scaled_run / "run" / "model.keras"), "--base-path",
                 str(base), "--tflite", "none"]) == 0
    manifest = json.loads((base / "tflite" / "dec-v1.json").read_text())
    assert manifest["input_scaling"] is True and manifest["input_shape"] == [5]
    ids = {}
    for name, model in (("keras", scaled_run / "run" / "model.keras"),
                        ("tflite", base / "tflite" / "dec-v1-none.tflite")):
        assert main(["predict", "--model", str(model), "--input", str(scaled_run / "x.npy"),
                     "--output", str(tmp_path / f"{name}.npy")]) == 0, capsys.readouterr().err
        ids[name] = np.load(tmp_path / f"{name}.npy")
    np.testing.assert_array_equal(ids["tflite"], ids["keras"])


@tensorflow_only
@pytest.mark.parametrize("name", ["tflite", " ", " dec"])
def test_export_names_that_would_collide_or_hide_are_refused(scaled_run, tmp_path, name, capsys):
    assert main(["export", "--model", str(scaled_run / "run" / "model.keras"), "--base-path",
                 str(tmp_path), "--name", name, "--tflite", "", "--no-parity"]) == 2
    assert "`name` must" in capsys.readouterr().err
    assert not [p for p in tmp_path.iterdir() if p.name != ".keras-dec.lock"]


def test_select_k_takes_the_output_folder_lock_and_refuses_a_split_it_cannot_make(tmp_path,
                                                                                capsys):
    np.save(tmp_path / "x.npy", counts().astype("float32") / 100)
    args = ["select-k", "--data", str(tmp_path / "x.npy"), "--k", "2,3", "--quiet", "--dims",
            "8,3", "--pretrain-epochs", "1", "--max-iter", "2"]
    with exclusive_folder(tmp_path / "busy", "keras-dec train"):
        assert main([*args, "--output", str(tmp_path / "busy")]) == 2
    assert "is in use by another keras-dec process" in capsys.readouterr().err
    assert main([*args, "--output", str(tmp_path / "k"), "--validation-fraction", "0.001"]) == 2
    assert ("`validation_fraction` must leave at least max(candidates)=3 rows on each side of "
            "the split of 90 rows. Received: validation_fraction=0.001 (0 rows held out)"
            ) in capsys.readouterr().err
    assert not (tmp_path / "k" / "select_k.json").exists()


@pytest.mark.parametrize("edit, message", [
    (lambda s: s["files"].update(dec="../../../etc/passwd"), "which is not a checkpoint file"),
    (lambda s: s.update(epoch="x"), "holds epoch 'x', not an integer"),
    (lambda s: s.update(finished="pretrain"), "lists finished stages"),
])
def test_a_hand_edited_state_is_refused_and_deletes_nothing(tmp_path, edit, message):
    x = counts().astype("float32") / 100
    train_dec(x, 3, RECIPE, output=tmp_path, seed=0, verbose=0)
    state_path = tmp_path / "checkpoints" / "state.json"
    state = json.loads(state_path.read_text())
    state["stage"] = "dec"
    edit(state)
    state_path.write_text(json.dumps(state))
    decoy = tmp_path / "decoy.keras"
    decoy.write_text("keep me")
    before = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    with pytest.raises(ValueError, match=message):
        train_dec(x, 3, RECIPE, output=tmp_path, seed=0, verbose=0)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == before
    assert decoy.read_text() == "keep me"


def test_set_centers_resets_convergence(blobs):
    from conftest import small_encoder

    x, _ = blobs
    dec = DEC(small_encoder(), n_clusters=3, update_interval=2, tol=0.5)
    dec.initialize_centers(x, seed=0)
    dec.compile()
    dec.fit(x, batch_size=40, epochs=3, verbose=0)
    assert dec.converged_
    dec.set_centers(dec.cluster_centers_ + 1.0)
    assert not dec.converged_ and int(dec.target_refreshes.numpy()) == 0


def test_check_input_false_trusts_the_caller(blobs, monkeypatch):
    from conftest import small_encoder

    x, _ = blobs
    dec = DEC(small_encoder(), n_clusters=3)
    dec.set_centers(np.eye(3))
    monkeypatch.setattr(DEC, "_check_array", lambda *a, **k: pytest.fail("checked again"))
    assert dec.embed(x, check_input=False).shape == (120, 3)
    assert dec.predict_clusters(x, check_input=False).shape == (120,)


@tensorflow_only
def test_a_shard_deleted_during_streamed_training_is_one_line_naming_it(tmp_path, capsys):
    folder = tmp_path / "shards"
    folder.mkdir()
    x = counts().astype("float32") / 100
    for i in range(3):
        write_shard(folder / f"part-{i}.npy", x[i * 30:(i + 1) * 30])

    class Delete(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            (folder / "part-1.npy").unlink(missing_ok=True)

    with pytest.raises(ValueError, match=r"^Shard '.*part-1.npy' could not be read: .* "
                       r"Training stopped; the last checkpoint is intact.$"):
        train_dec(ShardStream(folder), 3, RECIPE.replace(pretrain_epochs=3), seed=0, verbose=0,
                  output=tmp_path / "run", pretrain_callbacks=[Delete()])
    assert (tmp_path / "run" / "checkpoints" / "state.json").is_file()
