"""`ServingClient`: cluster ids and soft assignments from a TF Serving model server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import numpy as np

from keras_dec.utils.validation import check_int, check_positive_float

PROTOCOLS = ("grpc", "rest")


class ServingError(RuntimeError):
    """The model server answered with an error (its message is included)."""


class ServerUnavailableError(ServingError):
    """No model server answered at the address (or it timed out)."""


class ModelNotFoundError(ServingError):
    """The server does not serve this model name or version."""


class InvalidInputError(ServingError):
    """The features do not fit the model (wrong shape, count or values)."""


class ServingClient:
    """Sends features to a TF Serving model server and returns DEC's outputs.

    Talks to the `predict` signature written by `keras_dec.export`, over gRPC
    (`PredictionService.Predict`, port 8500) or REST
    (`POST /v1/models/<name>[/versions/<v>]:predict`, port 8501). Large inputs
    are sent in batches of `batch_size` rows.

    Args:
        host: str, the server's host name or address.
        model_name: str, the served model name (`--model_name`).
        protocol: `"grpc"` or `"rest"`.
        port: int or None; default 8500 for gRPC, 8501 for REST.
        version: int or None for the latest version.
        timeout: float, seconds per request.
        batch_size: int, rows per request.
        n_features: int or None; when given, inputs are checked locally
            before anything is sent.

    Examples:
        >>> client = ServingClient("localhost", "dec", protocol="rest")  # doctest: +SKIP
        >>> ids, q = client.predict(x)  # doctest: +SKIP
    """

    def __init__(
        self,
        host: str = "localhost",
        model_name: str = "dec",
        protocol: str = "grpc",
        port: int | None = None,
        version: int | None = None,
        timeout: float = 10.0,
        batch_size: int = 1024,
        n_features: int | None = None,
    ):
        if protocol not in PROTOCOLS:
            raise ValueError(
                f"`protocol` must be one of {PROTOCOLS}. Received: protocol={protocol!r}"
            )
        if not model_name or "/" in model_name:
            raise ValueError(
                f"`model_name` must be a plain name. Received: model_name={model_name!r}"
            )
        self.host = host
        self.model_name = model_name
        self.protocol = protocol
        self.port = check_int("port", port if port is not None else
                              (8500 if protocol == "grpc" else 8501), 1)
        self.version = None if version is None else check_int("version", version, 1)
        self.timeout = check_positive_float("timeout", timeout)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.n_features = None if n_features is None else check_int("n_features", n_features, 1)
        self._stub = None
        self._channel = None

    # -- public API --------------------------------------------------------

    def predict(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Cluster ids (int32 `[n]`) and soft assignments (float32 `[n, K]`) for `x`."""
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise InvalidInputError(f"`x` must hold numbers. Received: x with dtype {x.dtype}")
        x = x.astype("float32")
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or len(x) == 0:
            raise InvalidInputError(
                f"`x` must have shape (n_samples, n_features). Received: x with shape {x.shape}"
            )
        if self.n_features is not None and x.shape[1] != self.n_features:
            raise InvalidInputError(
                f"`x` must have {self.n_features} features. Received: x with shape {x.shape}"
            )
        if not np.all(np.isfinite(x)):
            raise InvalidInputError("`x` contains NaN or Inf values.")
        send = self._predict_grpc if self.protocol == "grpc" else self._predict_rest
        ids, qs = [], []
        for start in range(0, len(x), self.batch_size):
            i, q = send(x[start:start + self.batch_size])
            ids.append(i)
            qs.append(q)
        return np.concatenate(ids).astype("int32"), np.concatenate(qs).astype("float32")

    def metadata(self) -> dict:
        """The served model's signatures, as TF Serving's JSON metadata (`signature_def`)."""
        if self.protocol == "grpc":
            return self._metadata_grpc()
        return self._request("GET", f"{self._rest_path()}/metadata")

    def close(self) -> None:
        """Closes the gRPC channel (REST holds no connection)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = self._stub = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- gRPC --------------------------------------------------------------

    def _grpc_stub(self):
        if self._stub is None:
            try:
                import grpc
                from tensorflow_serving.apis import prediction_service_pb2_grpc
            except ImportError:  # pragma: no cover - depends on the environment
                raise ImportError(
                    "The gRPC client needs tensorflow-serving-api: "
                    "pip install 'keras-dec[serving]'"
                ) from None
            self._channel = grpc.insecure_channel(f"{self.host}:{self.port}")
            self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        return self._stub

    def _model_spec(self, spec):
        spec.name = self.model_name
        if self.version is not None:
            spec.version.value = self.version

    def _call_grpc(self, method, request):
        import grpc

        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as e:
            raise self._grpc_error(e) from None

    def _grpc_error(self, e) -> ServingError:
        import grpc

        code, details = e.code(), e.details()
        where = f"{self.host}:{self.port}"
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return ServerUnavailableError(
                f"No TF Serving answer from {where} over gRPC within {self.timeout}s "
                f"({code.name}: {details})"
            )
        if code == grpc.StatusCode.NOT_FOUND:
            return ModelNotFoundError(f"{self._describe()} not found on {where}: {details}")
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            return InvalidInputError(f"The server refused the input: {details}")
        return ServingError(f"TF Serving error {code.name} from {where}: {details}")

    def _predict_grpc(self, x):
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        self._model_spec(request.model_spec)
        request.model_spec.signature_name = "predict"
        request.inputs["features"].CopyFrom(tf.make_tensor_proto(x, dtype=tf.float32))
        response = self._call_grpc(self._grpc_stub().Predict, request)
        try:
            return (tf.make_ndarray(response.outputs["cluster_id"]),
                    tf.make_ndarray(response.outputs["soft_assignments"]))
        except (KeyError, ValueError) as e:
            raise ServingError(
                f"Unexpected response from the server (not a DEC model?): {e}"
            ) from None

    def _metadata_grpc(self):
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_metadata_pb2

        request = get_model_metadata_pb2.GetModelMetadataRequest()
        self._model_spec(request.model_spec)
        request.metadata_field.append("signature_def")
        response = self._call_grpc(self._grpc_stub().GetModelMetadata, request)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signatures)
        return {
            "model_spec": json_format.MessageToDict(response.model_spec),
            "metadata": {"signature_def": json_format.MessageToDict(signatures)},
        }

    # -- REST --------------------------------------------------------------

    def _rest_path(self):
        path = f"/v1/models/{self.model_name}"
        if self.version is not None:
            path += f"/versions/{self.version}"
        return path

    def _predict_rest(self, x):
        body = {"signature_name": "predict", "inputs": {"features": x.tolist()}}
        answer = self._request("POST", f"{self._rest_path()}:predict", body)
        try:
            outputs = answer["outputs"]
            return (np.asarray(outputs["cluster_id"], dtype="int32"),
                    np.asarray(outputs["soft_assignments"], dtype="float32"))
        except (KeyError, TypeError) as e:
            raise ServingError(
                f"Unexpected response from the server (not a DEC model?): missing {e}"
            ) from None

    def _request(self, method, path, body=None):
        url = f"http://{self.host}:{self.port}{path}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            message = _error_message(e)
            if e.code == 404:
                raise ModelNotFoundError(
                    f"{self._describe()} not found at {url}: {message}"
                ) from None
            if e.code == 400:
                raise InvalidInputError(f"The server refused the input: {message}") from None
            raise ServingError(f"TF Serving error HTTP {e.code} from {url}: {message}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            raise ServerUnavailableError(
                f"No TF Serving answer from {self.host}:{self.port} over REST within "
                f"{self.timeout}s ({reason})"
            ) from None
        except json.JSONDecodeError:
            raise ServingError(f"The server at {url} did not answer with JSON.") from None

    def _describe(self):
        version = "latest version" if self.version is None else f"version {self.version}"
        return f"Model {self.model_name!r} ({version})"


def _error_message(e) -> str:
    try:
        body = e.read().decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - the body is only used for the message
        return str(e.reason)
    try:
        return json.loads(body).get("error", body)
    except (json.JSONDecodeError, AttributeError):
        return body.strip() or str(e.reason)
