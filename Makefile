# Two commands do all the set-up on a fresh machine:
#   make demo   - builds .venv, assembles the model, clones a voice and speaks with it
#   make test   - builds .venv and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch==2.13.0 (CPU) first, so no other resolution drags in a CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/voxclone demo --out voxclone-demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/clone_quality.py
	$(BIN)/python bench/consent.py
	$(BIN)/python bench/watermark.py
	$(BIN)/python bench/speed.py

clean:
	rm -rf $(VENV) voxclone-demo .pytest_cache .mypy_cache .ruff_cache
