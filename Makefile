# The two commands a newcomer needs: `make run` and `make test`.
# Each creates or refreshes the virtual environment in .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench reset clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo: sandbox accounts, the past year replayed through the real worker, reporting data,
# the dashboard at http://localhost:8501. Safe to run again; Ctrl-C stops everything.
run: $(STAMP)
	$(BIN)/chorus demo

test: $(STAMP)
	$(BIN)/ruff check campaigns scheduler dashboard tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/plan_year.py
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/interactions.py

# Start the demo over: its database, sandbox, sign-ins and logs all live in var/.
reset:
	rm -rf var

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
