import numpy as np

from keras_dec import kl_divergence, target_distribution


def numpy_p(q):
    weight = q**2 / q.sum(0)
    return weight / weight.sum(1, keepdims=True)


def test_matches_paper_formula():
    rng = np.random.default_rng(0)
    q = rng.random((50, 4)) + 0.01
    q = (q / q.sum(1, keepdims=True)).astype("float32")
    p = np.asarray(target_distribution(q, q.sum(0)))
    np.testing.assert_allclose(p, numpy_p(q.astype("float64")), rtol=1e-5)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-6)


def test_empty_cluster_gives_no_nan():
    q = np.array([[1.0, 0.0], [1.0, 0.0]], dtype="float32")
    p = np.asarray(target_distribution(q, q.sum(0)))  # f_1 = 0
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p, [[1.0, 0.0], [1.0, 0.0]], atol=1e-6)


def test_kl_matches_numpy():
    rng = np.random.default_rng(1)
    p = rng.random((8, 3))
    p /= p.sum(1, keepdims=True)
    q = rng.random((8, 3))
    q /= q.sum(1, keepdims=True)
    kl = np.asarray(kl_divergence(p.astype("float32"), np.log(q).astype("float32")))
    np.testing.assert_allclose(kl, (p * np.log(p / q)).sum(1), rtol=1e-5)


def test_kl_treats_zero_p_as_zero():
    p = np.array([[1.0, 0.0]], dtype="float32")
    log_q = np.log(np.array([[0.5, 0.5]], dtype="float32"))
    np.testing.assert_allclose(np.asarray(kl_divergence(p, log_q)), [np.log(2.0)], rtol=1e-6)
