"""The text of a model card (``README.md`` of a model folder): Hub metadata, then Markdown.

:func:`render_card` only formats what :mod:`rlzoo.packaging` measured and read; every number
in the card comes from the ``results`` record that is also written to ``results.json``.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from rlzoo.modelcard import AGENT_ZIP, CURVE, METADATA_KEY, REPLAY


def reproduce_command(results: dict[str, Any]) -> str:
    """The ``rlzoo train`` command line that trains this agent again (same agent, env, seed, steps, hyperparameters).

    Every recorded hyperparameter is passed with ``--set`` (as JSON, which ``--set`` reads as
    YAML), so the command does not depend on the preset's hyperparameters; the preset still
    supplies the training settings the zip does not record (periodic evaluation).
    """
    words = ["rlzoo", "train", "--agent", results["agent"], "--env", results["env_id"], "--steps", str(results["num_timesteps"])]
    if results.get("seed") is not None:
        words += ["--seed", str(results["seed"])]
    for key, value in results["hyperparams"].items():
        words += ["--set", f"{key}={json.dumps(value)}"]
    if results["env_kwargs"]:
        words.append("# env kwargs, not settable from the command line: " + json.dumps(results["env_kwargs"]))
    return " ".join(shlex.quote(word) if not word.startswith("# ") else word for word in words)


def front_matter(results: dict[str, Any]) -> dict[str, Any]:
    """The card's YAML metadata: Hub fields (``library_name``, ``tags``, ``model-index``) and rlzoo's own block."""
    evaluation = results["evaluation"]
    agent, env_id = results["agent"], results["env_id"]
    metrics = [
        {
            "type": "mean_reward",
            "value": f"{evaluation['mean']:.2f} +/- {evaluation['std']:.2f}",
            "name": f"mean_reward ({evaluation['n_episodes']} greedy episodes, seed {evaluation['seed']})",
            "verified": False,
        }
    ]
    sweep = results.get("sweep")
    if sweep is not None:
        metrics.append(
            {
                "type": "iqm_reward",
                "value": f"{sweep['iqm']:.2f} [{sweep['ci_low']:.2f}, {sweep['ci_high']:.2f}]",
                "name": f"IQM [95% CI] over {len(sweep['seeds'])} seeds of sweep cell {sweep['label']}",
                "verified": False,
            }
        )
    return {
        "library_name": "rlzoo",
        "tags": ["reinforcement-learning", "deep-reinforcement-learning", "rlzoo", agent, env_id],
        "model-index": [
            {
                "name": f"{agent} on {env_id}",
                "results": [
                    {
                        "task": {"type": "reinforcement-learning", "name": "reinforcement-learning"},
                        "dataset": {"name": env_id, "type": env_id},
                        "metrics": metrics,
                    }
                ],
            }
        ],
        METADATA_KEY: {"format_version": 1, "agent": agent, "env_id": env_id, "num_timesteps": results["num_timesteps"]},
    }


def render_card(results: dict[str, Any], files: list[str]) -> str:
    """The whole ``README.md``.

    Parameters
    ----------
    results:
        What ``results.json`` holds (see :func:`rlzoo.packaging.package`).
    files:
        The names of the files the folder holds besides the card.

    Returns
    -------
    str
        The card's text.
    """
    import yaml  # PyYAML: an optional dependency that every backend's extra brings

    evaluation = results["evaluation"]
    agent, env_id = results["agent"], results["env_id"]
    lines = ["---", yaml.safe_dump(front_matter(results), sort_keys=False).rstrip(), "---", ""]
    lines += [f"# {agent} on {env_id}", ""]
    lines += [
        f"A `{agent}` agent trained for {results['num_timesteps']} steps on `{env_id}`, packaged by "
        f"rlzoo {results['packaged_with']['rlzoo']}. The agent is `{AGENT_ZIP}`: JSON settings and "
        "weights in formats that load without executing code (no pickle).",
        "",
        "## Evaluation",
        "",
        f"Measured when this folder was written: **{evaluation['mean']:.2f} ± {evaluation['std']:.2f}** (mean ± std of the return) "
        f"over {evaluation['n_episodes']} greedy episodes, seed {evaluation['seed']} (as `rlzoo.evaluate(agent, "
        f"n_episodes={evaluation['n_episodes']}, seed={evaluation['seed']})` plays them), min {evaluation['min']:.2f}, "
        f"max {evaluation['max']:.2f}. "
        "Every return is in `results.json`.",
        "",
    ]
    sweep = results.get("sweep")
    if sweep is not None:
        lines += [
            f"Across the sweep cell `{sweep['label']}` ({agent} on {env_id}, {len(sweep['seeds'])} seeds: "
            f"{', '.join(str(seed) for seed in sweep['seeds'])}): IQM of the final scores **{sweep['iqm']:.2f}** "
            f"[95% CI {sweep['ci_low']:.2f}, {sweep['ci_high']:.2f}] (stratified bootstrap, rliable), from `{sweep['results_dir']}`.",
            "",
        ]
    if REPLAY in files:
        lines += [f"A greedy episode (seed {evaluation['seed']}): `{REPLAY}`.", ""]
    if CURVE in files:
        lines += ["## Training", "", f"![learning curve]({CURVE})", ""]
    else:
        lines += ["## Training", "", "No training history (episodes.csv) was beside the zip, so there is no learning curve.", ""]
    lines += [
        f"- steps trained: {results['num_timesteps']}",
        f"- seed: {results['seed']}",
        f"- env kwargs: `{json.dumps(results['env_kwargs'])}`",
    ]
    trained = results.get("training_evaluation")
    if trained is not None:
        recorded = f"{trained['mean']:.2f} ± {trained['std']:.2f} over {trained['n_episodes']} episodes"
        lines.append(f"- evaluation recorded at the end of training: {recorded}")
    lines += ["", "### Hyperparameters", "", "```yaml", yaml.safe_dump(results["hyperparams"], sort_keys=True).rstrip() or "{}", "```", ""]
    lines += [
        "### Reproduce",
        "",
        "```bash",
        reproduce_command(results),
        "```",
        "",
        "Periodic evaluation during training (`eval_every`, which keeps the best weights) is not recorded in the zip; "
        "the command uses the preset's.",
        "",
        "## Use",
        "",
        "```python",
        "import rlzoo",
        "",
        'agent = rlzoo.load("path/to/this/folder")  # checks this card against agent.zip',
        f"print(rlzoo.evaluate(agent, n_episodes={evaluation['n_episodes']}, seed={evaluation['seed']}))",
        "```",
        "",
        "```bash",
        f"rlzoo evaluate path/to/this/folder --episodes {evaluation['n_episodes']} --seed {evaluation['seed']}",
        "rlzoo export path/to/this/folder --onnx policy.onnx   # the greedy policy, for onnxruntime",
        "```",
        "",
        "## Versions",
        "",
        "| package | trained with | packaged with |",
        "|---|---|---|",
    ]
    trained_with, packaged_with = results["trained_with"], results["packaged_with"]
    for name in sorted(set(trained_with) | set(packaged_with)):
        lines.append(f"| {name} | {trained_with.get(name, '')} | {packaged_with.get(name, '')} |")
    return "\n".join(lines) + "\n"
