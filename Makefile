# `make demo` and `make test` do all the set-up on a fresh Debian/Ubuntu
# machine with Python 3.10+ (and the python3-venv package).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint docs clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,jax,torch]"
	touch $@

# The main job end to end on scikit-learn's bundled digits (no download).
demo: $(VENV)/.installed
	$(VENV)/bin/keras-dec train --dataset digits --n-clusters 10 --output runs/digits --seed 0 --baseline

# The tests that depend on the backend, run again on JAX and PyTorch; the whole
# suite (export, serving, tf.distribute included) runs on TensorFlow. The conv
# backbone is Keras' own layers (tests/test_conv_autoencoder.py passes on all
# three; it runs on TensorFlow only, for CI time).
BACKEND_TESTS := tests/test_backends.py tests/test_clustering_layer.py tests/test_dec.py \
	tests/test_dec_errors.py tests/test_dec_reference.py tests/test_target_distribution.py \
	tests/test_autoencoder.py tests/test_cli.py tests/test_pipeline.py tests/test_resume.py \
	tests/test_run_safety.py tests/test_device_loop.py tests/test_scaling.py \
	tests/test_distribution.py tests/test_idec.py tests/test_augmentation.py tests/test_manifold.py tests/test_mixture.py \
	keras_dec/layers keras_dec/models keras_dec/callbacks keras_dec/target_distribution.py \
	keras_dec/backend

# pytest-xdist runs the files on one worker per core, at most 4 (each worker
# is a process with its own TensorFlow, 0.8 GB after import); `--dist loadfile` keeps a file's
# module-scoped fixtures, such as a shared reference run, in one worker. On
# 2 cores the TensorFlow pass takes about two thirds as long.
PYTEST := $(PY) -m pytest -n auto --maxprocesses 4 --dist loadfile

test: $(VENV)/.installed
	$(PYTEST)
	KERAS_BACKEND=jax $(PYTEST) $(BACKEND_TESTS)
	KERAS_BACKEND=torch $(PYTEST) $(BACKEND_TESTS)

# The documentation site: guides, the API reference from the docstrings, benchmarks.
# --strict (set in mkdocs.yml too) fails on a broken reference or a dead link.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check keras_dec tests examples benchmarks

clean:
	rm -rf $(VENV) runs site .pytest_cache
