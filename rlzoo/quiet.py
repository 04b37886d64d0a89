"""Keeping the frameworks' start-up chatter out of rlzoo's output (the CLI, sweep workers)."""

from __future__ import annotations

import logging
import os
import warnings


def quiet_frameworks() -> None:
    """Hide the frameworks' start-up lines that say nothing about the user's run.

    TensorFlow's C++ lines (CPU features, oneDNN, and an error-level ``failed call to
    cuInit ... (303)`` on every CPU-only machine) obey ``TF_CPP_MIN_LOG_LEVEL``, read once
    when TensorFlow is imported, so call this before a backend imports it; a level the user
    set is kept. absl's and TensorFlow's Python loggers go to ERROR, and Gymnasium's
    colour-coded "out of date" warning (CartPole-v0, the recipe's env on purpose) is hidden.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r".*The environment .* is out of date")
