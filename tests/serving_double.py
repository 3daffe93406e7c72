"""A protocol test double of TensorFlow Serving, for the client tests.

It is NOT TF Serving: it speaks TF Serving's gRPC `PredictionService`
(Predict, GetModelMetadata, from the tensorflow-serving-api protos) and its
REST predict/metadata endpoints on 127.0.0.1, and answers from SavedModels in
TF Serving's `<base_path>/<name>/<version>/` layout, loaded with
`tf.saved_model.load`. Error answers mimic TF Serving's codes and bodies.
The real server: see export/README.md.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
)


class NotFound(Exception):
    pass


class BadInput(Exception):
    pass


class ServingDouble:
    def __init__(self, base_path):
        self.base_path = os.fspath(base_path)
        self.delay = 0.0  # seconds to wait before answering (timeout tests)
        self.fail_with = None  # (http status, grpc code, message) to answer instead
        self._models = {}
        self._lock = threading.Lock()

    # -- model store ----------------------------------------------------
    def _resolve(self, name, version):
        folder = os.path.join(self.base_path, name)
        versions = sorted(int(v) for v in os.listdir(folder) if v.isdigit()) if os.path.isdir(folder) else []
        if not versions:
            raise NotFound(f"Servable not found for request: Latest({name})")
        if version is None:
            version = versions[-1]
        elif version not in versions:
            raise NotFound(f"Servable not found for request: Specific({name}, {version})")
        key = (name, version)
        with self._lock:
            if key not in self._models:
                path = os.path.join(folder, str(version))
                self._models[key] = (tf.saved_model.load(path), path)
        return (name, version), *self._models[key]

    def predict(self, name, version, signature, inputs):
        time.sleep(self.delay)
        (_, version), model, _ = self._resolve(name, version)
        signature = signature or "serving_default"
        if signature not in model.signatures:
            raise BadInput(f"Serving signature name: \"{signature}\" not found in signature def")
        fn = model.signatures[signature]
        expected = fn.structured_input_signature[1]
        if set(inputs) != set(expected):
            raise BadInput(f"input tensor alias not found in signature: {sorted(inputs)}")
        feed = {}
        for key, value in inputs.items():
            spec = expected[key]
            value = np.asarray(value, dtype=spec.dtype.as_numpy_dtype)
            if not spec.shape.is_compatible_with(value.shape):
                raise BadInput(
                    f"Incompatible shapes: input '{key}' expected shape {spec.shape}, got {value.shape}"
                )
            feed[key] = tf.constant(value)
        return version, {k: v.numpy() for k, v in fn(**feed).items()}

    def signature_defs(self, name, version):
        (_, version), _, path = self._resolve(name, version)
        proto = saved_model_pb2.SavedModel()
        with open(os.path.join(path, "saved_model.pb"), "rb") as f:
            proto.ParseFromString(f.read())
        signatures = get_model_metadata_pb2.SignatureDefMap()
        for key, sig in proto.meta_graphs[0].signature_def.items():
            signatures.signature_def[key].CopyFrom(sig)
        return version, signatures

    # -- servers ---------------------------------------------------------
    def start(self):
        self.grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            _GrpcService(self), self.grpc_server
        )
        self.grpc_port = self.grpc_server.add_insecure_port("127.0.0.1:0")
        self.grpc_server.start()
        handler = type("Handler", (_RestHandler,), {"double": self})
        self.http_server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.rest_port = self.http_server.server_address[1]
        self._thread = threading.Thread(target=self.http_server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.grpc_server.stop(grace=None)
        self.http_server.shutdown()
        self.http_server.server_close()


class _GrpcService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, double):
        self.double = double

    def _version(self, spec):
        return spec.version.value if spec.HasField("version") else None

    def _abort(self, context, exc):
        if isinstance(exc, NotFound):
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))

    def Predict(self, request, context):
        if self.double.fail_with:
            context.abort(self.double.fail_with[1], self.double.fail_with[2])
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        try:
            version, outputs = self.double.predict(
                request.model_spec.name, self._version(request.model_spec),
                request.model_spec.signature_name, inputs,
            )
        except (NotFound, BadInput) as e:
            self._abort(context, e)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
        return response

    def GetModelMetadata(self, request, context):
        try:
            version, signatures = self.double.signature_defs(
                request.model_spec.name, self._version(request.model_spec)
            )
        except NotFound as e:
            self._abort(context, e)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.metadata["signature_def"].Pack(signatures)
        return response


class _RestHandler(BaseHTTPRequestHandler):
    double: ServingDouble

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def _parse(self):
        # /v1/models/<name>[/versions/<v>][:predict | /metadata]
        path = self.path
        verb = None
        if path.endswith(":predict"):
            path, verb = path[: -len(":predict")], "predict"
        elif path.endswith("/metadata"):
            path, verb = path[: -len("/metadata")], "metadata"
        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[:2] != ["v1", "models"]:
            return None
        name, version = parts[2], None
        if len(parts) == 5 and parts[3] == "versions" and parts[4].isdigit():
            version = int(parts[4])
        elif len(parts) != 3:
            return None
        return name, version, verb

    def do_POST(self):
        parsed = self._parse()
        if not parsed or parsed[2] != "predict":
            return self._send(404, {"error": "Malformed request: POST " + self.path})
        if self.double.fail_with:
            return self._send(self.double.fail_with[0], {"error": self.double.fail_with[2]})
        name, version, _ = parsed
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            columnar = "inputs" in body
            inputs = body["inputs"] if columnar else {"features": body["instances"]}
            if not isinstance(inputs, dict):
                inputs = {"features": inputs}
            _, outputs = self.double.predict(name, version, body.get("signature_name"), inputs)
        except NotFound as e:
            return self._send(404, {"error": str(e)})
        except (BadInput, KeyError, ValueError, json.JSONDecodeError) as e:
            return self._send(400, {"error": str(e)})
        if columnar:
            return self._send(200, {"outputs": {k: v.tolist() for k, v in outputs.items()}})
        rows = [{k: v[i].tolist() for k, v in outputs.items()} for i in range(len(next(iter(outputs.values()))))]
        return self._send(200, {"predictions": rows})

    def do_GET(self):
        parsed = self._parse()
        if not parsed or parsed[2] != "metadata":
            return self._send(404, {"error": "Malformed request: GET " + self.path})
        name, version, _ = parsed
        try:
            version, signatures = self.double.signature_defs(name, version)
        except NotFound as e:
            return self._send(404, {"error": str(e)})
        return self._send(200, {
            "model_spec": {"name": name, "signature_name": "", "version": str(version)},
            "metadata": {"signature_def": json_format.MessageToDict(signatures)},
        })
