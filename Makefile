# Two commands for a fresh machine: `make run` (train, evaluate and save the recipe agent)
# and `make test`. Both create .venv and install rlzoo with every extra, torch pinned by
# constraints.txt to the CPU build (an unpinned torch pulls a multi-GB CUDA build).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench clean

install: $(STAMP)

$(STAMP): setup.cfg constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=64" wheel
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[all,test]"
	touch $(STAMP)

run: install
	$(BIN)/rlzoo train --agent kerasrl2-dqn --env CartPole-v0 --out runs/quickstart

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/sb3_overhead.py
	$(BIN)/python benchmarks/cli_seeds.py --agent sb3-dqn --env CartPole-v1 --seeds 0 1 2 3 4

clean:
	rm -rf $(VENV) runs build dist *.egg-info
