"""The report's interactive figures: Plotly, from the same statistics as the PNGs (:mod:`rlzoo.experiments.figures`).

Each function returns a ``plotly.graph_objects.Figure``: hovering a point shows its values,
clicking a legend entry hides or shows that agent, and the sample-efficiency figure has
each agent's per-seed curves as a legend entry of their own, hidden until clicked. Colours
come from :mod:`rlzoo.experiments.palette`, as in the PNGs. Plotly comes with the
``report`` extra.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlzoo.errors import MissingDependencyError
from rlzoo.experiments.cells import Cells, Curve, Improvement
from rlzoo.experiments.figures import pair_name
from rlzoo.experiments.palette import agent_colors
from rlzoo.experiments.stats import Estimate

#: Every figure's layout: white, compact, one legend on the right (clear of the panels' titles).
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "legend": {"x": 1.02, "y": 1, "yanchor": "top"}}


def aggregate(estimates: dict[str, Estimate]) -> Any:
    """IQM, mean and median of the normalised scores per label with their 95% intervals, one panel each.

    Parameters
    ----------
    estimates:
        ``{label: Estimate}`` of shape ``(3,)``.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    go, subplots = _plotly()
    labels = list(estimates)
    colors = agent_colors(labels)
    figure = subplots.make_subplots(rows=1, cols=3, subplot_titles=("IQM", "Mean", "Median"), shared_yaxes=True)
    for column in range(3):
        for label in labels:
            e = estimates[label]
            point, low, high = (float(a[column]) for a in (e.point, e.low, e.high))
            figure.add_trace(
                go.Scatter(
                    x=[point],
                    y=[label],
                    mode="markers",
                    marker={"color": colors[label], "size": 11},
                    error_x={"type": "data", "symmetric": False, "array": [high - point], "arrayminus": [point - low], "thickness": 6},
                    name=label,
                    legendgroup=label,
                    showlegend=column == 0,
                    hovertemplate=f"{label}<br>%{{x:.3f}} [{low:.3f}, {high:.3f}]<extra></extra>",
                ),
                row=1,
                col=column + 1,
            )
        figure.update_xaxes(title_text="Normalised score", row=1, col=column + 1)
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(height=220 + 40 * len(labels), **_LAYOUT)
    return figure


def performance_profiles(profiles: dict[str, Estimate], taus: np.ndarray) -> Any:
    """The fraction of runs above each normalised score per label, with its band (toggled with the line).

    Parameters
    ----------
    profiles:
        ``{label: Estimate}`` of shape ``(len(taus),)``.
    taus:
        The thresholds.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    go, _ = _plotly()
    colors = agent_colors(list(profiles))
    figure = go.Figure()
    for label, e in profiles.items():
        _band(figure, go, taus, e.low, e.high, colors[label], label)
        figure.add_trace(
            go.Scatter(
                x=taus,
                y=e.point,
                mode="lines",
                line={"color": colors[label], "width": 2.5},
                name=label,
                legendgroup=label,
                hovertemplate=f"{label}<br>τ %{{x:.2f}}: %{{y:.2f}} of runs above<extra></extra>",
            )
        )
    figure.update_layout(xaxis_title="Normalised score (τ)", yaxis_title="Fraction of runs with score > τ", height=420, **_LAYOUT)
    return figure


def improvement(pairs: list[Improvement]) -> Any:
    """P(X > Y) per pair with its 95% interval, in X's colour.

    Parameters
    ----------
    pairs:
        At least one pair.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    go, _ = _plotly()
    colors = agent_colors(sorted({p.x for p in pairs} | {p.y for p in pairs}))
    figure = go.Figure()
    for p in pairs:
        name = pair_name(p)
        figure.add_trace(
            go.Scatter(
                x=[p.point],
                y=[name],
                mode="markers",
                marker={"color": colors[p.x], "size": 11},
                error_x={"type": "data", "symmetric": False, "array": [p.high - p.point], "arrayminus": [p.point - p.low], "thickness": 6},
                name=name,
                hovertemplate=f"{name} over {p.envs} envs<br>%{{x:.2f}} [{p.low:.2f}, {p.high:.2f}]<extra></extra>",
            )
        )
    figure.add_vline(x=0.5, line_dash="dash", line_color="grey")
    figure.update_xaxes(range=[0, 1], title_text="P(X > Y)")
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(height=200 + 40 * len(pairs), **_LAYOUT)
    return figure


