"""A pytest plugin (`-p backend_modules` in pyproject.toml): each backend's modules
under keras_dec/backend/, and their doctests, are collected only on that backend."""

import pathlib

import keras

_BACKEND_MODULES = {
    "tensorflow": {"tensorflow.py", "tensorflow_loop.py"},
    "jax": {"jax.py", "jax_loop.py"},
    "torch": {"torch.py"},
}


def pytest_ignore_collect(collection_path: pathlib.Path, config):
    if collection_path.parent.name != "backend" or collection_path.parent.parent.name != "keras_dec":
        return None
    others = set().union(*(m for b, m in _BACKEND_MODULES.items() if b != keras.backend.backend()))
    return True if collection_path.name in others else None
