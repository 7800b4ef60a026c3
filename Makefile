# Two commands on a fresh machine with Python 3.11:  make demo  and  make test.
# Each creates .venv and installs the project into it when .venv is missing or older
# than pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint bench realcode clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/linclass demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Real CS231n submissions against the recorded grades (needs the fetched mirrors: tests/realcode/README.md)
realcode: $(STAMP)
	status=0; for layout in flat tree; do \
	  $(BIN)/python tests/realcode/grade_corpus.py --layout $$layout --expect || status=$$?; done; exit $$status

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .hypothesis
