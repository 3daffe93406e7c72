"""`Recipe`: every field is validated, and the pretraining schedule is applied."""

import dataclasses

import numpy as np
import pytest
from conftest import checkpoint_file

import keras_dec
from keras_dec import RECIPES, Recipe, train_dec

BAD_FIELDS = {
    "dims_zero": ({"dims": (8, 0)}, ValueError, r"`dims\[1\]` must be an integer >= 1. "
                  r"Received: dims\[1\]=0"),
    "dims_float": ({"dims": (8.0, 2)}, TypeError, r"`dims\[0\]` must be an integer"),
    "pretrain_method": ({"pretrain_method": "greedy"}, ValueError,
                        r"`pretrain_method` must be 'end_to_end' or 'layerwise'. "
                        r"Received: pretrain_method='greedy'"),
    "pretrain_schedule": ({"pretrain_schedule": "step"}, ValueError,
                          r"`pretrain_schedule` must be 'constant' or 'cosine'. "
                          r"Received: pretrain_schedule='step'"),
    "pretrain_epochs": ({"pretrain_epochs": -1}, ValueError,
                        r"`pretrain_epochs` must be an integer >= 0. Received: pretrain_epochs=-1"),
    "pretrain_batch_size": ({"pretrain_batch_size": 0}, ValueError,
                            r"`pretrain_batch_size` must be an integer >= 1"),
    "batch_size": ({"batch_size": 2.5}, TypeError, r"`batch_size` must be an integer"),
    "n_init": ({"n_init": 0}, ValueError, r"`n_init` must be an integer >= 1"),
    "update_interval": ({"update_interval": 0}, ValueError,
                        r"`update_interval` must be an integer >= 1"),
    "max_iter": ({"max_iter": 0}, ValueError, r"`max_iter` must be an integer >= 1"),
    "pretrain_learning_rate": ({"pretrain_learning_rate": 0.0}, ValueError,
                               r"`pretrain_learning_rate` must be a finite number > 0"),
    "alpha": ({"alpha": -1.0}, ValueError, r"`alpha` must be a finite number > 0"),
    "learning_rate": ({"learning_rate": float("nan")}, ValueError,
                      r"`learning_rate` must be a finite number > 0. Received: learning_rate=nan"),
    "pretrain_momentum": ({"pretrain_momentum": 1.5}, ValueError,
                          r"`pretrain_momentum` must be a number in \[0, 1\]"),
    "tol": ({"tol": -0.1}, ValueError, r"`tol` must be a number in \[0, 1\]. Received: tol=-0.1"),
    "momentum": ({"momentum": "0.9"}, TypeError, r"`momentum` must be a number in \[0, 1\]"),
}


@pytest.mark.parametrize("case", sorted(BAD_FIELDS))
def test_a_bad_field_names_itself_and_the_value(case):
    changes, error, match = BAD_FIELDS[case]
    with pytest.raises(error, match=match):
        Recipe(**changes)
    with pytest.raises(error, match=match):  # replace validates too
        Recipe().replace(**changes)


def test_replace_ignores_none_and_keeps_the_rest():
    recipe = RECIPES["digits"].replace(tol=0.01, max_iter=None)
    assert recipe.tol == 0.01
    assert recipe.max_iter == RECIPES["digits"].max_iter
    assert recipe.update_interval == RECIPES["digits"].update_interval


def test_every_field_has_a_cli_flag():
    from keras_dec.cli import RECIPE_FLAGS

    flagged = {field for _, field, _, _ in RECIPE_FLAGS}
    # n_init and the momenta are the paper's/port's constants, not flags.
    assert {f.name for f in dataclasses.fields(Recipe)} - flagged == {
        "n_init", "momentum", "pretrain_momentum"}


@pytest.mark.parametrize("schedule, final_rate", [("constant", 0.5), ("cosine", 0.0)])
def test_the_pretraining_schedule_reaches_its_final_rate(tmp_path, schedule, final_rate):
    x = np.random.default_rng(0).random((40, 6)).astype("float32")
    recipe = Recipe(dims=(8, 2), pretrain_epochs=3, pretrain_batch_size=16,
                    pretrain_learning_rate=0.5, pretrain_schedule=schedule, max_iter=2)
    train_dec(x, 2, recipe, output=tmp_path / "run", seed=0, verbose=0)
    autoencoder = keras_dec.load_model(checkpoint_file(tmp_path / "run", "autoencoder"))
    optimizer = autoencoder.optimizer
    assert int(optimizer.iterations.numpy()) == 3 * 3  # ceil(40 / 16) steps per epoch
    np.testing.assert_allclose(float(optimizer.learning_rate.numpy()), final_rate, atol=1e-7)


def test_a_pretraining_budget_in_steps_adds_epochs_on_small_data_only():
    recipe = Recipe(dims=(8, 2), pretrain_epochs=1, pretrain_batch_size=16,
                    pretrain_min_steps=7, max_iter=2)
    assert [recipe.pretrain_epochs_for(n) for n in (40, 48, 49, 112, 1000)] == [3, 3, 2, 1, 1]
    assert Recipe().pretrain_epochs_for(70000) == 300  # the default budget is 0 steps
    assert RECIPES["fashion_mnist"].replace(pretrain_min_steps=50000).pretrain_epochs_for(
        70000) == 300
    x = np.random.default_rng(0).random((40, 6)).astype("float32")
    _, report = train_dec(x, 2, recipe, seed=0, verbose=0)
    assert len(report["pretrain_history"]["loss"]) == 3  # 3 steps an epoch: 3 epochs
    with pytest.raises(ValueError, match="`pretrain_min_steps` must be an integer >= 0"):
        Recipe(pretrain_min_steps=-1)
