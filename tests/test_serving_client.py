"""The serving client against a TF Serving protocol double over real sockets."""

import socket

import grpc
import keras
import numpy as np
import pytest
from serving_double import ServingDouble

from keras_dec import DEC, build_autoencoder
from keras_dec.export import export_saved_model
from keras_dec.serving import (
    InvalidInputError,
    ModelNotFoundError,
    ServerUnavailableError,
    ServingClient,
    ServingError,
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((300, 12)).astype("float32")
    _, encoder = build_autoencoder(12, dims=(16, 4), seed=0)
    dec = DEC(encoder, n_clusters=3)
    dec.initialize_centers(x, seed=0, n_init=2)
    base = tmp_path_factory.mktemp("models")
    export_saved_model(dec, base, name="dec")
    export_saved_model(dec, base, name="dec")  # version 2
    double = ServingDouble(base).start()
    yield dec, x, double
    double.stop()


def client(double, protocol, **kwargs):
    port = double.grpc_port if protocol == "grpc" else double.rest_port
    return ServingClient("127.0.0.1", "dec", protocol=protocol, port=port, **kwargs)


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
@pytest.mark.parametrize("version", [None, 1])
def test_predict_matches_keras_model_with_batching(served, protocol, version):
    dec, x, double = served
    with client(double, protocol, version=version, batch_size=64) as c:  # 300 rows: 5 requests
        ids, q = c.predict(x)
    want = dec.predict(x, verbose=0)
    np.testing.assert_allclose(q, want, atol=1e-6)
    np.testing.assert_array_equal(ids, want.argmax(1))
    assert ids.dtype == np.int32 and q.dtype == np.float32


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_metadata_lists_signatures(served, protocol):
    _, _, double = served
    meta = client(double, protocol).metadata()
    signatures = meta["metadata"]["signature_def"]["signatureDef"]
    assert {"predict", "embed", "serving_default"} <= set(signatures)
    assert set(signatures["predict"]["outputs"]) == {"cluster_id", "soft_assignments"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_unreachable_server(protocol):
    c = ServingClient("127.0.0.1", "dec", protocol=protocol, port=free_port(), timeout=2)
    with pytest.raises(ServerUnavailableError, match=r"No TF Serving answer from 127.0.0.1:\d+"):
        c.predict(np.zeros((2, 12)))


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_timeout(served, protocol):
    _, x, double = served
    double.delay = 1.5
    try:
        with pytest.raises(ServerUnavailableError, match="within 0.3s"):
            client(double, protocol, timeout=0.3).predict(x[:2])
    finally:
        double.delay = 0.0


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_unknown_model(served, protocol):
    _, x, double = served
    port = double.grpc_port if protocol == "grpc" else double.rest_port
    c = ServingClient("127.0.0.1", "nope", protocol=protocol, port=port)
    with pytest.raises(ModelNotFoundError, match=r"Model 'nope' \(latest version\) not found.*Servable not found"):
        c.predict(x[:2])


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_unknown_version(served, protocol):
    _, x, double = served
    with pytest.raises(ModelNotFoundError, match=r"Model 'dec' \(version 9\) not found.*Specific\(dec, 9\)"):
        client(double, protocol, version=9).predict(x[:2])


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_wrong_feature_count_is_refused_by_the_server(served, protocol):
    _, _, double = served
    with pytest.raises(InvalidInputError, match="The server refused the input: Incompatible shapes"):
        client(double, protocol).predict(np.zeros((2, 5)))


def test_wrong_feature_count_is_caught_locally_when_known(served):
    _, _, double = served
    with pytest.raises(InvalidInputError, match=r"must have 12 features. Received: x with shape \(2, 5\)"):
        client(double, "rest", n_features=12).predict(np.zeros((2, 5)))


@pytest.mark.parametrize("protocol", ["grpc", "rest"])
def test_error_body_from_server(served, protocol):
    _, x, double = served
    double.fail_with = (500, grpc.StatusCode.INTERNAL, "Internal: model crashed")
    try:
        with pytest.raises(ServingError, match="Internal: model crashed"):
            client(double, protocol).predict(x[:2])
    finally:
        double.fail_with = None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"protocol": "http"}, r"`protocol` must be one of \('grpc', 'rest'\). Received: protocol='http'"),
        ({"timeout": 0}, r"`timeout` must be a finite number > 0. Received: timeout=0"),
        ({"batch_size": 0}, r"`batch_size` must be an integer >= 1. Received: batch_size=0"),
        ({"model_name": "a/b"}, r"`model_name` must be a plain name"),
    ],
)
def test_client_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ServingClient("localhost", **{"model_name": "dec", **kwargs})


def test_bad_inputs_are_refused_before_sending():
    c = ServingClient("127.0.0.1", "dec", port=free_port())
    with pytest.raises(InvalidInputError, match="must hold numbers"):
        c.predict(np.array([["a"]]))
    with pytest.raises(InvalidInputError, match="NaN or Inf"):
        c.predict(np.array([[np.nan]]))
    with pytest.raises(InvalidInputError, match=r"Received: x with shape \(0, 3\)"):
        c.predict(np.zeros((0, 3)))
