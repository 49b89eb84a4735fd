# Two commands on a fresh machine (python3 and make only): `make run`, `make test`.
# Both bootstrap .venv from the hash-pinned lock file on first use.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: run test lint contracts bench lock clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The TUI, with the mock and the bot embedded (SQLite under ./data).
run: $(STAMP)
	$(VENV)/bin/sandbox

lint: $(STAMP)
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/ruff format --check --no-cache .

contracts: $(STAMP)
	$(VENV)/bin/lint-imports

test: lint contracts
	$(VENV)/bin/pytest

# Micro-benchmarks (engine, mock throughput, event stream, matchmaker, limiter, real clients),
# then the dispatch benchmark on real stacks, judged from the mock's ledger.
bench: $(STAMP)
	$(PY) -m benchmarks
	@mkdir -p data
	$(VENV)/bin/sandbox bench --matches 15,50,200 --peers --repeat 3 --json data/bench.json

# Regenerate the lock after editing pyproject.toml (needs uv: `pip install uv`).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--output-file requirements.lock --quiet

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
