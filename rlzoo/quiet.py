"""Keeping the frameworks' start-up chatter out of rlzoo's output (the CLI, sweep workers, and the Python API)."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator

#: Gymnasium's colour-coded "out of date" warning for the recipe's env, CartPole-v0, which rlzoo uses on purpose.
RECIPE_ENV_OUT_OF_DATE = r".*The environment CartPole-v0 is out of date"


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


class _DropOmpNotice(logging.Filter):
    """Drops TF-Keras's "OMP_NUM_THREADS is no longer used" warning, logged whenever that variable is set.

    rlzoo sets TensorFlow's threads through ``tf.config.threading`` (:mod:`rlzoo.threads`), as
    the warning advises, and sets ``OMP_NUM_THREADS`` in workers for the other numeric
    libraries; the warning has nothing for an rlzoo user to act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "OMP_NUM_THREADS is no longer used" not in record.getMessage()


_OMP_NOTICE = _DropOmpNotice()


@contextlib.contextmanager
def quiet_backend_import() -> Iterator[None]:
    """While a backend is imported through the Python API: no framework start-up lines, and nothing else changed for good.

    What :func:`quiet_frameworks` does for the CLI, limited to what the import itself says:
    ``TF_CPP_MIN_LOG_LEVEL`` defaults to 3 (a level the user set is kept; TensorFlow reads it
    once, at import, and sweep workers started later inherit it), and TensorFlow's and absl's
    Python loggers stay at ERROR only during the import (TF-Keras's "OMP_NUM_THREADS is no
    longer used" line, dropped for good by its own filter), so TensorFlow's warnings about
    the user's own code still show.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").addFilter(_OMP_NOTICE)  # one filter object: adding it again changes nothing
    loggers = [logging.getLogger(name) for name in ("tensorflow", "absl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def recipe_env_warning_hidden() -> Iterator[None]:
    """Gymnasium's "CartPole-v0 is out of date" warning hidden while rlzoo makes an env; every other warning shows."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=RECIPE_ENV_OUT_OF_DATE)
        yield
