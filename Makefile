# Two entry points on a fresh machine: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install browser demo test quick parity bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	$(PY) -m pip install -e ".[torch,test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) scripts/demo.py

# The explorer's browser test (tests/explorer/test_browser.py) drives Debian's chromium and chromedriver:
# installed here when missing (as root, with apt-get); elsewhere the test skips, and fails under CI=true.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium and chromium-driver (apt-get) for the explorer's browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
		echo "make browser: chromium/chromedriver are missing and apt-get cannot run here (needs root on Debian);" \
		     "install them to run the explorer's browser test"; \
	fi

test: install browser
	$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

# The quick loop while editing: the tests not marked slow, every package's included (CI runs `make test`).
quick: install
	$(PY) -m pytest -n 2 -m "not slow" --durations=5 $(PYTEST_ARGS)

parity: install
	$(PY) -m jaxsynth.parity --patches 500 --seed 0 --extremes

bench: install
	$(PY) benchmarks/synth_throughput.py
	$(PY) benchmarks/synthax_compare.py
	$(PY) benchmarks/train_step.py

clean:
	rm -rf $(VENV) .pytest_cache
