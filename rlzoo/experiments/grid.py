"""The runs of a sweep: agents x envs x seeds (x hyperparameter overrides), from arguments or a YAML file."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import pathlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rlzoo import checks, yamlfile
from rlzoo.errors import MissingDependencyError, RLZooError
from rlzoo.settings import RULES

DEFAULT_SEEDS = 10
#: The most runs one grid may hold (a bigger one is a typo such as ``seeds: 10000000``).
MAX_RUNS = 100_000


class GridError(RLZooError, ValueError):
    """A grid that cannot be built: the message names the bad key or value and what is expected."""


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: train ``agent`` on ``env`` with ``seed``, evaluate it, save it.

    Attributes
    ----------
    agent, env, seed:
        What :func:`rlzoo.make_agent` gets.
    steps:
        Env steps to train; ``None`` takes the preset's.
    overrides:
        Hyperparameters over the preset's, as ``(key, value)`` pairs sorted by key (JSON values).
    eval_every:
        Steps between periodic greedy evaluations (the learning curve); ``None`` takes the
        preset's, else a tenth of the training steps.
    label:
        The name the report shows for this configuration (the agent's name unless overridden).
    preset:
        A preset name (``recipe``) or YAML file to build the agent from instead of its own
        preset (what ``make_agent(preset=)`` takes); ``None`` for the agent's own.
    preset_digest:
        For a preset file: the SHA-256 of its content (parsed, as canonical JSON). The run id
        follows it, not the file's path, so moving the checkout or the file reruns nothing.
    """

    agent: str
    env: str
    seed: int
    steps: int | None = None
    overrides: tuple[tuple[str, Any], ...] = ()
    eval_every: int | None = None
    label: str = ""
    preset: str | None = None
    preset_digest: str | None = None

    @property
    def name(self) -> str:
        """The report's name for this configuration: ``label`` or the agent's name."""
        return self.label or self.agent

    @property
    def run_id(self) -> str:
        """A stable id that names the run's folder and index row; differs whenever the run would differ."""
        base = f"{self.agent}__{self.env.replace('/', '-')}__seed{self.seed}"
        config: dict[str, Any] = {
            "steps": self.steps,
            "overrides": dict(self.overrides),
            "eval_every": self.eval_every,
            "label": self.label,
        }
        if self.preset is not None:  # only then, so that ids from before presets existed stay the same
            config["preset"] = self.preset if self.preset_digest is None else f"sha256:{self.preset_digest}"
        if config == {"steps": None, "overrides": {}, "eval_every": None, "label": ""}:
            return base
        digest = hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:8]
        return f"{base}__{digest}"

    @property
    def hyperparams(self) -> dict[str, Any]:
        """The overrides as keyword arguments."""
        return dict(self.overrides)


def make_grid(
    agents: Sequence[str],
    envs: Sequence[str],
    seeds: int | Iterable[int] = DEFAULT_SEEDS,
    *,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    eval_every: int | None = None,
    label: str = "",
    preset: str | None = None,
) -> list[RunSpec]:
    """Every (agent, env, seed) combination as :class:`RunSpec` records, in that order.

    Parameters
    ----------
    agents, envs:
        Agent names and env ids.
    seeds:
        A count ``N`` (seeds ``0..N-1``) or the seeds themselves.
    steps, eval_every, label, preset:
        As on :class:`RunSpec`, shared by every run. A ``preset`` that names a file
        (``.yml``/``.yaml``) must exist.
    overrides:
        Hyperparameters over each preset, shared by every run.

    Returns
    -------
    list[RunSpec]
    """
    agent_list, env_list = _names(agents, "agents"), _names(envs, "envs")
    seed_list = seed_values(seeds)
    if len(agent_list) * len(env_list) * len(seed_list) > MAX_RUNS:
        raise GridError(
            f"the grid has {len(agent_list)} agents x {len(env_list)} envs x {len(seed_list)} seeds, more than "
            f"{MAX_RUNS} runs: split it into smaller sweeps"
        )
    for name, value in (("steps", steps), ("eval_every", eval_every)):
        problem = checks.optional(RULES["total_timesteps" if name == "steps" else "eval_every"])(value)
        if problem is not None:
            raise GridError(f"{name} {problem}, got {checks.shown(value)}")
    if not isinstance(label, str):
        raise GridError(f"label must be a string (the report's name for these runs), got {checks.shown(label)}")
    digest = None
    if preset is not None:
        preset, digest = _checked_preset(preset)
    if overrides is not None and not isinstance(overrides, Mapping):
        raise GridError(f"overrides (a grid's set:) must be a mapping of hyperparameter names to values, got {checks.shown(overrides)}")
    pairs = tuple(sorted((overrides or {}).items()))
    if not all(isinstance(key, str) and key for key, _ in pairs):
        raise GridError(f"overrides (a grid's set:) must have hyperparameter names as keys, got {checks.shown(dict(pairs))}")
    try:
        json.dumps(dict(pairs))
    except (TypeError, ValueError) as exc:
        raise GridError(f"overrides (a grid's set:) must be JSON values (numbers, strings, lists, dicts): {exc}") from None
    if checks.json_depth(dict(pairs)) > MAX_OVERRIDE_DEPTH:
        raise GridError(f"overrides (a grid's set:) nest deeper than {MAX_OVERRIDE_DEPTH} levels: give numbers, strings or short lists")
    return [
        RunSpec(agent, env, seed, steps, pairs, eval_every, label, preset, digest)
        for agent in agent_list
        for env in env_list
        for seed in seed_list
    ]


