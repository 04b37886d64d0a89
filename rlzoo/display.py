"""How rlzoo's objects show themselves: readable ``__repr__`` text and ``_repr_html_`` for notebooks.

The functions here take plain values (numbers, strings, sequences) and return text or HTML;
the classes (:class:`rlzoo.records.EvalResult`, :class:`rlzoo.records.TrainingHistory`,
:class:`rlzoo.agent.Agent`, the report) call them from their ``__repr__`` and
``_repr_html_``. Nothing here prints, and it imports nothing from rlzoo, so every layer can
use it. matplotlib and pandas load only where a figure or a table is asked for.
"""

from __future__ import annotations

import base64
import html
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: Episodes of the moving mean in :func:`history_figure` (at most; fewer for short runs).
MOVING_MEAN = 50


def spread(values: Sequence[float]) -> dict[str, float]:
    """Mean, standard deviation, min, median and max of ``values`` (``nan`` for none).

    Parameters
    ----------
    values:
        Returns, lengths or scores.

    Returns
    -------
    dict[str, float]
    """
    if len(values) == 0:
        return dict.fromkeys(("mean", "std", "min", "median", "max"), float("nan"))
    array = np.asarray(values, dtype=float)
    return {
        "mean": float(np.mean(array)),
        "std": float(np.std(array)),
        "min": float(np.min(array)),
        "median": float(np.median(array)),
        "max": float(np.max(array)),
    }


def eval_text(returns: Sequence[float], lengths: Sequence[int]) -> str:
    """``mean ± std over n episodes (min .., median .., max ..; length ..)``."""
    r, n = spread(returns), len(returns)
    return (
        f"{r['mean']:.2f} ± {r['std']:.2f} over {n} episode{'s' * (n != 1)} "
        f"(min {r['min']:.2f}, median {r['median']:.2f}, max {r['max']:.2f}; mean length {spread(lengths)['mean']:.1f})"
    )


def eval_html(returns: Sequence[float], lengths: Sequence[int]) -> str:
    """An evaluation as a small HTML table: the mean ± std, then the spread of returns and lengths."""
    r, n = spread(returns), len(returns)
    rows = {
        "return": f"<b>{r['mean']:.2f} ± {r['std']:.2f}</b> over {n} episodes",
        "spread": f"min {r['min']:.2f} · median {r['median']:.2f} · max {r['max']:.2f}",
        "length": f"mean {spread(lengths)['mean']:.1f} steps",
    }
    return table_html("EvalResult", rows)


def history_summary(episodes: Sequence[tuple[int, float, int]], evaluations: Sequence[tuple[int, float, float]]) -> dict[str, str]:
    """The few numbers a training history is read by: episodes, steps, recent returns, evaluations."""
    summary = {"episodes": str(len(episodes)), "timesteps": str(episodes[-1][0]) if episodes else "0"}
    if episodes:
        recent = [e[1] for e in episodes[-min(len(episodes), 10) :]]
        summary["last 10 episodes"] = f"{np.mean(recent):.2f} mean return"
    summary["evaluations"] = str(len(evaluations))
    if evaluations:
        step, mean, std = max(evaluations, key=lambda e: e[1])
        summary["best evaluation"] = f"{mean:.2f} ± {std:.2f} at step {step}"
        step, mean, std = evaluations[-1]
        summary["last evaluation"] = f"{mean:.2f} ± {std:.2f} at step {step}"
    return summary


def history_figure(episodes: Sequence[tuple[int, float, int]], evaluations: Sequence[tuple[int, float, float]], title: str = "") -> Any:
    """A training history's learning curve: episode returns, their moving mean, and the greedy evaluations.

    Parameters
    ----------
    episodes:
        ``(timestep, return, length)`` rows.
    evaluations:
        ``(timestep, mean, std)`` rows.
    title:
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot's figure manager: a notebook shows it once (as the cell's value).
    """
    from matplotlib.figure import Figure  # matplotlib is heavy and optional

    figure = Figure(figsize=(8, 3.6), layout="constrained")
    axes = figure.subplots()
    if episodes:
        steps, returns = np.array([e[0] for e in episodes]), np.array([e[1] for e in episodes])
        axes.plot(steps, returns, ".", color="tab:blue", alpha=0.35, markersize=4, label="training episode")
        window = max(1, min(MOVING_MEAN, len(returns) // 10))
        axes.plot(
            steps[window - 1 :],
            np.convolve(returns, np.ones(window) / window, mode="valid"),
            color="tab:blue",
            label=f"moving mean ({window})",
        )
    if evaluations:
        steps, means, stds = (np.array(column) for column in zip(*evaluations, strict=True))
        axes.errorbar(steps, means, yerr=stds, fmt="o-", color="tab:orange", capsize=3, label="greedy evaluation (mean ± std)")
    axes.set_xlabel("timestep")
    axes.set_ylabel("episode return")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if episodes or evaluations:
        figure.legend(loc="outside upper center", ncols=3, frameon=False, fontsize=9)
    return figure


#: The hyperparameters an agent's summary names first, where it has them.
KEY_HYPERPARAMS = ("learning_rate", "gamma", "batch_size", "buffer_size", "memory_limit", "n_steps", "hidden_layers", "net_arch", "policy")


def hyperparams_html(hyperparams: Mapping[str, Any]) -> str:
    """The key hyperparameters inline, every one a click away (an HTML ``<details>``)."""
    if not hyperparams:
        return "the backend's defaults"
    key = [name for name in KEY_HYPERPARAMS if name in hyperparams] or sorted(hyperparams)[:4]
    shown = ", ".join(html.escape(f"{name}={hyperparams[name]!r}") for name in key)
    every = "<br>".join(html.escape(f"{k} = {v!r}") for k, v in sorted(hyperparams.items()))
    return f"{shown}<details><summary>all {len(hyperparams)}</summary>{every}</details>"


def table_html(title: str, rows: Mapping[str, str]) -> str:
    """A two-column HTML table under a bold title; ``rows`` values are HTML already, keys are escaped."""
    body = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(k)}</th><td style="text-align:left">{v}</td></tr>'
        for k, v in rows.items()
    )
    return f"<div><b>{html.escape(title)}</b><table>{body}</table></div>"


def report_html(scores: Any, pngs: Sequence[pathlib.Path], markdown: pathlib.Path, page: pathlib.Path | None) -> str:
    """A report inline: its scores table, each figure (the PNG embedded), and where its files are.

    Parameters
    ----------
    scores:
        The per-(agent, env) scores, a pandas DataFrame.
    pngs:
        The figures.
    markdown, page:
        ``report.md``, and ``report.html`` or ``None``.

    Returns
    -------
    str
    """
    parts = [
        f"<h3>rlzoo report: <code>{html.escape(str(markdown.parent))}</code></h3>",
        scores.to_html(index=False, float_format="{:.2f}".format),
    ]
    for png in pngs:
        data = base64.b64encode(png.read_bytes()).decode()
        image = f'<img style="max-width:100%" src="data:image/png;base64,{data}">'
        parts.append(f"<figure>{image}<figcaption>{html.escape(png.name)}</figcaption></figure>")
    links = [markdown, *([page] if page else [])]
    parts.append("<p>Files: " + ", ".join(f'<a href="{html.escape(str(p))}">{html.escape(p.name)}</a>' for p in links) + "</p>")
    return "\n".join(parts)
