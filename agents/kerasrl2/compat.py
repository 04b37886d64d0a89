"""Small fixes that make stock keras-rl2 1.0.5 work on TensorFlow 2.16+, tf-keras, Gymnasium and NumPy 2.

Each fix names the upstream defect it works around; ``apply()`` applies them all, once.
keras-rl2 is unmaintained since 2021, so the fixes patch its modules in place rather than
fork it. Importing ``rl.agents`` calls ``tf.compat.v1.disable_eager_execution()`` for the
whole process (rl/agents/ddpg.py): from then on TensorFlow runs in graph mode.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from rlzoo.errors import MissingDependencyError, RLZooError
from rlzoo.threads import apply_to_tensorflow

_applied = False


def select_legacy_keras() -> None:
    """Defect 0: keras-rl2 needs Keras 2. Select tf-keras before TensorFlow is first imported.

    Raises
    ------
    RLZooError: TensorFlow was already imported with Keras 3.
    """
    if "tensorflow" in sys.modules and os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        keras_module = getattr(sys.modules["tensorflow"], "keras", None)
        if keras_module is not None and not getattr(keras_module, "__name__", "").startswith("tf_keras"):
            raise RLZooError(
                "TensorFlow was already imported with Keras 3, which keras-rl2 cannot use: set "
                "TF_USE_LEGACY_KERAS=1 before TensorFlow is first imported (or import rlzoo.agents.kerasrl2 first)"
            )
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    # TensorFlow's C++ info and warning lines (CPU features, graph-mode notices) drown the
    # output; errors still show. Set TF_CPP_MIN_LOG_LEVEL yourself to see them (the CLI sets
    # 3 unless -v: CPU-only machines also get an error-level "failed call to cuInit" line).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def _native_start_up_lines_hidden() -> Iterator[None]:
    """With ``TF_CPP_MIN_LOG_LEVEL=3``, hide the lines TensorFlow's C++ writes while it loads.

    TensorFlow 2.21 logs "oneDNN custom operations are on" and "Could not find cuda
    drivers" before it initialises its logging, so ``TF_CPP_MIN_LOG_LEVEL`` does not filter
    them: the process's stderr goes to /dev/null for the import (Python errors raised by it
    still show, as they print after it).
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3" or "tensorflow" in sys.modules:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _OldGymEnv:
    """Defect 3: keras-rl2's ``fit``/``test`` speak the old Gym API. This view of a Gymnasium
    env returns ``obs`` from ``reset()`` and ``(obs, reward, done, info)`` from ``step()``,
    with ``done = terminated or truncated`` (what stock keras-rl2 expects; rlzoo's own loop
    keeps the two apart)."""

    def __init__(self, env: Any) -> None:
        self._env = env

    def reset(self) -> Any:
        observation, _ = self._env.reset()
        return observation

    def step(self, action: Any) -> tuple[Any, float, bool, dict]:
        observation, reward, terminated, truncated, info = self._env.step(action)
        return observation, reward, bool(terminated or truncated), info

    def render(self, mode: str = "human") -> Any:
        return self._env.render()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


def _speaks_gymnasium(env: Any) -> bool:
    import gymnasium

    return isinstance(env, gymnasium.Env)