#: How deeply an override may nest lists and mappings (``policy_kwargs: {net_arch: {pi: [64]}}`` is 3).
MAX_OVERRIDE_DEPTH = 8


def _names(names: Any, what: str) -> list[str]:
    """Agent names or env ids: a non-empty list of non-empty strings (one string is one name)."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) and n.strip() for n in names):
        example = "['sb3-ppo', 'sb3-dqn']" if what == "agents" else "['CartPole-v1']"
        raise GridError(f"{what} must be a non-empty list of names such as {example}, got {checks.shown(names)}")
    return list(dict.fromkeys(names))


def seed_values(seeds: Any) -> list[int]:
    """A grid's seeds: a count ``N`` (seeds ``0..N-1``) or the seeds themselves, each checked by :func:`rlzoo.checks.seed_problem`.

    Parameters
    ----------
    seeds:
        An int from 1 to :data:`MAX_RUNS`, or a non-empty list of seeds (duplicates dropped).

    Returns
    -------
    list[int]

    Raises
    ------
    GridError
        Anything else (a float, a bool, a string, a seed out of range), saying what is valid.
    """
    wanted = f"seeds must be a count from 1 to {MAX_RUNS} (seeds 0..N-1) or a list of seeds (ints from 0 to 2**32 - 1)"
    if checks.is_int(seeds):
        if not 1 <= seeds <= MAX_RUNS:
            raise GridError(f"{wanted}, got {checks.shown(seeds)}")
        return list(range(int(seeds)))
    if isinstance(seeds, (str, bytes, bool, Mapping)) or not isinstance(seeds, Iterable):
        raise GridError(f"{wanted}, got {checks.shown(seeds)}")
    values = list(itertools.islice(seeds, MAX_RUNS + 1))
    if not values or len(values) > MAX_RUNS:
        raise GridError(f"{wanted}, got {len(values) if values else 'no'} seeds")
    for index, seed in enumerate(values):
        problem = checks.seed_problem(seed)
        if problem is not None or seed is None:
            raise GridError(f"seeds[{index}] {problem or 'must be an int from 0 to 2**32 - 1, got None'}")
    return list(dict.fromkeys(int(seed) for seed in values))


def _checked_preset(preset: Any) -> tuple[str, str | None]:
    """A preset name and ``None``, or the absolute path of an existing preset file and its content's digest."""
    if not isinstance(preset, str | pathlib.PurePath) or not str(preset).strip():
        raise GridError(f"preset must be a preset name (such as recipe) or a YAML file, got {checks.shown(preset)}")
    path = pathlib.Path(preset)
    if path.suffix not in (".yml", ".yaml"):
        return str(preset), None
    if not path.is_file():
        raise GridError(f"preset file {str(path)!r} does not exist: give a YAML file such as rlzoo tune's best_preset.yml, or a name")
    try:
        content = yamlfile.load(path, "preset file", extra="experiments")
    except MissingDependencyError:
        raise
    except RLZooError as exc:
        raise GridError(str(exc)) from None
    canonical = json.dumps(content, sort_keys=True, default=str)
    return str(path.resolve()), hashlib.sha256(canonical.encode()).hexdigest()


_BLOCK_KEYS = {"agents", "envs", "seeds", "steps", "set", "eval_every", "label", "preset"}


