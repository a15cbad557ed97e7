# The two commands: `make run` and `make test`. Both create .venv on first use and
# install the pinned environment only when constraints.txt or pyproject.toml changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE_CONFIG := data/raw/sample/study.toml

# Prefect runs offline from the project folder: its home lives here (git-ignored),
# server analytics and SDK telemetry are off.
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: run test lint format bench constraints sample clean

run: $(STAMP)
	$(BIN)/outcome-study run --config $(SAMPLE_CONFIG)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check pipeline flows tests benchmarks
	$(BIN)/ruff format --check pipeline flows tests benchmarks

format: $(STAMP)
	$(BIN)/ruff check --fix pipeline flows tests benchmarks
	$(BIN)/ruff format pipeline flows tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmarks.py $(BENCH_ARGS)

# Rebuild the bundled sample study from the simulator (seeded, so the files are reproducible).
sample: $(STAMP)
	rm -rf data/raw/sample
	$(BIN)/outcome-study simulate --out data/raw/sample --patients 60 --seed 2026 --sample

# Re-pin every dependency after changing pyproject.toml; review the diff before committing.
constraints: $(STAMP)
	$(BIN)/python -m pip install --quiet --upgrade -e ".[dev]"
	{ head -n 3 constraints.txt; $(BIN)/python -m pip freeze --all --exclude-editable \
	  | grep -v -E '^(pip|outcome-study)==' | sort -f; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): constraints.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt setuptools wheel
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-build-isolation \
	  --config-settings editable_mode=compat -c constraints.txt -e ".[dev]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) .prefect reports data/processed/* .pytest_cache .ruff_cache
	touch data/processed/.gitkeep