def _gymnasium_aware(method: Any) -> Any:
    def wrapper(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
        return method(self, _OldGymEnv(env) if _speaks_gymnasium(env) else env, *args, **kwargs)

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = method.__name__, method.__doc__, method  # type: ignore[attr-defined]
    return wrapper


def _wide_counters_numpy() -> types.ModuleType:
    """Defect 4: rl/core.py counts steps in ``np.int16``, which wraps at 32767 under NumPy 2
    (``fit(nb_steps=50000)`` never returns). rl.core gets a view of NumPy whose ``int16``
    is ``int64``; it uses ``np.int16`` for nothing but those counters."""
    view = types.ModuleType("numpy_with_wide_counters")
    view.__dict__.update({k: v for k, v in vars(np).items() if not k.startswith("__")})
    view.int16 = np.int64  # type: ignore[attr-defined]
    return view


def legacy_optimizer(optimizer: Any) -> Any:
    """The legacy (graph-mode) equivalent of a new-style Keras optimizer, with the same settings."""
    import tf_keras

    legacy = tf_keras.optimizers.legacy
    if isinstance(optimizer, legacy.Optimizer):
        return optimizer
    if isinstance(optimizer, str):
        return legacy.get(optimizer) if hasattr(legacy, "get") else getattr(legacy, optimizer.capitalize())()
    cls = getattr(legacy, type(optimizer).__name__, None)
    if cls is None:
        raise RLZooError(f"keras-rl2 needs a legacy Keras optimizer and {type(optimizer).__name__} has none: use Adam, SGD or RMSprop")
    # get_config() reads variables with .numpy(), which fails in graph mode: read attributes.
    names = ("beta_1", "beta_2", "epsilon", "amsgrad", "momentum", "nesterov", "rho", "centered")
    settings = {name: getattr(optimizer, name) for name in names if hasattr(optimizer, name)}
    rate = optimizer._learning_rate
    # The variable is not initialised yet in graph mode; its initial value is a constant.
    if not isinstance(rate, (int, float)):
        rate = float(tf_keras.src.backend.get_session().run(rate.initial_value))
    settings["learning_rate"] = rate
    accepted = cls.__init__.__code__.co_varnames
    return cls(**{k: v for k, v in settings.items() if k in accepted})


def _additional_updates_optimizer_class() -> type:
    """Defect 2: rl/util.py's ``AdditionalUpdatesOptimizer`` subclasses the new-style Keras
    optimizer, reads its ``_name`` and relies on ``get_updates`` (graph mode), which only the
    legacy optimizers have. This one wraps the legacy equivalent of whatever it is given."""
    import tf_keras

    class AdditionalUpdatesOptimizer(tf_keras.optimizers.legacy.Optimizer):
        def __init__(self, optimizer: Any, additional_updates: list) -> None:
            optimizer = legacy_optimizer(optimizer)
            super().__init__(name=optimizer._name)
            self.optimizer = optimizer
            self.additional_updates = additional_updates

        def get_updates(self, loss: Any, params: Any) -> list:
            updates = self.optimizer.get_updates(loss=loss, params=params)
            return list(updates) + list(self.additional_updates)

        def get_config(self) -> dict:
            return self.optimizer.get_config()

    return AdditionalUpdatesOptimizer


def apply() -> None:
    """Apply every fix (idempotent). Afterwards the keras-rl2 tutorial runs unchanged."""
    global _applied
    if _applied:
        return
    select_legacy_keras()
    try:
        with _native_start_up_lines_hidden():
            import tensorflow.keras as tf_keras_api
            import tf_keras
    except ImportError as exc:
        raise MissingDependencyError(f"the keras-rl2 backend ({exc})", "kerasrl2") from exc
    # Thread pools are fixed when TensorFlow's runtime starts, i.e. when the first agent is built.
    apply_to_tensorflow()
    # Defect 1: rl/callbacks.py does `from tensorflow.keras import __version__`, which
    # tf-keras's v2 API module lacks.
    if not hasattr(tf_keras_api, "__version__"):
        tf_keras_api.__version__ = tf_keras.__version__
    try:
        import rl.agents.dqn
        import rl.core
        import rl.util
    except ImportError as exc:
        raise MissingDependencyError(f"the keras-rl2 backend ({exc})", "kerasrl2") from exc
    optimizer_class = _additional_updates_optimizer_class()
    for module in (rl.util, rl.agents.dqn, sys.modules.get("rl.agents.ddpg")):
        if module is not None and hasattr(module, "AdditionalUpdatesOptimizer"):
            setattr(module, "AdditionalUpdatesOptimizer", optimizer_class)  # noqa: B010  (mypy cannot see the attribute)
    rl.core.np = _wide_counters_numpy()
    rl.core.Agent.fit = _gymnasium_aware(rl.core.Agent.fit)
    rl.core.Agent.test = _gymnasium_aware(rl.core.Agent.test)
    _applied = True