def grid_from_mapping(data: Mapping[str, Any], folder: pathlib.Path | None = None) -> list[RunSpec]:
    """The runs a YAML grid describes (see :func:`load_grid` for the format).

    Parameters
    ----------
    data:
        The parsed YAML document.
    folder:
        Where relative preset files are found (the grid file's folder); else the working directory.

    Returns
    -------
    list[RunSpec]
        Every block's runs, in order, duplicates dropped.
    """
    if not isinstance(data, Mapping):
        raise GridError(f"a grid file holds a mapping with 'runs:' (a list of blocks), got {type(data).__name__}")
    defaults = {key: value for key, value in data.items() if key != "runs"}
    blocks = data["runs"] if "runs" in data else [{}]
    if not isinstance(blocks, list) or not blocks:
        raise GridError("a grid file needs 'runs:', a list of blocks with 'agents:' and 'envs:' (or top-level 'agents:' and 'envs:')")
    specs: dict[str, RunSpec] = {}
    for index, block in enumerate(blocks):
        if not isinstance(block, Mapping):
            raise GridError(f"runs[{index}] must be a mapping with 'agents:' and 'envs:', got {block!r}")
        merged = {**defaults, **block}
        unknown = set(merged) - _BLOCK_KEYS
        if unknown:
            raise GridError(f"runs[{index}]: unknown keys {sorted(unknown)}; valid keys: {sorted(_BLOCK_KEYS)}")
        for key in ("agents", "envs"):
            if not isinstance(merged.get(key), list) or not all(isinstance(x, str) for x in merged[key]):
                raise GridError(f"runs[{index}].{key} must be a list of names, got {merged.get(key)!r}")
        try:
            block_specs = make_grid(
                merged["agents"],
                merged["envs"],
                merged.get("seeds", DEFAULT_SEEDS),
                steps=merged.get("steps"),
                overrides=merged.get("set") if merged.get("set") is not None else {},
                eval_every=merged.get("eval_every"),
                label=merged.get("label", ""),
                preset=_relative_to(merged.get("preset"), folder),
            )
        except GridError as exc:
            message = str(exc).replace("overrides (a grid's set:)", "set")
            raise GridError(f"runs[{index}]: {message}") from None
        for spec in block_specs:
            specs.setdefault(spec.run_id, spec)
        if len(specs) > MAX_RUNS:
            raise GridError(f"the grid has more than {MAX_RUNS} runs: split it into smaller sweeps")
    return list(specs.values())


def _relative_to(preset: Any, folder: pathlib.Path | None) -> Any:
    """A relative preset file's path from ``folder``; anything else as it is."""
    if folder is None or not isinstance(preset, str) or pathlib.Path(preset).suffix not in (".yml", ".yaml"):
        return preset
    return str(folder / preset)


def load_grid(
    path: str | pathlib.Path,
    *,
    seeds: int | None = None,
    steps: int | None = None,
    eval_every: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    preset: str | None = None,
) -> list[RunSpec]:
    """Read a grid from YAML.

    The format::

        seeds: 10            # top-level keys are defaults for every block
        runs:
          - agents: [sb3-ppo, sb3-dqn]
            envs: [CartPole-v1]
          - agents: [sb3-ppo]
            envs: [rlzoo/NoisyCartPole-v0]
            steps: 50000     # optional: training steps (default: the preset's)
            set: {n_steps: 64}   # optional hyperparameter overrides
            label: ppo-64    # optional: the report's name for this configuration
            preset: recipe   # optional: a preset name or file (relative to this file) instead of the agent's own
            eval_every: 5000 # optional: steps between learning-curve evaluations

    Parameters
    ----------
    path:
        The YAML file.
    seeds, steps, eval_every, preset:
        When given, they replace every block's (a quick trial of a big grid: ``seeds=2, steps=500``).
    overrides:
        Hyperparameters added to every block's ``set``.

    Returns
    -------
    list[RunSpec]
    """
    file = pathlib.Path(path)
    try:
        data = yamlfile.load(file, "grid file", extra="experiments")
    except MissingDependencyError:
        raise
    except RLZooError as exc:
        raise GridError(str(exc)) from None
    given = (
        ("seeds", seeds),
        ("steps", steps),
        ("eval_every", eval_every),
        ("preset", None if preset is None else _checked_preset(preset)[0]),
    )
    replace = {key: value for key, value in given if value is not None}
    if isinstance(data, dict) and (replace or overrides):
        blocks = data.get("runs")
        for block in [data, *(blocks if isinstance(blocks, list) else [])]:
            if isinstance(block, dict):
                block.update(replace)
                if overrides and isinstance(block.get("set") or {}, Mapping):  # a bad set: is refused below
                    block["set"] = {**(block.get("set") or {}), **overrides}
    try:
        return grid_from_mapping(data, file.parent)
    except GridError as exc:
        raise GridError(f"{file}: {exc}") from None
