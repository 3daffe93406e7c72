"""What every public name in `keras_dec.__all__` promises: a runnable example and type hints."""

import inspect

import pytest

import keras_dec

CALLABLES = [n for n in keras_dec.__all__
             if inspect.isfunction(getattr(keras_dec, n)) or inspect.isclass(getattr(keras_dec, n))]


def _unhinted(function) -> list[str]:
    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values()
               if p.name != "self" and p.annotation is inspect.Parameter.empty
               and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if inspect.isfunction(function) and function.__name__ != "__init__" \
            and signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_the_public_api_is_what_the_package_exports():
    assert len(CALLABLES) >= 20 and "train_dec" in CALLABLES and "DEC" in CALLABLES


@pytest.mark.parametrize("name", CALLABLES)
def test_each_public_callable_has_a_runnable_example(name):
    # The examples themselves run as doctests (pyproject's --doctest-modules).
    assert ">>>" in (inspect.getdoc(getattr(keras_dec, name)) or "")


@pytest.mark.parametrize("name", CALLABLES)
def test_each_public_callable_is_type_hinted(name):
    obj = getattr(keras_dec, name)
    assert _unhinted(obj.__init__ if inspect.isclass(obj) else obj) == []
