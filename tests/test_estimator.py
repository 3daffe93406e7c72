"""`DECClustering` against scikit-learn's estimator contract."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from keras_dec.estimator import DECClustering
from keras_dec.target_distribution import target_distribution

TINY = dict(dims=(8, 2), pretrain_epochs=2, pretrain_learning_rate=0.1, max_iter=6,
            update_interval=3, n_init=3, random_state=0)


# Integer features other than 0/1 are unscaled counts or pixels: refused without
# `scale`, as by every entry point of keras-dec; scikit-learn's dtype check feeds 0..2.
INTEGER_RULE = {"check_estimators_dtypes": "unscaled integers need scale='minmax' or "
                "'standard', as everywhere in keras-dec"}


@parametrize_with_checks([DECClustering(n_clusters=3, **TINY)],
                         expected_failed_checks=lambda estimator: INTEGER_RULE)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_unscaled_integers_follow_the_one_rule():
    counts = np.random.default_rng(0).integers(0, 100, (60, 4))
    with pytest.raises(ValueError, match="`x` holds integers from 0 to 99: unscaled"):
        DECClustering(n_clusters=3, **TINY).fit(counts)
    model = DECClustering(n_clusters=3, scale="minmax", **TINY).fit(counts)
    assert model.labels_.shape == (60,)


def _blobs():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    return rng.normal(0, 0.3, (90, 4)) + 3 * np.eye(3, 4)[y], y


def test_fitted_attributes_and_methods():
    x, _ = _blobs()
    model = DECClustering(n_clusters=3, **TINY).fit(x)
    assert model.n_features_in_ == 4 and 1 <= model.n_iter_ <= 6
    np.testing.assert_array_equal(model.labels_, model.predict(x))
    assert model.cluster_centers_.shape == (3, 2) and model.transform(x).shape == (90, 2)
    q = model.predict_proba(x)
    np.testing.assert_allclose(q.sum(1), 1, atol=1e-12)
    # Q in float64 from the embedding: the Keras model's own Q up to float32 rounding.
    np.testing.assert_allclose(q, model.model_.predict(x, verbose=0), atol=1e-5)
    # score = -mean KL(P || Q), NumPy reference with P from target_distribution
    p = np.asarray(target_distribution(q, q.sum(0)), dtype="float64")
    expected = -np.mean(np.sum(p * np.log(p / q), axis=1))
    assert model.score(x) == pytest.approx(expected, rel=1e-4)
    assert model.score(x) <= 0


def test_recipe_fields_override_the_shape_rule():
    model = DECClustering(n_clusters=3, dims=[16, 3], tol=0.01)
    recipe = model.recipe(150, 4)
    assert recipe.dims == (16, 3) and recipe.tol == 0.01
    assert recipe.pretrain_batch_size == 32  # the rest from recipe_for(150, 4)


def test_clone_pipeline_and_pickle_keep_the_same_clusters():
    x, _ = _blobs()
    pipeline = make_pipeline(StandardScaler(), DECClustering(n_clusters=3, **TINY))
    labels = pipeline.fit_predict(x)
    again = clone(pipeline).fit_predict(x)
    np.testing.assert_array_equal(labels, again)  # same random_state, same clusters
    restored = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(restored.predict(x), pipeline.predict(x))


def test_too_few_samples_for_the_clusters_is_a_clear_error():
    with pytest.raises(ValueError, match="n_samples=4 should be >= n_clusters=5"):
        DECClustering(n_clusters=5, **TINY).fit(np.random.default_rng(0).random((4, 3)))


def test_fit_leaves_the_parameters_alone():
    x, _ = _blobs()
    model = DECClustering(n_clusters=3, **TINY)
    before = {k: (list(v) if isinstance(v, tuple) else v) for k, v in model.get_params().items()}
    model.fit(x)
    after = {k: (list(v) if isinstance(v, tuple) else v) for k, v in model.get_params().items()}
    assert before == after
    assert not [k for k in vars(model) if not k.endswith("_") and k not in before]


def test_one_cluster_is_the_trivial_clustering():
    x, _ = _blobs()
    model = DECClustering(n_clusters=1, **TINY).fit(x)
    assert set(model.labels_) == {0} and model.score(x) == pytest.approx(0.0, abs=1e-6)
