import keras
import numpy as np
import pytest
from conftest import tensorflow_only

from keras_dec import IDEC, build_autoencoder, decoder_of
from keras_dec.backbones.scaling import fit_scaling, with_scaling

GAMMA = 0.1


def numpy_loss(x, autoencoder_weights, centers, frequencies, gamma, target_x=None):
    """IDEC's per-sample loss with linear encoder/decoder weights, in float64 NumPy."""
    (w1, b1), (w2, b2) = autoencoder_weights
    z = x @ w1 + b1
    q = 1.0 / (1.0 + np.square(z[:, None, :] - centers[None]).sum(-1))
    q /= q.sum(1, keepdims=True)
    p = np.square(q) / frequencies
    p /= p.sum(1, keepdims=True)
    kl = np.sum(p * np.log(p / q), axis=1)
    target = x if target_x is None else target_x
    mse = np.mean(np.square(target - (z @ w2 + b2)), axis=1)
    return gamma * kl + mse


def make_idec(input_dim=5, embedding=2, gamma=GAMMA, scaling=None, seed=0):
    autoencoder, encoder = build_autoencoder(input_dim, dims=(embedding,), seed=seed)
    idec = IDEC(with_scaling(encoder, scaling), decoder_of(autoencoder), n_clusters=3,
                gamma=gamma, update_interval=100)
    rng = np.random.default_rng(seed)
    idec.set_centers(rng.normal(size=(3, embedding)))
    return idec, autoencoder


def weights(autoencoder):
    return [[np.asarray(v, "float64") for v in autoencoder.get_layer(name).get_weights()]
            for name in ("encoder_0", "decoder_0")]


