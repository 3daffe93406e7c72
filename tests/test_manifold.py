"""The manifold stage (parametric UMAP as a Keras head) on every backend: loss, graph,
training, the pipeline with resume, `.keras` round trip and export parity."""

import keras
import numpy as np
import pytest
from conftest import tensorflow_only

pytest.importorskip("umap")

from keras_dec import DEC, Recipe, load_model, train_dec  # noqa: E402
from keras_dec.layers import GradientScale  # noqa: E402
from keras_dec.manifold import (  # noqa: E402
    build_manifold_head,
    encoder_gradient_scale,
    fit_manifold_head,
    fuzzy_graph,
    head_gain,
    stack_manifold_head,
    umap_ab,
    umap_cross_entropy,
)
from keras_dec.manifold.head import edge_batches  # noqa: E402

RECIPE = Recipe(dims=(16, 3), pretrain_epochs=10, pretrain_learning_rate=0.1, max_iter=20,
                update_interval=5, n_init=2, manifold="umap", manifold_widths=(16,),
                manifold_steps=20, manifold_batch_size=64, manifold_neighbors=8)


def blobs(n=150, seed=0):
    """Three separated blobs in [0, 1]^6."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n // 3)
    x = rng.uniform(0.15, 0.85, (3, 6))[y] + rng.normal(0, 0.04, (n, 6))
    return np.clip(x, 0, 1).astype("float32"), y


def numpy_umap_loss(anchors, positives, negatives, a, b):
    def q(u, v):
        return 1.0 / (1.0 + a * (np.sum((u - v) ** 2, axis=-1) + 1e-12) ** b)

    attract = -np.log(np.clip(q(anchors, positives), 1e-4, 1.0))
    repel = -np.log(np.clip(1.0 - q(anchors[:, None], negatives), 1e-4, 1.0))
    return (attract.sum() + repel.sum()) / (attract.size + repel.size)


def test_the_loss_is_umaps_cross_entropy():
    rng = np.random.default_rng(0)
    anchors, positives = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    negatives = rng.normal(size=(7, 4, 3)) * 2
    positives[0] = anchors[0]  # a zero distance: finite, gradient too
    a, b = umap_ab(0.0)
    got = keras.ops.convert_to_numpy(umap_cross_entropy(
        *(keras.ops.convert_to_tensor(v.astype("float32")) for v in (anchors, positives,
                                                                      negatives)), a, b))
    np.testing.assert_allclose(got, numpy_umap_loss(anchors, positives, negatives, a, b),
                               rtol=1e-5)


def test_the_graph_and_its_edge_draws():
    x, _ = blobs()
    graph = fuzzy_graph(x, 8, seed=0)
    assert graph.n_points == 150 and graph.weight.min() > 0 and graph.weight.max() <= 1.0
    rows = edge_batches(graph, 3, 32, 5, np.random.default_rng(0))
    assert rows.shape == (96, 7) and rows.dtype == np.int32
    assert rows[:, :2].max() < 150 and rows[:, 2:].max() < 32  # negatives: positions in a batch
    np.testing.assert_array_equal(rows, edge_batches(graph, 3, 32, 5, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="more rows than n_neighbors=8"):
        fuzzy_graph(x[:8], 8)


def test_a_batch_pairs_each_anchor_with_its_positive_and_the_batchs_positives():
    from keras_dec.manifold import ParametricUMAP

    points = np.arange(12, dtype="float32").reshape(6, 2)
    identity = keras.Sequential([keras.Input((2,)), keras.layers.Identity()])
    trainer = ParametricUMAP(identity, points, 1.0, 1.0)
    rows = np.array([[0, 1, 1, 0], [2, 3, 0, 0], [4, 5, 2, 1]], "int32")
    out = keras.ops.convert_to_numpy(trainer(rows))
    np.testing.assert_array_equal(out[:, 0], points[[0, 2, 4]])
    np.testing.assert_array_equal(out[:, 1], points[[1, 3, 5]])
    np.testing.assert_array_equal(out[:, 2:], points[[1, 3, 5]][rows[:, 2:]])


def test_training_the_head_lowers_the_loss_and_is_seeded():
    x, _ = blobs()
    graph = fuzzy_graph(x, 8, seed=0)

    def train():
        head = build_manifold_head(6, 2, widths=(16,), seed=0)
        return head, fit_manifold_head(head, x, graph, *umap_ab(), steps=60, batch_size=64,
                                       steps_per_epoch=20, seed=0)

    head, losses = train()
    assert losses[-1] < losses[0]
    again, _ = train()
    np.testing.assert_allclose(again.predict(x, verbose=0), head.predict(x, verbose=0),
                               atol=1e-5)


def test_gmm_initialisation_takes_the_mixtures_means(blobs):
    from conftest import small_encoder
    from sklearn.mixture import GaussianMixture

    x, _ = blobs
    dec = DEC(small_encoder(), n_clusters=3)
    dec.initialize_centers(x, n_init=2, seed=0, method="gmm")
    z = dec.embed(x)
    mixture = GaussianMixture(3, covariance_type="full", n_init=2, random_state=0).fit(z)
    np.testing.assert_allclose(dec.cluster_centers_, mixture.means_, atol=1e-5)
    np.testing.assert_array_equal(dec.initial_labels_, mixture.predict(z))
    with pytest.raises(ValueError, match="`method` must be 'kmeans' or 'gmm'"):
        dec.initialize_centers(x, method="dbscan")


def test_the_pipeline_ships_one_model_with_the_head_inside(tmp_path):
    x, y = blobs()
    recipe = RECIPE.replace(manifold_gradient_scale=0.5)  # with the GradientScale layer
    dec, report = train_dec(x, 3, recipe, y=y, seed=0, verbose=0, output=tmp_path)
    assert {"manifold_head", "encoder_gradient_scale"} <= {
        layer.name for layer in dec.encoder._flatten_layers()}
    assert dec.encoder.output_shape == (None, 3)  # one component per cluster
    assert report["manifold_graph_points"] == 150 and len(report["manifold_history"]["loss"]) == 1
    assert "manifold" in report["seconds"] and report["dec"]["acc"] > 0.9
    restored = load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), dec.predict(x, verbose=0),
                               atol=1e-6)


class _Stop(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt


def test_a_run_killed_after_the_manifold_stage_resumes_to_the_same_model(tmp_path):
    x, _ = blobs()
    whole, _ = train_dec(x, 3, RECIPE, seed=0, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        train_dec(x, 3, RECIPE, seed=0, verbose=0, output=tmp_path, dec_callbacks=[_Stop()])
    resumed, report = train_dec(x, 3, RECIPE, seed=0, verbose=0, output=tmp_path)
    assert "resumed" not in report
    np.testing.assert_array_equal(resumed.predict_clusters(x), whole.predict_clusters(x))
    for a, b in zip(resumed.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_the_manifold_recipe_is_checked():
    with pytest.raises(ValueError, match="manifold='umap', clustering='idec'"):
        Recipe(manifold="umap", clustering="idec")
    with pytest.raises(ValueError, match="`manifold` must be 'none' or 'umap'"):
        Recipe(manifold="tsne")
    with pytest.raises(ValueError, match=r"`manifold_min_dist` must be in \[0, 1\)"):
        Recipe(manifold_min_dist=1.5)
    with pytest.raises(ValueError, match="Received: manifold_gradient_scale=0.0"):
        Recipe(manifold_gradient_scale=0.0)
    with pytest.raises(TypeError, match="Received: manifold_gradient_scale='auto'"):
        Recipe(manifold_gradient_scale="auto")


def _one_sgd_step(scale):
    """The first layer's kernel change after one plain SGD step of Dense -> scale -> Dense."""
    inputs = keras.Input((3,))
    first = keras.layers.Dense(4, kernel_initializer=keras.initializers.GlorotUniform(0))
    h = GradientScale(scale)(first(inputs))
    outputs = keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(1))(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = np.array(first.kernel)
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    model.train_on_batch(x, y)
    return np.array(first.kernel) - before, model, x


def test_gradient_scale_is_the_identity_forward_and_scales_the_step_before_it():
    unscaled, _, _ = _one_sgd_step(1.0)
    scaled, model, x = _one_sgd_step(0.25)
    assert np.abs(unscaled).max() > 1e-3
    np.testing.assert_allclose(scaled, 0.25 * unscaled, rtol=1e-4, atol=1e-8)
    layer = model.layers[2]
    np.testing.assert_array_equal(layer(x, training=True), x)
    np.testing.assert_array_equal(layer(x), x)
    assert GradientScale.from_config(layer.get_config()).scale == 0.25
    with pytest.raises(ValueError, match="Received: scale=-1"):
        GradientScale(-1)


def test_the_heads_gain_is_the_rms_stretch_of_a_linear_head():
    head = build_manifold_head(5, 3, widths=(), seed=0)
    w = np.random.default_rng(2).normal(size=(5, 3)).astype("float32")
    head.set_weights([w, np.ones(3, "float32")])
    points = np.random.default_rng(3).normal(size=(20000, 5))
    expected = np.linalg.norm(w) / np.sqrt(5)  # E|W^T u|^2 = |W|_F^2 / d over unit u
    assert head_gain(head, points, seed=0) == pytest.approx(expected, rel=0.02)
    assert head_gain(head, points, max_points=300, seed=0) == pytest.approx(expected, rel=0.1)
    with pytest.raises(ValueError, match="Received: max_points=0"):
        head_gain(head, points, max_points=0)
    assert encoder_gradient_scale(4.0) == 1 / 16 and encoder_gradient_scale(0.5) == 1.0
    with pytest.raises(ValueError, match="Received: gain=nan"):
        encoder_gradient_scale(float("nan"))


def test_the_pipeline_scales_the_encoders_gradient_by_the_heads_gain():
    x, _ = blobs()
    dec, report = train_dec(x, 3, RECIPE.replace(max_iter=2), seed=0, verbose=0)
    z = dec.encoder.get_layer("encoder").predict(x, verbose=0)
    gain = head_gain(dec.encoder.get_layer("manifold_head"), z, seed=0)
    assert report["manifold_gain"] == pytest.approx(gain, rel=1e-3)
    assert report["encoder_gradient_scale"] == pytest.approx(min(1.0, gain ** -2), rel=1e-6)
    names = [layer.name for layer in dec.encoder.layers]
    assert ("encoder_gradient_scale" in names) == (report["encoder_gradient_scale"] < 1.0)
    fixed, report = train_dec(x, 3, RECIPE.replace(max_iter=2, manifold_gradient_scale=0.5),
                              seed=0, verbose=0)
    assert report["encoder_gradient_scale"] == 0.5 and "manifold_gain" not in report
    assert fixed.encoder.get_layer("encoder_gradient_scale").scale == 0.5
    model = stack_manifold_head(keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)]),
                                build_manifold_head(2, 3, widths=(4,), seed=0))
    assert [layer.name for layer in model.layers][-1] == "manifold_head" and len(model.layers) == 3


