"""A sweep's seeds side by side: the runs of one cell that differ only in seed, as one worker task.

For agents whose class trains seeds side by side (:func:`rlzoo.seeds.batches_seeds`:
``kerasrl2-dqn``), :func:`group_runs` puts the runs of a cell (same agent, env, steps,
overrides, preset, label and evaluation interval) into one task, and :func:`perform_group`
trains them with :func:`rlzoo.seeds.train_seed_outcomes`; each seed then ends as a solo run
does (:func:`rlzoo.experiments.run.conclude`): its own final evaluation, folder and outcome.
The index and the report see the same runs as without batching. Other agents' runs stay
one task each.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Sequence

from rlzoo.agent import Agent
from rlzoo.experiments.grid import RunSpec
from rlzoo.experiments.run import LastWeights, RunOutcome, conclude, perform
from rlzoo.quiet import quiet_frameworks
from rlzoo.registry import get_agent
from rlzoo.seeds import batches_seeds, train_seed_outcomes
from rlzoo.threads import one_thread_per_worker


def agent_batches_seeds(name: str) -> bool:
    """Whether registered agent ``name`` trains seeds side by side (imports its backend)."""
    try:
        factory = get_agent(name)
    except Exception:  # unknown or not installed: its runs fail one by one, as without batching
        return False
    return isinstance(factory, type) and batches_seeds(factory)


def group_runs(specs: Sequence[RunSpec], batch_seeds: bool = True) -> list[list[RunSpec]]:
    """The worker tasks: each cell's runs together for agents that batch seeds, else one run each.

    Parameters
    ----------
    specs:
        The runs to do.
    batch_seeds:
        ``False``: one task per run.

    Returns
    -------
    list of lists of RunSpec
        In the order of ``specs``' first run of each task.
    """
    if not batch_seeds:
        return [[spec] for spec in specs]
    batching = {name: agent_batches_seeds(name) for name in {spec.agent for spec in specs}}
    tasks: list[list[RunSpec]] = []
    cells: dict[RunSpec, list[RunSpec]] = {}
    for spec in specs:
        if not batching[spec.agent]:
            tasks.append([spec])
            continue
        cell = dataclasses.replace(spec, seed=0)
        if cell not in cells:
            cells[cell] = []
            tasks.append(cells[cell])
        cells[cell].append(spec)
    return tasks


def perform_group(specs: Sequence[RunSpec], results_dir: str | None, keep_agents: bool) -> list[RunOutcome]:
    """Carry out a task of :func:`group_runs`; never raises for a failing run (see :func:`perform`).

    Parameters
    ----------
    specs:
        Runs of one cell (or one run).
    results_dir, keep_agents:
        As for :func:`rlzoo.experiments.run.perform`.

    Returns
    -------
    list of RunOutcome
        One per spec, in order.
    """
    if len(specs) == 1:
        return [perform(specs[0], results_dir, keep_agents)]
    quiet_frameworks()
    one_thread_per_worker()
    started = time.time()
    outcomes = [RunOutcome(spec.run_id, "failed", started=started) for spec in specs]
    first = specs[0]
    try:
        hyperparams = {**first.hyperparams, "preset": first.preset}
        clock = time.perf_counter()
        last = LastWeights()
        trained = train_seed_outcomes(  # the settings resolve as a solo run's do (rlzoo.settings)
            first.agent,
            first.env,
            [spec.seed for spec in specs],
            first.steps,
            eval_every=first.eval_every,
            threads=None,
            callbacks=[last],
            **hyperparams,
        )
        train_seconds = (time.perf_counter() - clock) / len(specs)  # each seed's share of the batch
    except Exception:
        error = traceback.format_exc(limit=-8)
        for outcome in outcomes:
            outcome.error, outcome.finished = error, time.time()
        return outcomes
    for spec, outcome, agent in zip(specs, outcomes, trained, strict=True):
        outcome.train_seconds = train_seconds
        try:
            if isinstance(agent, Exception):
                raise agent
            conclude(spec, agent, outcome, results_dir, last.of(agent), keep_agent=keep_agents)
        except Exception:  # a crashing run is recorded as failed; the others go on
            outcome.error = traceback.format_exc(limit=-8)
        outcome.finished = time.time()
    for agent in trained:
        if isinstance(agent, Agent):
            type(agent).discard_all()  # the worker goes on to other cells: nothing of this one stays
            break
    return outcomes
