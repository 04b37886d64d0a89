"""What a notebook shows of rlzoo's objects: readable reprs, ``_repr_html_`` tables, and a history that plots itself."""

from __future__ import annotations

import pytest

import rlzoo
from rlzoo.evaluation import final_evaluation
from rlzoo.records import EvalResult, TrainingHistory


def test_eval_result_shows_mean_std_episodes_and_spread_not_every_return() -> None:
    result = EvalResult(returns=tuple(float(r) for r in range(1, 101)), lengths=(10,) * 100)
    text = repr(result)
    assert "50.50 ± 28.87 over 100 episodes" in text
    assert "min 1.00" in text and "median 50.50" in text and "max 100.00" in text
    assert len(text) < 150
    shown = result._repr_html_()
    assert "50.50 ± 28.87" in shown and "max 100.00" in shown and "<table>" in shown


def test_training_history_summarises_instead_of_dumping_its_episodes() -> None:
    history = TrainingHistory(
        episodes=[(10 * i, float(i), 10) for i in range(1, 1001)], evaluations=[(5000, 80.0, 4.0), (10000, 95.0, 2.0)]
    )
    text = repr(history)
    assert "episodes: 1000" in text and "timesteps: 10000" in text and "95.00 ± 2.00 at step 10000" in text
    assert len(text) < 300
    assert "best evaluation" in history._repr_html_()


def test_training_history_plot_returns_a_figure_with_every_line_labelled() -> None:
    history = TrainingHistory(episodes=[(10 * i, float(i), 10) for i in range(1, 101)], evaluations=[(500, 40.0, 4.0), (1000, 95.0, 2.0)])
    figure = history.plot(title="demo")
    from matplotlib.figure import Figure

    assert isinstance(figure, Figure)
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels == ["training episode", "moving mean (10)", "greedy evaluation (mean ± std)"]


@pytest.fixture(scope="module")
def agent() -> rlzoo.Agent:
    agent = rlzoo.make_agent("sb3-dqn", "CartPole-v1", seed=0, learning_starts=50)
    rlzoo.train(agent, total_timesteps=200)
    final_evaluation(agent, n_episodes=3)  # what rlzoo train does, and what the agent keeps as its last evaluation
    return agent


def test_agent_repr_names_it_its_env_timesteps_and_last_evaluation(agent: rlzoo.Agent) -> None:
    text = repr(agent)
    mean = agent.last_evaluation.mean if agent.last_evaluation else None
    assert (
        "'sb3-dqn'" in text and "'CartPole-v1'" in text and f"{agent.num_timesteps} steps" in text and f"last evaluation {mean:.2f}" in text
    )


def test_agent_html_shows_key_hyperparameters_and_last_evaluation(agent: rlzoo.Agent) -> None:
    shown = agent._repr_html_()
    for expected in ("sb3-dqn", "CartPole-v1", "learning_starts = 50", str(agent.num_timesteps), "over 3 episodes"):
        assert expected in shown, expected
