"""Seeding every random generator an agent may draw from."""

from __future__ import annotations

import random
import sys

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy's global generator and, if already imported, torch and TensorFlow.

    Parameters
    ----------
    seed:
        The seed. Frameworks that are not imported yet are left alone (importing them
        here would make ``import rlzoo`` heavy); backends seed them when they load them.
    """
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)
