"""The Keras Q-network of ``kerasrl2-dqn``: its layers, its seeded initial weights, the dueling head."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras
from tf_keras.layers import Dense, Flatten
from tf_keras.models import Sequential

from .hyperparams import RecipeHyperparams


def build_model(config: RecipeHyperparams, observation_shape: tuple[int, ...], n_actions: int) -> Any:
    """keras-rl2's recipe network: Flatten of a one-frame window, ReLU Dense layers, a linear
    (or dueling) head."""
    layers: list[Any] = [Flatten(input_shape=(1, *observation_shape))]
    layers += [Dense(units, activation="relu") for units in config.hidden_layers]
    if config.enable_dueling_network:  # keras-rl2's head: Dense(n + 1) as [V, A_1..A_n], then aggregated
        layers += [Dense(n_actions + 1, activation="linear"), DuelingAggregation(config.dueling_type)]
    else:
        layers.append(Dense(n_actions, activation="linear"))
    return Sequential(layers)


def layer_units(config: RecipeHyperparams, observation_size: int, n_actions: int) -> list[int]:
    """Units from the flattened observation to the head (``n + 1`` for the dueling head's [V, A])."""
    head = n_actions + 1 if config.enable_dueling_network else n_actions
    return [observation_size, *config.hidden_layers, head]


def initial_weights(config: RecipeHyperparams, observation_size: int, n_actions: int, seed: int | None) -> list[np.ndarray]:
    """:func:`glorot_uniform_weights` of the recipe network, from the shapes alone (no Keras model)."""
    units = layer_units(config, observation_size, n_actions)
    weights = []
    for fan_in, fan_out in zip(units[:-1], units[1:], strict=False):
        weights += [np.zeros((fan_in, fan_out), np.float32), np.zeros(fan_out, np.float32)]
    rng = np.random.default_rng(seed)
    return [_glorot(array, rng) for array in weights]


def _glorot(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if array.ndim == 2:
        limit = math.sqrt(6.0 / (array.shape[0] + array.shape[1]))
        return rng.uniform(-limit, limit, size=array.shape).astype(array.dtype)
    return np.zeros_like(array)


def glorot_uniform_weights(model: Any, rng: np.random.Generator) -> list[np.ndarray]:
    """Keras's default initialisation (Glorot-uniform kernels, zero biases), drawn from ``rng``.

    TensorFlow's graph-mode initialisers depend on how many ops the process's graph already
    holds, so two agents built with one seed in one process would differ; drawing from a
    seeded NumPy generator makes initial weights a function of the seed alone.
    """
    return [_glorot(array, rng) for array in model.get_weights()]


class DuelingAggregation(tf_keras.layers.Layer):
    """Q-values from ``[V, A_1..A_n]``, as keras-rl2's dueling head computes them.

    ``"avg"``: ``Q = V + A - mean(A)``; ``"max"``: ``Q = V + A - max(A)``; ``"naive"``: ``Q = V + A``.
    keras-rl2 1.0.5 builds this step as a ``Lambda`` layer and then clones the model for its
    target network, which tf-keras refuses in safe mode ("Requested the deserialization of a
    Lambda layer"): ``enable_dueling_network=True`` never worked. A Layer subclass clones
    from its config.
    """

    def __init__(self, dueling_type: str = "avg", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dueling_type = dueling_type

    def call(self, inputs: Any) -> Any:
        value, advantage = inputs[:, :1], inputs[:, 1:]
        if self.dueling_type == "avg":
            return value + advantage - tf.reduce_mean(advantage, axis=1, keepdims=True)
        if self.dueling_type == "max":
            return value + advantage - tf.reduce_max(advantage, axis=1, keepdims=True)
        return value + advantage

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tf.TensorShape(input_shape).as_list()[:-1] + [input_shape[-1] - 1]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dueling_type": self.dueling_type}
