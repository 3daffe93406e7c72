"""A manifold stage for DEC: parametric UMAP as a Keras head (N2D's idea, as one model).

N2D (McConville et al., ICPR 2020) clusters the manifold of an autoencoder's
embedding: UMAP, then a Gaussian mixture. Here UMAP's objective trains a
small Keras MLP on the embedding (parametric UMAP, Sainburg, McInnes &
Gentner 2021), so the model that ships is one network: encoder -> manifold
head -> clustering layer, one `.keras`, SavedModel and TFLite file.

- `graph`: the fuzzy k-NN graph of the embedding, from umap-learn;
- `loss`: UMAP's cross-entropy with negative sampling, in `keras.ops`;
- `head`: the MLP, `ParametricUMAP`, which trains it on the graph's edges, and
  `head_gain`, how much the trained head stretches the embedding.
"""

from keras_dec.manifold.graph import FuzzyGraph, fuzzy_graph
from keras_dec.manifold.head import (
    ParametricUMAP,
    build_manifold_head,
    encoder_gradient_scale,
    fit_manifold_head,
    head_gain,
    stack_manifold_head,
)
from keras_dec.manifold.loss import umap_ab, umap_cross_entropy

__all__ = ["FuzzyGraph", "ParametricUMAP", "build_manifold_head", "encoder_gradient_scale",
           "fit_manifold_head", "fuzzy_graph", "head_gain", "stack_manifold_head", "umap_ab",
           "umap_cross_entropy"]
