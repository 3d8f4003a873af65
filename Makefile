# Two entry points on a fresh machine: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install demo test parity bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	$(PY) -m pip install -e ".[torch,test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) scripts/demo.py

test: install
	$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

parity: install
	$(PY) -m jaxsynth.parity --patches 500 --seed 0 --extremes

bench: install
	$(PY) benchmarks/synth_throughput.py
	$(PY) benchmarks/synthax_compare.py
	$(PY) benchmarks/train_step.py

clean:
	rm -rf $(VENV) .pytest_cache
