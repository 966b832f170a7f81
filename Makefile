# The two commands of the README: `make run` and `make test`. Both idempotent.
SHELL  := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the package metadata changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/lingrad train --dataset digits --loss softmax --optimizer sgd

# scikit-learn's check_array_api_input (run by tests/test_estimators.py) needs SciPy's array API mode.
test: export SCIPY_ARRAY_API = 1
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest --cov --cov-report=term

# Every benchmark script, full size (under 10 minutes); the output is what benchmarks/RESULTS.md records.
bench: $(VENV)/.installed-test
	cd benchmarks && for script in [!_]*.py; do \
		echo "== $$script"; ../$(BIN)/python $$script || exit 1; echo; \
	done 2>&1 | tee last-run.txt

lint: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .venv-wheel dist runs .pytest_cache .ruff_cache .mypy_cache .hypothesis .coverage

# The browser playground on http://127.0.0.1:8231/ (lingrad playground --help for options).
.PHONY: playground
playground: $(VENV)/.installed-run
	$(BIN)/lingrad playground --open

# The documentation site in site/ (mkdocs build --strict: any warning fails). The build executes
# examples/lecture_tour.ipynb for its page (about 20 s of the ~30-80 s build on this machine).
.PHONY: docs
$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict
