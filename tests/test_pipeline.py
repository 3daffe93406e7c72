"""The pipeline's stages as a user sees them: progress with the true epoch totals."""

import re

import keras
import numpy as np

from keras_dec import Recipe, train_dec
from keras_dec.datasets import load_digits
from keras_dec.pipeline import format_summary


def test_progress_shows_each_stage_true_epoch_total(capsys):
    x = load_digits()[0][:256]
    # 2 DEC batches of 128 per epoch, at most 5 steps: 3 DEC epochs.
    recipe = Recipe(dims=(16, 4), pretrain_epochs=3, max_iter=5, batch_size=128, tol=0.0)
    train_dec(x, 3, recipe, seed=0, verbose=1)
    headers = re.findall(r"Epoch (\d+)/(\d+)", capsys.readouterr().out)
    assert headers == [("1", "3"), ("2", "3"), ("3", "3"), ("1", "3"), ("2", "3"), ("3", "3")]


class _CollapseCentres(keras.callbacks.Callback):
    """Moves every centre but the first far from the data when DEC ends: a collapse."""

    def on_train_end(self, logs=None):
        centres = np.array(self.model.cluster_centers_)
        centres[1:] += 1e3
        self.model.set_centers(centres)


def test_a_collapsed_clustering_is_reported_and_printed():
    x = np.random.default_rng(0).random((60, 4)).astype("float32")
    recipe = Recipe(dims=(8, 2), pretrain_epochs=2, max_iter=6, update_interval=3, n_init=2)
    _, fine = train_dec(x, 3, recipe, seed=0, verbose=0)
    assert fine["empty_clusters"] == 0 and "warning" not in format_summary(fine)
    _, collapsed = train_dec(x, 3, recipe, seed=0, verbose=0,
                             dec_callbacks=[_CollapseCentres()])
    assert collapsed["empty_clusters"] == 2
    assert ("warning: 2 of the 3 clusters are empty (the clusters collapsed)"
            in format_summary(collapsed))


def test_the_summary_names_the_heads_gain_and_the_encoders_gradient_scale():
    report = {"n_samples": 10, "n_features": 2, "n_clusters": 2, "dec_iterations": 4,
              "converged": True, "seconds": {}}
    assert "manifold head" not in format_summary(report)
    measured = format_summary({**report, "manifold_gain": 29.17, "encoder_gradient_scale":
                               0.001175})
    assert ("  manifold head: stretches the embedding 29.2x; the encoder's gradient in DEC's "
            "steps is scaled by 0.00118") in measured.splitlines()
    fixed = format_summary({**report, "encoder_gradient_scale": 0.5})
    assert "  manifold head: the encoder's gradient in DEC's steps is scaled by 0.5" in fixed