@tensorflow_only
def test_the_model_with_its_head_exports_with_parity(tmp_path):
    from keras_dec.export import export_for_serving

    x, y = blobs()
    dec, _ = train_dec(x, 3, RECIPE.replace(manifold_gradient_scale=0.5), seed=0, verbose=0)
    assert dec.encoder.get_layer("encoder_gradient_scale").scale == 0.5
    result = export_for_serving(dec, tmp_path, tflite=("none",), x=x)
    assert result["parity"]["saved_model"]["passed"] and result["parity"]["tflite_none"]["passed"]


def test_the_cli_and_the_estimator_take_the_manifold_options():
    from keras_dec import DECClustering
    from keras_dec.cli import build_parser, recipe_from_args

    args = build_parser().parse_args(["train", "--manifold", "umap", "--init", "gmm",
                                      "--manifold-steps", "7", "--manifold-widths", "32,16",
                                      "--manifold-gradient-scale", "0.1"])
    recipe = recipe_from_args("digits", args)
    assert (recipe.manifold, recipe.init, recipe.manifold_steps, recipe.manifold_widths,
            recipe.manifold_gradient_scale) == ("umap", "gmm", 7, (32, 16), 0.1)
    estimated = DECClustering(3, manifold="umap", manifold_widths=[8],
                              manifold_gradient_scale=0.5).recipe(100, 6)
    assert estimated.manifold == "umap" and estimated.manifold_widths == (8,)
    assert estimated.manifold_gradient_scale == 0.5


def test_option_a_ships_the_mixture_on_the_heads_output():
    from sklearn.mixture import GaussianMixture

    x, _ = blobs()
    dec, report = train_dec(x, 3, RECIPE.replace(clustering="gmm"), seed=0, verbose=0)
    assert dec.posterior == "gaussian_mixture" and "dec" not in report["seconds"]
    assert dec.encoder.output_shape == (None, 3)  # encoder -> head: one output per cluster
    u = dec.embed(x)
    gmm = GaussianMixture(3, covariance_type="full", n_init=2, random_state=0).fit(u)
    np.testing.assert_array_equal(dec.predict_clusters(x), gmm.predict(u))
