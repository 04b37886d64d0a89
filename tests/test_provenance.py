"""Presets carry their evidence: every shipped preset entry has a provenance block, and a
confirmed one names confirmation seeds disjoint from its search seeds and the README table's."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from rlzoo.agents import PRESETS_DIR
from rlzoo.errors import RLZooError
from rlzoo.presets import load_presets

REPO = pathlib.Path(__file__).resolve().parents[1]
PRESET_FILES = sorted(PRESETS_DIR.glob("*.yml"))


def table_seeds() -> set[int]:
    """The seeds of the README table: every seed benchmarks/grid.yml runs."""
    grid = yaml.safe_load((REPO / "benchmarks" / "grid.yml").read_text())
    seeds = set(grid.get("seeds", []))
    for block in grid["runs"]:
        seeds |= set(block.get("seeds", []))
    return seeds


def test_the_preset_files_are_found() -> None:
    assert {path.name for path in PRESET_FILES} >= {"kerasrl2-dqn.yml", "kerasrl2-dqn.recipe.yml", "sb3-ppo.yml", "sb3-dqn.yml"}


@pytest.mark.parametrize("path", PRESET_FILES, ids=lambda path: path.name)
def test_every_shipped_preset_says_where_it_came_from(path: pathlib.Path) -> None:
    bench = table_seeds()
    assert bench == set(range(5000, 5010))
    for env, preset in load_presets(path.resolve()).items():  # the loader checks each block's fields
        provenance = preset.provenance
        assert provenance is not None, f"{path.name}: {env} has no provenance block"
        assert not set(provenance.search_seeds) & bench, f"{path.name}: {env} was chosen on the README table's seeds"
        if provenance.confirmed:
            assert provenance.confirmation_seeds, f"{path.name}: {env}"
            assert not set(provenance.confirmation_seeds) & set(provenance.search_seeds), f"{path.name}: {env}"
            assert not set(provenance.confirmation_seeds) & bench, f"{path.name}: {env} was confirmed on the README table's seeds"
        else:
            assert provenance.reason and not provenance.confirmation_seeds, f"{path.name}: {env}"


def test_the_presets_chosen_on_seeds_say_which(tmp_path) -> None:
    presets = load_presets((PRESETS_DIR / "kerasrl2-dqn.yml").resolve())
    noisy = presets["rlzoo/NoisyCartPole-v0"].provenance
    assert not noisy.confirmed and noisy.search_seeds == (0, 100, 101, 102) and noisy.published_seeds == tuple(range(1000, 1010))
    windy = presets["rlzoo/WindyCartPole-v0"].provenance
    assert set(windy.published_seeds) <= set(windy.search_seeds)  # its 200000 steps were chosen on the seeds it is scored on


CONFIRMED = {
    "confirmed": True, "search_seeds": [0], "confirmation_seeds": [2000, 2001], "confirmed_iqm": 480.0,
    "confirmed_ci": [450.0, 500.0], "train": {"total_timesteps": 1000}, "study": {"name": "s", "storage": "sqlite:////x.db"},
    "versions": {"rlzoo": "0.1"}, "date": "2026-12-02",
}  # fmt: skip


def write(tmp_path: pathlib.Path, provenance: dict) -> pathlib.Path:
    path = tmp_path / "preset.yml"
    path.write_text(yaml.safe_dump({"CartPole-v1": {"train": {}, "hyperparams": {}, "provenance": provenance}}))
    return path


def test_a_confirmed_block_is_read_back(tmp_path) -> None:
    provenance = load_presets(write(tmp_path, CONFIRMED))["CartPole-v1"].provenance
    assert provenance.confirmation_seeds == (2000, 2001) and provenance.confirmed_ci == (450.0, 500.0)
    assert provenance.date == "2026-12-02" and provenance.to_dict() == CONFIRMED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "blue"}, r"unknown fields \['colour'\]: valid are confirmed, search_seeds"),
        ({"confirmation_seeds": [0, 2000]}, r"disjoint from search_seeds; both have \[0\]"),
        ({"confirmed_iqm": None, "confirmed": True}, None),
        ({"confirmed": False}, r"lacks reason"),
        ({"search_seeds": "0-2"}, r"search_seeds must be a list of seeds"),
        ({"confirmed_ci": [1.0]}, r"confirmed_ci must be \[low, high\]"),
    ],
)
def test_a_malformed_block_names_the_field_and_the_fix(tmp_path, change, message) -> None:
    block = {**CONFIRMED, **change}
    if message is None:  # a confirmed block without its IQM
        del block["confirmed_iqm"]
        message = r"lacks confirmed_iqm"
    with pytest.raises(RLZooError, match=message):
        load_presets(write(tmp_path, block))
