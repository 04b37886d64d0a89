"""The experiment layer: sweeps over agents x envs x seeds, and reports with rliable's statistics.

It sits above :func:`rlzoo.make_agent`, :func:`rlzoo.train`, :func:`rlzoo.evaluate` and
:func:`rlzoo.save` and calls only them; nothing in the core imports it. One job per module:

- :mod:`~rlzoo.experiments.grid`: the runs (:class:`RunSpec`), from arguments or YAML;
- :mod:`~rlzoo.experiments.run`: one run, inside a worker;
- :mod:`~rlzoo.experiments.store`: the SQLite index, written by the driver only;
- :mod:`~rlzoo.experiments.executors`: a local process pool, or Ray tasks;
- :mod:`~rlzoo.experiments.driver`: the driver, :func:`sweep`;
- :mod:`~rlzoo.experiments.stats`: rliable's statistics; :mod:`~rlzoo.experiments.cells`: the runs
  grouped by (agent, env) and their statistics;
- :mod:`~rlzoo.experiments.tables`, :mod:`~rlzoo.experiments.figures`: the report's text and PNGs,
  with one colour per agent from :mod:`~rlzoo.experiments.palette`;
- :mod:`~rlzoo.experiments.plots`, :mod:`~rlzoo.experiments.html`: the interactive figures (Plotly)
  and the self-contained ``report.html``;
- :mod:`~rlzoo.experiments.report`: :func:`report`, which calls them;
- :mod:`~rlzoo.experiments.hparams`: a sweep's runs for TensorBoard's HParams dashboard.
"""

from __future__ import annotations

from rlzoo.experiments.driver import SweepSummary, sweep
from rlzoo.experiments.grid import RunSpec, load_grid, make_grid
from rlzoo.experiments.report import report

__all__ = ["RunSpec", "SweepSummary", "load_grid", "make_grid", "report", "sweep"]