@pytest.mark.parametrize("scaled", [False, True])
def test_first_step_loss_matches_numpy(scaled):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 5)).astype("float32") * 3 + 1
    scaling = fit_scaling(x, "standard") if scaled else None
    idec, autoencoder = make_idec(scaling=scaling)
    target_x = None
    if scaled:
        target_x = (x - x.mean(0)) / x.std(0)
    ae = weights(autoencoder)
    centers = idec.cluster_centers_.astype("float64")
    inputs = x.astype("float64") if not scaled else target_x
    z = inputs @ ae[0][0] + ae[0][1]
    q = 1.0 / (1.0 + np.square(z[:, None, :] - centers[None]).sum(-1))
    frequencies = (q / q.sum(1, keepdims=True)).sum(0)
    want = numpy_loss(inputs, ae, centers, frequencies, GAMMA,
                      target_x=None if not scaled else target_x)
    # One step over the whole batch with a negligible learning rate: the
    # logged loss is the first step's (after DEC's opening target refresh).
    idec.compile(optimizer=keras.optimizers.SGD(1e-12))
    history = idec.fit(x, batch_size=40, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(history.history["loss"][0], want.mean(), rtol=1e-4)
    _, per_sample = idec.dec_loss(keras.ops.convert_to_tensor(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(per_sample), want, rtol=1e-4,
                               atol=1e-6)


def test_the_decoder_trains_and_dec_would_not_move_it():
    x = np.random.default_rng(2).normal(size=(64, 5)).astype("float32")
    idec, autoencoder = make_idec()
    before = autoencoder.get_layer("decoder_0").get_weights()[0].copy()
    idec.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    idec.fit(x, batch_size=16, epochs=2, verbose=0)
    assert not np.allclose(autoencoder.get_layer("decoder_0").get_weights()[0], before)
    assert idec.n_iter_ == 8


def test_save_load_round_trip_keeps_decoder_and_gamma(tmp_path):
    x = np.random.default_rng(3).normal(size=(32, 5)).astype("float32")
    idec, _ = make_idec(gamma=0.25)
    idec.compile()
    idec.fit(x, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "idec.keras"
    idec.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, IDEC) and loaded.gamma == 0.25
    for batch in (1, 32):
        np.testing.assert_allclose(loaded.predict(x[:batch], verbose=0),
                                   idec.predict(x[:batch], verbose=0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(loaded.decoder.predict(x[:4, :2], verbose=0),
                               idec.decoder.predict(x[:4, :2], verbose=0), rtol=1e-6)
    _, a = idec.dec_loss(keras.ops.convert_to_tensor(x))
    _, b = loaded.dec_loss(keras.ops.convert_to_tensor(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(b), keras.ops.convert_to_numpy(a),
                               rtol=1e-5)


@tensorflow_only
def test_exported_savedmodel_serves_without_the_decoder(tmp_path):
    import tensorflow as tf

    from keras_dec.export import export_saved_model

    x = np.random.default_rng(4).normal(size=(16, 5)).astype("float32")
    idec, _ = make_idec()
    path = export_saved_model(idec, tmp_path)
    served = tf.saved_model.load(path)
    out = served.signatures["predict"](features=tf.constant(x))
    np.testing.assert_array_equal(out["cluster_id"].numpy(), idec.predict_clusters(x))
    assert not any("decoder" in v.name for v in served.variables)


def test_idec_errors():
    autoencoder, encoder = build_autoencoder(5, dims=(2,))
    with pytest.raises(TypeError, match="`decoder` must be a keras.Model.*Received: decoder of type str"):
        IDEC(encoder, "decoder", 3)
    wrong = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5)])
    with pytest.raises(ValueError, match=r"`decoder` must map embeddings \(None, 2\) to inputs \(None, 5\)"):
        IDEC(encoder, wrong, 3)
    with pytest.raises(ValueError, match="`gamma` must be a finite number > 0. Received: gamma=0"):
        IDEC(encoder, decoder_of(autoencoder), 3, gamma=0)
    with pytest.raises(ValueError, match="`autoencoder` must come from build_autoencoder"):
        decoder_of(encoder)


def test_train_dec_with_the_idec_recipe_trains_and_saves_an_idec(tmp_path):
    import json

    from keras_dec import Recipe, train_dec
    from keras_dec.cli import main

    x = np.random.default_rng(5).random((60, 6)).astype("float32")
    recipe = Recipe(dims=(8, 2), pretrain_epochs=2, pretrain_learning_rate=0.1, max_iter=6,
                    update_interval=3, n_init=2, tol=0.0, clustering="idec", gamma=0.5)
    idec, report = train_dec(x, 3, recipe, seed=0, verbose=0, output=tmp_path / "run")
    assert isinstance(idec, IDEC) and idec.gamma == 0.5 and idec.n_iter_ == 6
    assert report["recipe"]["clustering"] == "idec"
    assert isinstance(keras.saving.load_model(tmp_path / "run" / "model.keras"), IDEC)
    np.save(tmp_path / "x.npy", x)
    assert main(["train", "--data", str(tmp_path / "x.npy"), "--n-clusters", "3", "--output",
                 str(tmp_path / "cli"), "--quiet", "--dims", "8,2", "--pretrain-epochs", "1",
                 "--max-iter", "3", "--clustering", "idec", "--gamma", "0.2"]) == 0
    metrics = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    assert metrics["recipe"]["clustering"] == "idec" and metrics["recipe"]["gamma"] == 0.2


def test_choosing_idec_also_takes_its_optimizer_unless_overridden():
    from keras_dec import RECIPES, DECClustering, idec_recipe
    from keras_dec.cli import build_parser, recipe_from_args

    def cli_recipe(*flags):
        args = build_parser().parse_args(["train", "--dataset", "digits", *flags])
        return recipe_from_args("digits", args)

    assert cli_recipe("--clustering", "idec") == RECIPES["digits_idec"] == idec_recipe(
        RECIPES["digits"])
    assert (RECIPES["digits_idec"].learning_rate, RECIPES["digits_idec"].momentum) == (0.1, 0.99)
    assert cli_recipe("--clustering", "idec", "--lr", "0.05").learning_rate == 0.05
    assert cli_recipe().clustering == "dec" and cli_recipe().learning_rate == 0.01
    recipe = DECClustering(clustering="idec").recipe(1000, 784)
    assert (recipe.clustering, recipe.learning_rate, recipe.momentum) == ("idec", 0.1, 0.99)
    assert DECClustering(clustering="idec", momentum=0.9).recipe(1000, 784).momentum == 0.9
