"""keras-rl2 backend (installed as ``rlzoo.agents.kerasrl2``).

Importing this package makes stock keras-rl2 1.0.5 usable on today's stack (see
:mod:`.compat`): it selects legacy Keras (tf-keras), or raises a clear error if TensorFlow
was already imported with Keras 3. keras-rl2 switches TensorFlow to graph mode for the
whole process when it is imported, so rlzoo imports it only when this backend is used.
"""

from .compat import apply as _apply_compat_fixes

_apply_compat_fixes()

from .agent import KerasRL2DQN, RecipeHyperparams  # noqa: E402

__all__ = ["KerasRL2DQN", "RecipeHyperparams"]
