"""The pipeline's stages as a user sees them: progress with the true epoch totals."""

import re

from keras_dec import Recipe, train_dec
from keras_dec.datasets import load_digits


def test_progress_shows_each_stage_true_epoch_total(capsys):
    x = load_digits()[0][:256]
    # 2 DEC batches of 128 per epoch, at most 5 steps: 3 DEC epochs.
    recipe = Recipe(dims=(16, 4), pretrain_epochs=3, max_iter=5, batch_size=128, tol=0.0)
    train_dec(x, 3, recipe, seed=0, verbose=1)
    headers = re.findall(r"Epoch (\d+)/(\d+)", capsys.readouterr().out)
    assert headers == [("1", "3"), ("2", "3"), ("3", "3"), ("1", "3"), ("2", "3"), ("3", "3")]
