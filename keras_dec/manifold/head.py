"""The manifold head (an MLP on the autoencoder's embedding) and its parametric-UMAP training."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_dec.layers.gradient_scale import GradientScale
from keras_dec.manifold.graph import FuzzyGraph
from keras_dec.manifold.loss import umap_cross_entropy
from keras_dec.utils.validation import check_int

HEAD_NAME = "manifold_head"


def build_manifold_head(input_dim: int, n_components: int,
                        widths: Sequence[int] = (256, 256),
                        seed: int | None = None) -> keras.Model:
    """An MLP from the embedding to `n_components` dimensions (ReLU; linear output).

    Examples:
        >>> head = build_manifold_head(10, 3, widths=(16,), seed=0)
        >>> head.input_shape, head.output_shape
        ((None, 10), (None, 3))
    """
    input_dim = check_int("input_dim", input_dim, 1)
    n_components = check_int("n_components", n_components, 1)
    inputs = keras.Input((input_dim,), name="embedding")
    h = inputs
    for i, width in enumerate(widths):
        h = keras.layers.Dense(check_int("widths[i]", width, 1), activation="relu",
                               kernel_initializer=keras.initializers.GlorotUniform(
                                   None if seed is None else seed + i),
                               name=f"manifold_{i}")(h)
    outputs = keras.layers.Dense(n_components, name="manifold_out",
                                 kernel_initializer=keras.initializers.GlorotUniform(
                                     None if seed is None else seed + len(widths)))(h)
    return keras.Model(inputs, outputs, name=HEAD_NAME)


class ParametricUMAP(keras.Model):
    """Trains a head on a fuzzy graph with UMAP's loss: one batch of edges per step.

    Its input is a batch of int rows `[anchor, positive, j_1, ..., j_m]`:
    an edge's two point indices, and for its negatives the positions of
    other rows *in the same batch*, whose positives stand in as random
    points (umap-learn's parametric UMAP shuffles a batch the same way), so
    a step runs the head on two points per edge, not on 2 + m. The points
    (the autoencoder's embedding) are held inside as a constant: a batch
    costs a gather, not a copy of the data. Only the head's weights train.

    Args:
        head: the `keras.Model` to train.
        points: float array `(n_points, dim)`, the head's inputs.
        a, b: floats, UMAP's similarity curve (`umap_ab`).
        repulsion_strength: float.
    """

    def __init__(self, head: keras.Model, points, a: float, b: float,
                 repulsion_strength: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.head = head
        self.a, self.b, self.repulsion_strength = float(a), float(b), float(repulsion_strength)
        points = np.asarray(points, dtype="float32")
        self.points = self.add_weight(shape=points.shape, trainable=False, name="points",
                                      initializer=keras.initializers.Constant(points))

    def call(self, indices):
        pairs = ops.take(self.points, ops.reshape(indices[:, :2], (-1,)), axis=0)
        out = self.head(pairs)
        out = ops.reshape(out, (-1, 2, ops.shape(out)[-1]))
        negatives = ops.take(out[:, 1], indices[:, 2:], axis=0)
        return ops.concatenate([out, negatives], axis=1)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return umap_cross_entropy(y_pred[:, 0], y_pred[:, 1], y_pred[:, 2:], self.a, self.b,
                                  self.repulsion_strength)


def edge_batches(graph: FuzzyGraph, n_steps: int, batch_size: int, negatives: int,
                 rng: np.random.Generator) -> np.ndarray:
    """`n_steps * batch_size` training rows `[anchor, positive, j_1, ..., j_m]`, int32.

    Edges are drawn in proportion to their weight, in random direction. The
    `j` are positions in the row's own batch (0 to batch_size - 1): the
    positives of those rows are the anchor's negatives, points drawn in
    proportion to their degree.
    """
    n = n_steps * batch_size
    edges = graph.sample_edges(n, rng)
    flip = rng.random(n) < 0.5
    anchor = np.where(flip, graph.tail[edges], graph.head[edges])
    positive = np.where(flip, graph.head[edges], graph.tail[edges])
    in_batch = rng.integers(0, batch_size, size=(n, negatives))
    return np.column_stack([anchor, positive, in_batch]).astype("int32")


def fit_manifold_head(head: keras.Model, points, graph: FuzzyGraph, a: float, b: float,
                      steps: int = 2000, batch_size: int = 4096, negatives: int = 5,
                      learning_rate: float = 1e-3, seed: int | None = None,
                      steps_per_epoch: int = 200, verbose: int = 0,
                      callbacks=None) -> list[float]:
    """Trains `head` on `graph` with UMAP's loss (Adam); returns the loss per epoch.

    Each epoch draws `steps_per_epoch` fresh batches of edges, seeded by
    (seed, epoch), so that the draws do not depend on what ran before.

    Examples:
        >>> import numpy as np
        >>> from keras_dec.manifold.graph import fuzzy_graph
        >>> from keras_dec.manifold.loss import umap_ab
        >>> x = np.random.default_rng(0).random((80, 4)).astype("float32")
        >>> head = build_manifold_head(4, 2, widths=(8,), seed=0)
        >>> losses = fit_manifold_head(head, x, fuzzy_graph(x, 5, seed=0), *umap_ab(),
        ...                            steps=4, batch_size=32, steps_per_epoch=2, seed=0)
        >>> len(losses)
        2
    """
    steps = check_int("steps", steps, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    negatives = check_int("negatives", negatives, 1)
    trainer = ParametricUMAP(head, points, a, b)
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate))
    losses = []
    epochs = -(-steps // steps_per_epoch)
    for epoch in range(epochs):
        n = min(steps_per_epoch, steps - epoch * steps_per_epoch)
        rng = np.random.default_rng(None if seed is None else [seed, 4, epoch])
        rows = edge_batches(graph, n, batch_size, negatives, rng)
        history = trainer.fit(rows, batch_size=batch_size, shuffle=False, epochs=1,
                              verbose=verbose, callbacks=callbacks)
        losses.append(float(history.history["loss"][-1]))
    return losses


def head_gain(head: keras.Model, points, max_points: int = 10000,
              seed: int | None = None) -> float:
    """How much `head` stretches its input near `points`: the RMS of
    |head(z + e u) - head(z)| / e over the points z and random unit directions u.

    For a linear head `z -> z W` this is `|W|_F / sqrt(d)` (the root mean
    square of its singular values). Finite differences with `e` 1% of the
    points' standard deviation, on at most `max_points` of them (drawn with
    `seed`).

    Examples:
        >>> import numpy as np
        >>> head = build_manifold_head(4, 2, widths=(), seed=0)
        >>> w = np.diag([3.0, 4.0, 0.0, 0.0])[:, :2].astype("float32")
        >>> head.set_weights([w, np.zeros(2, "float32")])
        >>> points = np.random.default_rng(0).normal(size=(5000, 4))
        >>> round(head_gain(head, points), 1)  # sqrt((9 + 16) / 4)
        2.5
    """
    points = np.asarray(points, dtype="float32")
    max_points = check_int("max_points", max_points, 1)
    rng = np.random.default_rng(seed)
    if len(points) > max_points:
        points = points[rng.choice(len(points), max_points, replace=False)]
    directions = rng.normal(size=points.shape).astype("float32")
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    step = 0.01 * float(points.std()) or 0.01
    moved = head.predict(points + step * directions, batch_size=4096, verbose=0)
    still = head.predict(points, batch_size=4096, verbose=0)
    change = np.asarray(moved, "float64") - np.asarray(still, "float64")
    return float(np.sqrt((change ** 2).sum(axis=1).mean()) / step)


def encoder_gradient_scale(gain: float) -> float:
    """The factor for the encoder's gradient under a head that stretches it by `gain`:
    `1 / gain**2`, at most 1.

    A step of the encoder moves the head's output `gain` times as far as it
    moves the embedding, and the loss's curvature in the encoder's weights
    grows with `gain**2`; scaling the gradient by `1 / gain**2` (with
    `GradientScale`) gives the encoder's steps the effect plain DEC's steps
    have. A head that does not stretch (`gain <= 1`) leaves it at 1.

    Examples:
        >>> encoder_gradient_scale(20.0), encoder_gradient_scale(0.9)
        (0.0025, 1.0)
    """
    gain = float(gain)
    if not np.isfinite(gain) or gain <= 0:
        raise ValueError(f"`gain` must be a finite number > 0. Received: gain={gain!r}")
    return min(1.0, 1.0 / gain ** 2)


def stack_manifold_head(encoder: keras.Model, head: keras.Model,
                        gradient_scale: float = 1.0) -> keras.Model:
    """One model: `encoder`, then `head`, with the encoder's gradient scaled by
    `gradient_scale` in training (`GradientScale`; no layer when it is 1).

    Examples:
        >>> encoder = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4)])
        >>> head = build_manifold_head(4, 2, widths=(8,), seed=0)
        >>> model = stack_manifold_head(encoder, head, gradient_scale=0.1)
        >>> model.output_shape, [layer.name for layer in model.layers][-2:]
        ((None, 2), ['encoder_gradient_scale', 'manifold_head'])
    """
    inputs = keras.Input(encoder.input_shape[1:], name="features")
    z = encoder(inputs)
    if gradient_scale != 1.0:
        z = GradientScale(gradient_scale, name="encoder_gradient_scale")(z)
    return keras.Model(inputs, head(z), name="manifold_encoder")
