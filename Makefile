# Set-up and the two everyday commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test browser lint model bench clean

$(BIN)/textmine: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# The main job on the bundled sample survey: prints the summary, writes report/.
demo: $(BIN)/textmine
	$(BIN)/textmine report data/sample_survey.csv -o report --force

# Headless Chromium for the report's browser test (Debian package; needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

lint: $(BIN)/textmine
	$(BIN)/ruff check textmine tests scripts
	$(BIN)/mypy textmine

# The whole test suite: lint, types, and every test (slow ones included).
test: $(BIN)/textmine browser lint
	$(BIN)/pytest -q

# Rebuild the shipped model from data/ (python scripts/train.py).
model: $(BIN)/textmine
	$(BIN)/python scripts/train.py

bench: $(BIN)/textmine
	$(BIN)/python scripts/benchmark_quality.py
	$(BIN)/python scripts/benchmark_throughput.py --rows 100000

clean:
	rm -rf $(VENV) report .pytest_cache .mypy_cache .ruff_cache
