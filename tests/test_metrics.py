import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from keras_dec import cluster_accuracy, evaluate_clustering


def test_accuracy_is_permutation_invariant():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert cluster_accuracy(y, np.array([2, 2, 0, 0, 1, 1])) == 1.0


def test_accuracy_against_brute_force():
    from itertools import permutations

    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    pred = np.where(rng.random(200) < 0.6, (y + 1) % 4, rng.integers(0, 4, 200))
    best = max(np.mean(np.array(p)[pred] == y) for p in permutations(range(4)))
    assert cluster_accuracy(y, pred) == pytest.approx(best)


def test_more_clusters_than_classes():
    assert cluster_accuracy([0, 0, 1, 1], [0, 1, 2, 3]) == 0.5


def test_evaluate_matches_scikit_learn():
    rng = np.random.default_rng(1)
    y, pred = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    result = evaluate_clustering(y, pred)
    assert result["nmi"] == pytest.approx(normalized_mutual_info_score(y, pred))
    assert result["ari"] == pytest.approx(adjusted_rand_score(y, pred))


def test_label_errors():
    with pytest.raises(ValueError, match=r"same length. Received: y_true with shape \(3,\), y_pred with shape \(2,\)"):
        cluster_accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="are empty"):
        evaluate_clustering([], [])
