"""A client for DEC models served by TensorFlow Serving (gRPC and REST)."""

from keras_dec.serving.client import (
    InvalidInputError,
    ModelNotFoundError,
    ServerUnavailableError,
    ServingClient,
    ServingError,
)

__all__ = [
    "InvalidInputError",
    "ModelNotFoundError",
    "ServerUnavailableError",
    "ServingClient",
    "ServingError",
]
