# Two commands do all the set-up on a fresh machine:
#   make demo   - builds .venv, assembles the model, clones a voice and speaks with it
#   make test   - builds .venv (and installs Chromium and PostgreSQL from Debian if
#                 missing) and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

# Debian packages the tests use: Chromium for the browser test, PostgreSQL for the
# registry on PostgreSQL. Installed when missing (needs root, as on CI).
SYSTEM_STAMP := $(VENV)/.system-packages

$(SYSTEM_STAMP):
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql >/dev/null; \
	  else \
	    echo "make: install Debian's chromium and postgresql (sudo apt-get install chromium postgresql) for the browser and PostgreSQL tests"; \
	  fi; \
	fi
	mkdir -p $(VENV) && touch $(SYSTEM_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch==2.13.0 (CPU) first, so no other resolution drags in a CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/voxclone demo --out voxclone-demo

test: $(STAMP) $(SYSTEM_STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/clone_quality.py
	$(BIN)/python bench/consent.py
	$(BIN)/python bench/watermark.py
	$(BIN)/python bench/batch.py
	$(BIN)/python bench/robustness.py
	$(BIN)/python bench/speaker_mix.py
	$(BIN)/python bench/speed.py

clean:
	rm -rf $(VENV) voxclone-demo .pytest_cache .mypy_cache .ruff_cache
