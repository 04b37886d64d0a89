"""The learning-curve plot: error bars within the possible returns, and the marked points."""

import numpy as np

from rlzoo.learning_curve import clipped_error_bars, plot_learning_curve, return_range
from rlzoo.records import TrainingHistory


def test_error_bars_stop_at_the_highest_possible_return() -> None:
    bars = clipped_error_bars(np.array([495.0, 20.0]), np.array([10.0, 30.0]), (0.0, 500.0))

    assert bars.tolist() == [[10.0, 20.0], [5.0, 30.0]]  # 495 + 5 = 500; 20 - 20 = 0


def test_cart_pole_returns_lie_between_zero_and_the_episode_limit() -> None:
    assert return_range("CartPole-v1", 500) == (0.0, 500.0)
    assert return_range("Pendulum-v1", 200) is None


def test_plot_marks_kept_weights_final_evaluation_and_threshold(tmp_path) -> None:
    history = TrainingHistory(
        episodes=[(10 * i, float(i), 10) for i in range(1, 60)],
        evaluations=[(200, 50.0, 10.0), (400, 499.0, 3.0), (590, 480.0, 40.0)],
        kept_timestep=400,
    )
    path = tmp_path / "curve.png"

    plot_learning_curve(history, path, "test", final_evaluation=(590, 499.5, 1.0), reward_threshold=475.0, return_range=(0.0, 500.0))

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
