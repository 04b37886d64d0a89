"""How many CPU threads torch and TensorFlow use inside one operation (intra-op threads).

The small MLPs of RL agents gain nothing from several threads per matrix product, and lose a
lot when the machine is busy: on a loaded 2-core machine a 3000-step ``sb3-dqn`` run took
43-46 s with torch's default thread count and 6-10 s with one thread, with identical
results. rlzoo therefore uses one thread by default (:func:`rlzoo.train`'s ``threads=``,
``rlzoo train --threads``). Nothing here imports a framework: a framework already imported
is set now, one imported later is set when rlzoo loads the backend that uses it.
"""

from __future__ import annotations

import logging
import os
import sys

from rlzoo import checks
from rlzoo.errors import ArgumentError

logger = logging.getLogger(__name__)

#: The count rlzoo applies to frameworks it loads later (``None``: leave the framework's default).
_requested: int | None = 1

#: What holds a worker process's numeric libraries to one thread each: read when they load.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


def set_threads(count: int | None) -> None:
    """Use ``count`` intra-op threads in torch and TensorFlow (``None``: leave them as they are).

    Parameters
    ----------
    count:
        Threads per operation, at least 1, or ``None``.

    Raises
    ------
    ArgumentError: ``count`` is not None or an int >= 1.
    """
    global _requested
    problem = None if count is None else checks.integer(1)(count)
    if problem is not None:
        raise ArgumentError(f"threads={checks.shown(count)}: {problem} (or None for the frameworks' defaults)")
    _requested = None if count is None else int(count)
    if _requested is None:
        return
    # Read by TensorFlow's runtime when it starts (not OMP_NUM_THREADS: tf-keras warns about it).
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(_requested)
    if "torch" in sys.modules:
        apply_to_torch()
    if "tensorflow" in sys.modules:
        apply_to_tensorflow()


def one_thread_per_worker() -> None:
    """Hold this worker process to one thread in every numeric library, loaded now or later.

    For processes that share the cores with others (sweep and tuning workers, one per CPU):
    frameworks that each start a thread per core would oversubscribe the machine. The
    variables must be set before the libraries load; torch and TensorFlow, if already
    loaded, are told through their own APIs (:func:`set_threads`).
    """
    os.environ.update(ONE_THREAD)
    set_threads(1)


def requested_threads() -> int | None:
    """The count last passed to :func:`set_threads` (1 unless changed)."""
    return _requested


def apply_to_torch() -> None:
    """Set torch's intra-op threads to the requested count (torch must be importable)."""
    if _requested is None:
        return
    import torch

    torch.set_num_threads(_requested)


def apply_to_tensorflow() -> None:
    """Set TensorFlow's intra-op threads to the requested count, if its runtime has not started yet.

    TensorFlow fixes its thread pools when its runtime starts (for the keras-rl2 backend,
    when the first agent is built); later calls cannot change them, which is logged.
    """
    if _requested is None:
        return
    import tensorflow as tf

    if tf.config.threading.get_intra_op_parallelism_threads() == _requested:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(_requested)
    except RuntimeError:
        logger.info("TensorFlow has started already: its intra-op threads stay as they are (set threads before building a kerasrl2 agent)")
