# Two commands for a fresh machine: `make run` (train, evaluate and save the recipe agent)
# and `make test`. Both create .venv and install rlzoo with every extra, torch pinned by
# constraints.txt to the CPU build (an unpinned torch pulls a multi-GB CUDA build).
# The CPU build comes from the machine's package index or wheel folder; elsewhere pass
# PyTorch's CPU wheel index: make run TORCH_INDEX=https://download.pytorch.org/whl/cpu
PYTHON ?= python3
TORCH_INDEX ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench bench-speed clean

install: $(STAMP)

$(STAMP): setup.cfg constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=64" wheel
	$(BIN)/python -m pip install --quiet -c constraints.txt $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[all,test]"
	touch $(STAMP)

run: install
	@echo "make run: training into runs/quickstart (replacing what an earlier make run wrote there)"
	$(BIN)/rlzoo train --agent kerasrl2-dqn --env CartPole-v0 --out runs/quickstart

# Two worker processes (pytest-xdist), a test file each at a time: the suite trains real agents and
# is CPU-bound, so this halves its wall time on 2 cores.
test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile

# ruff (lint and format check), mypy, and import-linter's layer contracts (pyproject.toml).
lint: install
	$(BIN)/ruff check rlzoo envs agents
	$(BIN)/ruff format --check rlzoo envs agents
	$(BIN)/mypy rlzoo envs agents
	$(BIN)/lint-imports --no-cache

# The README's zoo matrix: 420 runs of benchmarks/grid.yml (every agent on every env it can play,
# 10 seeds each, plus the keras-rl2 recipe where kerasrl2-dqn has a tuned preset); kerasrl2-dqn
# trains each cell's seeds side by side. Then one report of the matrix, which rlzoo report writes
# into README.md itself (cells under 90% of the threshold get benchmarks/notes.yml's note), and
# one of the tuned kerasrl2-dqn presets against the recipe.
# Resumable: rerun it after an interruption, on this machine or another. The sweep keeps scores, not
# agents (--no-agents: each run folder holds its episodes.csv only), in benchmarks/sweep, which is
# committed: the whole bench is about 3 hours on 2 cores, so it may finish on a later checkout.
# BENCH_ARGS passes flags through (--steps, --workers...).
# A quick trial: make bench BENCH_ARGS="--seeds 1 --steps 500" BENCH_OUT=runs/bench-trial BENCH_REPORT=runs/bench-trial/report BENCH_README=runs/bench-trial/README.md
BENCH_OUT ?= benchmarks/sweep
BENCH_REPORT ?= benchmarks/results
BENCH_README ?= README.md
ZOO := kerasrl2-dqn sb3-dqn sb3-ppo sb3-a2c sb3-sac
TUNED := CartPole-v1 rlzoo/NoisyCartPole-v0 rlzoo/HiddenVelocityCartPole-v0 rlzoo/RandomPhysicsCartPole-v0 \
	rlzoo/SwingUpCartPole-v0 rlzoo/WindyCartPole-v0 rlzoo/SpringCarts-v0
bench: install
	$(BIN)/rlzoo sweep benchmarks/grid.yml --no-agents --out $(BENCH_OUT) $(BENCH_ARGS)
	$(BIN)/rlzoo report $(BENCH_OUT) --html --out $(BENCH_REPORT)/zoo --agents $(ZOO) \
		--notes benchmarks/notes.yml --readme $(BENCH_README)
	$(BIN)/rlzoo report $(BENCH_OUT) --html --out $(BENCH_REPORT)/tuning --agents "kerasrl2-dqn (recipe)" kerasrl2-dqn --envs $(TUNED)

# The sweep's and report's speed targets, as ratios timed in one run (about 10 minutes on an idle
# 2-core machine). SPEED_ARGS passes flags through, e.g. SPEED_ARGS="--only report --repeats 3".
# Then seeds side by side (rlzoo.train_seeds) against a solo run; SEED_SPEED_ARGS passes flags through.
bench-speed: install
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/sweep_speed.py $(SPEED_ARGS)
	$(BIN)/python benchmarks/sb3_overhead.py
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/seed_batch_speed.py $(SEED_SPEED_ARGS)

clean:
	rm -rf $(VENV) runs build dist *.egg-info
