"""`--backend`: which Keras backend `train` and `select-k` train on."""

import json
import os
import subprocess
import sys

import keras
import pytest
from conftest import tensorflow_only

from keras_dec.cli import main
from keras_dec.cli.backend_choice import choose_backend, settle_backend


def only(*names):
    return lambda backend: backend in names


@pytest.mark.parametrize("conv, available, want", [
    (False, ("tensorflow", "jax", "torch"), "jax"),
    (True, ("tensorflow", "jax", "torch"), "tensorflow"),
    (False, ("tensorflow", "torch"), "tensorflow"),
    (True, ("jax", "torch"), "torch"),
    (False, ("torch",), "torch"),
])
def test_auto_picks_the_fastest_installed_backend(conv, available, want):
    backend, reason = choose_backend("auto", None, conv, is_installed=only(*available))
    assert backend == want and reason.startswith("auto: the fastest installed backend for")


def test_keras_backend_wins_over_auto_and_an_explicit_choice_must_agree_with_it():
    assert choose_backend("auto", "torch", False, only("jax")) == ("torch", "KERAS_BACKEND=torch")
    assert choose_backend("torch", "torch", False, only("torch"))[0] == "torch"
    with pytest.raises(ValueError, match="`--backend jax` contradicts KERAS_BACKEND=torch"):
        choose_backend("jax", "torch", False, only("jax", "torch"))


def test_unknown_and_missing_backends_are_refused_by_name(capsys):
    with pytest.raises(ValueError, match=r"`--backend` must be one of .*Received: --backend 'mxnet'"):
        choose_backend("mxnet", None, False)
    with pytest.raises(ValueError, match=r"`--backend torch` is not installed here: pip install "
                       r"'keras-dec\[torch\]'"):
        choose_backend("torch", None, False, only("jax"))
    with pytest.raises(SystemExit):
        main(["train", "--backend", "mxnet"])
    assert "invalid choice: 'mxnet'" in capsys.readouterr().err


def test_a_library_call_keeps_the_loaded_backend_for_auto(monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    loaded = keras.backend.backend()
    line = settle_backend("auto", False, ["train"], restart=False)
    assert line.startswith(f"keras-dec: training on the {loaded} backend (")
    other = "torch" if loaded != "torch" else "tensorflow"
    monkeypatch.setattr("keras_dec.cli.backend_choice.installed", lambda b: True)
    with pytest.raises(ValueError, match=f"`--backend {other}`: this process already runs Keras"):
        settle_backend(other, False, ["train"], restart=False)


@tensorflow_only  # one subprocess run is enough; it starts on TensorFlow and moves to JAX
def test_the_command_moves_to_the_chosen_backend_and_says_so(tmp_path):
    pytest.importorskip("jax")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "keras_dec.cli", "train", "--dataset", "digits", "--max-samples",
         "200", "--n-clusters", "4", "--dims", "8,3", "--pretrain-epochs", "1", "--max-iter",
         "4", "--quiet", "--output", str(out)], env=env, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert ("keras-dec: training on the jax backend (auto: the fastest installed backend for "
            "the dense autoencoder)") in result.stdout
    assert json.loads((out / "metrics.json").read_text())["backend"] == "jax"
