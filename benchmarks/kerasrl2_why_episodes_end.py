"""Why greedy episodes of a trained kerasrl2-dqn end: the cart leaving the track, the pole
falling, or the 500-step limit (for the cart-pole variants, whose true state the env keeps).

    python benchmarks/kerasrl2_why_episodes_end.py ENV_ID SEED [--preset NAME|FILE] [--episodes N]
"""

from __future__ import annotations

import argparse
import collections
import os


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("env_id")
    parser.add_argument("seed", type=int)
    parser.add_argument("--preset", default=None)
    parser.add_argument("--episodes", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import gymnasium as gym

    import rlzoo

    agent = rlzoo.make_agent("kerasrl2-dqn", args.env_id, seed=args.seed, preset=args.preset)
    rlzoo.train(agent, seed=args.seed)
    print("periodic evaluations", [(t, round(m)) for t, m, _ in agent.history.evaluations], flush=True)
    env = agent.wrap_env(gym.make(args.env_id))
    reasons: collections.Counter[str] = collections.Counter()
    lengths = []
    for episode in range(args.episodes):
        observation, _ = env.reset(seed=args.seed + episode)
        done, length = False, 0
        while not done:
            observation, _, terminated, truncated, _ = env.step(agent.predict(observation))
            done, length = terminated or truncated, length + 1
        x, _, theta, _ = env.unwrapped.state
        reason = "time limit" if not terminated else ("cart out (|x| > 2.4)" if abs(x) > 2.4 else "pole fell (|theta| > 12 deg)")
        reasons[reason] += 1
        lengths.append(length)
    print(f"{args.env_id} seed {args.seed}: mean length {sum(lengths) / len(lengths):.1f} over {args.episodes} episodes; ends: {dict(reasons)}")


if __name__ == "__main__":
    main()
