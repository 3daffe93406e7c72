# `make demo` and `make test` do all the set-up on a fresh Debian/Ubuntu
# machine with Python 3.10+ (and the python3-venv package).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

# The main job end to end on scikit-learn's bundled digits (no download).
demo: $(VENV)/.installed
	$(VENV)/bin/keras-dec train --dataset digits --n-clusters 10 --output runs/digits --seed 0 --baseline

test: $(VENV)/.installed
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check keras_dec tests examples benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache
