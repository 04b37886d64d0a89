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

# The README's results: 220 runs (10 seeds each) of benchmarks/grid.yml (79 minutes on an idle
# 2-core machine), then one report per group of agents that ran the same envs (an aggregate
# across envs needs every agent on every env).
# Resumable: rerun it after an interruption. BENCH_ARGS passes flags through (--steps, --workers...).
# A quick trial: make bench BENCH_ARGS="--seeds 1 --steps 500" BENCH_OUT=runs/bench-trial BENCH_REPORT=runs/bench-trial/report
BENCH_OUT ?= runs/bench
BENCH_REPORT ?= benchmarks/results
VARIANTS := rlzoo/NoisyCartPole-v0 rlzoo/HiddenVelocityCartPole-v0 rlzoo/RandomPhysicsCartPole-v0 rlzoo/SwingUpCartPole-v0 rlzoo/WindyCartPole-v0
TUNED := rlzoo/NoisyCartPole-v0 rlzoo/RandomPhysicsCartPole-v0 rlzoo/WindyCartPole-v0
bench: install
	$(BIN)/rlzoo sweep benchmarks/grid.yml --out $(BENCH_OUT) $(BENCH_ARGS)
	$(BIN)/rlzoo report $(BENCH_OUT) --html --out $(BENCH_REPORT)/cartpole --agents kerasrl2-dqn sb3-dqn sb3-ppo --envs CartPole-v0 CartPole-v1
	$(BIN)/rlzoo report $(BENCH_OUT) --html --out $(BENCH_REPORT)/variants --agents kerasrl2-dqn sb3-ppo \
		--envs $(VARIANTS) rlzoo/ContinuousCartPole-v0 rlzoo/SpringCarts-v0
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
