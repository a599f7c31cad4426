# Two entry points for a newcomer: `make demo` and `make test`. Both build .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/cosim sweep examples/quickstart.yaml --overwrite
	@echo
	@echo "Explore these results in your browser (throughput-energy scatter, click a point for its breakdown):"
	@echo "    $(BIN)/cosim app --results results/quickstart"
	@echo "then open http://127.0.0.1:8501 (the address it prints; Ctrl-C stops it)."

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_startup.py

clean:
	rm -rf $(VENV) results .pytest_cache
