"""rlzoo's own envs (installed as ``rlzoo.envs``).

:func:`register` is this package's entry in the ``rlzoo.envs`` entry-point group: it runs
on ``import rlzoo`` and only records entry-point strings, so nothing heavy is imported.
"""

from __future__ import annotations

from rlzoo.registry import register_env

from .variants import VARIANTS  # light: the variants module imports only gymnasium and numpy


def register() -> None:
    """Register rlzoo's built-in envs (and list the Gymnasium envs its presets target)."""
    register_env("CartPole-v0", description="Gymnasium's CartPole, 200-step episodes (the keras-rl2 recipe's env)")
    register_env("CartPole-v1", description="Gymnasium's CartPole, 500-step episodes")
    register_env("Pendulum-v1", description="Gymnasium's Pendulum, continuous actions")
    for env_id, (factory, threshold, description) in VARIANTS.items():
        register_env(
            env_id,
            f"rlzoo.envs.variants:{factory}",
            description=description,
            reward_threshold=threshold,
            max_episode_steps=500,
            vector_entry_point=f"rlzoo.envs.variants:{factory}_vector",
        )
    register_env(
        "rlzoo/SpringCarts-v0",
        "rlzoo.envs.multi_cart:parallel_env",
        kind="pettingzoo",
        extra="multiagent",
        description="n cart-poles on one track joined by springs (PettingZoo parallel API)",
    )