def sample_efficiency(curves: dict[tuple[str, str], Curve], cells: Cells, labels: list[str], envs: list[str]) -> Any:
    """One panel per env: each label's IQM learning curve with its band; its per-seed curves one legend click away.

    Parameters
    ----------
    curves:
        Per (label, env) (:func:`rlzoo.experiments.cells.learning_curves`).
    cells:
        The cells, for each run's own evaluations.
    labels, envs:
        Every label and env, sorted; one panel per env.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    go, subplots = _plotly()
    columns = min(3, len(envs))
    rows = -(-len(envs) // columns)
    figure = subplots.make_subplots(rows=rows, cols=columns, subplot_titles=envs, horizontal_spacing=0.06, vertical_spacing=0.5 / rows)
    colors = agent_colors(labels)
    shown: set[str] = set()
    for (label, env), curve in sorted(curves.items()):
        row, col = envs.index(env) // columns + 1, envs.index(env) % columns + 1
        _band(figure, go, curve.grid, curve.low, curve.high, colors[label], label, row=row, col=col)
        figure.add_trace(
            go.Scatter(
                x=curve.grid,
                y=curve.point,
                mode="lines+markers",
                line={"color": colors[label], "width": 2.5},
                marker={"size": 5},
                name=label,
                legendgroup=label,
                showlegend=label not in shown,
                hovertemplate=f"{label} on {env}<br>step %{{x:.0f}}: IQM %{{y:.1f}}<extra></extra>",
            ),
            row=row,
            col=col,
        )
        cell = cells[label, env]
        for seed, runs in zip(cell.seeds, cell.curves, strict=True):
            if not runs:
                continue
            figure.add_trace(
                go.Scatter(
                    x=[p[0] for p in runs],
                    y=[p[1] for p in runs],
                    mode="lines",
                    line={"color": colors[label], "width": 1, "dash": "dot"},
                    opacity=0.6,
                    name=f"{label}: each seed",
                    legendgroup=f"{label} seeds",
                    showlegend=label not in shown and seed == cell.seeds[0],
                    visible="legendonly",
                    hovertemplate=f"{label} seed {seed} on {env}<br>step %{{x:.0f}}: %{{y:.1f}}<extra></extra>",
                ),
                row=row,
                col=col,
            )
        shown.add(label)
    figure.update_xaxes(title_text="timestep")
    figure.update_yaxes(title_text="greedy return")
    figure.update_layout(height=120 + 300 * rows, **_LAYOUT)
    return figure


def _band(figure: Any, go: Any, x: np.ndarray, low: np.ndarray, high: np.ndarray, color: str, label: str, **where: int) -> None:
    """A CI band: the low edge, then the high edge filled down to it; in ``label``'s legend group, without its own entry."""
    fill = _rgba(color, 0.2)
    common = {"mode": "lines", "line": {"width": 0}, "legendgroup": label, "showlegend": False, "hoverinfo": "skip"}
    figure.add_trace(go.Scatter(x=x, y=low, **common), **where)
    figure.add_trace(go.Scatter(x=x, y=high, fill="tonexty", fillcolor=fill, **common), **where)


def _rgba(color: str, alpha: float) -> str:
    """``#rrggbb`` as a CSS ``rgba()`` with ``alpha``."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _plotly() -> tuple[Any, Any]:
    """Plotly's graph objects and subplots (the report extra)."""
    try:
        import plotly.graph_objects as go  # plotly comes with the report extra
        from plotly import subplots
    except ImportError as exc:
        raise MissingDependencyError("rlzoo report --html", "report") from exc
    return go, subplots
