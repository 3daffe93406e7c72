"""DEC's training step on the JAX backend: the stateless `train_step(state, data)`."""

from __future__ import annotations

import functools

import jax
import keras

from keras_dec.backend.common import array_fit_inputs as fit_inputs  # noqa: F401
from keras_dec.backend.common import array_predict_inputs as predict_inputs  # noqa: F401
from keras_dec.backend.jax_loop import DeviceLoop  # noqa: F401


def device_loop_by_default() -> bool:
    """Whether `train_dec(device_loop=None)` trains through `DeviceLoop`: always here."""
    return True


def _run_stateless(variables, values, fn, *args):
    """Runs `fn(*args)` with `variables` read as `values`; returns its result and new values."""
    with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))) as scope:
        result = fn(*args)
    new_values = []
    for variable, value in zip(variables, values, strict=True):
        current = scope.get_current_value(variable)
        new_values.append(value if current is None else current)
    return result, new_values


class DECTrainer:
    """`train_step`/`test_step` for `DEC` on JAX, in the stateless form of Keras' JAX guide.

    The snapshot encoder, the cluster frequencies and the step counters are
    non-trainable variables of the model, so the loss sees them through the
    `StatelessScope` mapping and the counter increments come back in the
    returned state, in the order the trainer expects.
    """

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        model_variables = self.trainable_variables + self.non_trainable_variables
        n_trainable = len(trainable)

        def loss_fn(trainable, non_trainable):
            (loss, per_sample), values = _run_stateless(
                model_variables, list(trainable) + list(non_trainable),
                functools.partial(self.dec_loss, training=True), x,
            )
            return loss, (per_sample, values[n_trainable:])

        (_, (per_sample, non_trainable)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            trainable, non_trainable
        )
        trainable, optimizer_vars = self.optimizer.stateless_apply(
            optimizer_vars, grads, trainable
        )
        state_variables = self.non_trainable_variables + self.metrics_variables
        logs, values = _run_stateless(
            state_variables, list(non_trainable) + list(metrics_vars),
            self.dec_update_state, per_sample,
        )
        n = len(non_trainable)
        return logs, (trainable, values[:n], optimizer_vars, values[n:])

    def test_step(self, state, data):
        trainable, non_trainable, metrics_vars = state
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        (_, per_sample), _ = _run_stateless(
            self.trainable_variables + self.non_trainable_variables,
            list(trainable) + list(non_trainable),
            functools.partial(self.dec_loss, training=False), x,
        )
        logs, metrics_vars = _run_stateless(
            self.metrics_variables, metrics_vars,
            functools.partial(self.dec_update_state, count_step=False), per_sample,
        )
        return logs, (trainable, non_trainable, metrics_vars)


def compile_function(model, fn):
    """`jax.jit` of `fn(*args)`, with the model's current weights passed in as values.

    Every Python (non-array) argument is static. The weights are read at
    each call, so assignments made between calls (the snapshot copy) are seen.
    """
    variables = list(model.weights)
    compiled = {}

    def call(*args):
        static = tuple(i for i, a in enumerate(args) if isinstance(a, (bool, int, str)))
        if static not in compiled:
            def run(values, *args):
                return _run_stateless(variables, values, fn, *args)[0]

            compiled[static] = jax.jit(run, static_argnums=tuple(i + 1 for i in static))
        return compiled[static]([v.value for v in variables], *args)

    return call


def device_description() -> str:
    """The device training runs on, e.g. `"gpu (NVIDIA H200)"` or `"cpu"`, and the version."""
    device = jax.devices()[0]
    kind = getattr(device, "device_kind", "")
    return f"{device.platform} ({kind}), jax {jax.__version__}"


def enable_determinism() -> None:
    """Nothing to switch on here: JAX on CPU is deterministic run to run.

    XLA reads `XLA_FLAGS` once, when JAX starts, which has happened by the
    time a model exists; for deterministic GPU kernels start the process
    with `XLA_FLAGS=--xla_gpu_deterministic_ops=true`.
    """
