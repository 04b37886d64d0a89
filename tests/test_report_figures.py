"""The report's figures: every agent named once, in one legend per figure, by the artist that draws it, in its own colour."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_hex
from report_cases import AGENTS, ENVS, SEEDS, final_score
from rliable import metrics

from rlzoo.experiments import cells, figures, stats
from rlzoo.experiments.cells import Cell, Improvement
from rlzoo.experiments.palette import COLORBLIND, FIXED, agent_colors

REPS = 50
TAUS = np.linspace(0, 1.2, 13)


@pytest.fixture(scope="module")
def grouped() -> cells.Cells:
    result: cells.Cells = {}
    for agent in AGENTS:
        for env in ENVS:
            finals = [final_score(agent, env, seed) for seed in range(SEEDS)]
            curves = [[(t, f * t / 1000, 1.0) for t in (200, 600, 1000)] for f in finals]
            result[agent, env] = Cell(list(range(SEEDS)), finals, curves)
    return result


@pytest.fixture(scope="module")
def normalised(grouped: cells.Cells) -> dict[str, np.ndarray]:
    return cells.normalised(grouped, list(AGENTS), list(ENVS), {env: (0.0, 200.0) for env in ENVS})


def legend_entries(figure) -> dict[str, object]:
    """The figure's one legend as {text: handle}; no axes may have a legend of its own."""
    assert len(figure.legends) == 1, "one shared legend per figure"
    assert all(ax.get_legend() is None for ax in figure.axes)
    legend = figure.legends[0]
    return {text.get_text(): handle for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True)}


def handle_color(handle) -> str:
    getter = handle.get_color if hasattr(handle, "get_color") else handle.get_facecolor
    return to_hex(getter(), keep_alpha=False)


def drawn_by(figure, label: str) -> set[str]:
    """The colours of the artists (lines and bars) labelled ``label`` in the figure's axes."""
    colors = set()
    for ax in figure.axes:
        colors |= {to_hex(line.get_color()) for line in ax.get_lines() if line.get_label() == label}
        colors |= {to_hex(c.patches[0].get_facecolor(), keep_alpha=False) for c in ax.containers if c.get_label() == label}
    return colors


def check_every_agent_named(figure, labels: list[str]) -> None:
    entries = legend_entries(figure)
    assert sorted(entries) == sorted(labels)
    colors = agent_colors(labels)
    for label in labels:
        assert handle_color(entries[label]) == colors[label], label
        assert drawn_by(figure, label) == {colors[label]}, f"{label}'s artists are in its legend colour"


def test_aggregate_names_every_agent_with_its_interval(normalised) -> None:
    figure = figures.aggregate(stats.aggregate_estimates(normalised, reps=REPS))
    check_every_agent_named(figure, list(AGENTS))
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == list(AGENTS)


def test_performance_profiles_name_each_line_not_its_band(normalised) -> None:
    figure = figures.performance_profiles(stats.performance_profiles(normalised, TAUS, reps=REPS), TAUS)
    check_every_agent_named(figure, list(AGENTS))
    from matplotlib.lines import Line2D

    assert all(isinstance(h, Line2D) for h in legend_entries(figure).values())


def test_sample_efficiency_has_one_legend_for_all_panels(grouped) -> None:
    figure = figures.sample_efficiency(cells.learning_curves(grouped, REPS), list(AGENTS), list(ENVS))
    check_every_agent_named(figure, list(AGENTS))


def test_probability_of_improvement_names_each_pair() -> None:
    pairs = [Improvement("kerasrl2-dqn", "sb3-ppo", 2, 0.3, 0.1, 0.5), Improvement("kerasrl2-dqn", "sb3-dqn", 2, 0.4, 0.2, 0.6)]
    figure = figures.improvement(pairs)
    names = [figures.pair_name(p) for p in pairs]
    assert sorted(legend_entries(figure)) == sorted(names)
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == names


def test_an_agent_keeps_its_colour_whatever_else_a_report_holds() -> None:
    assert agent_colors(["sb3-ppo"])["sb3-ppo"] == agent_colors(["kerasrl2-dqn", "sb3-dqn", "sb3-ppo"])["sb3-ppo"] == FIXED["sb3-ppo"]
    names = ["a", "b", "c", "my-agent", "kerasrl2-dqn"]
    colors = agent_colors(names)
    assert len(set(colors.values())) == len(names) and set(colors.values()) <= set(COLORBLIND)
    assert agent_colors(["my-agent"]) == {"my-agent": agent_colors(["my-agent", "zzz"])["my-agent"]}


def test_median_across_envs_is_over_every_run_so_it_differs_from_the_mean(normalised) -> None:
    estimate = stats.aggregate_estimates(normalised, reps=REPS)["kerasrl2-dqn"]
    scores = normalised["kerasrl2-dqn"]
    assert estimate.point[2] == pytest.approx(np.median(scores.ravel()))
    assert estimate.point[1] == pytest.approx(np.mean(scores))
    # rliable's aggregate_median (the median of the per-env means) is the mean again on two envs;
    # the median of every run's score is not (0.879 against a mean of 0.906 here).
    assert metrics.aggregate_median(scores) == pytest.approx(estimate.point[1])
    assert abs(estimate.point[2] - estimate.point[1]) > 0.02
