# gridgis — set-up, demo and tests. `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SYSSTAMP := .sysdeps-stamp
OUT ?= demo_output
# the suite runs on up to 4 cores (pytest-xdist); PYTEST_ARGS= runs it in one process
PYTEST_ARGS ?= -n auto --maxprocesses 4

.PHONY: demo test install sysdeps lint bench clean samples

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# System packages for the browser (headless chromium) and PostGIS tests; needs root + apt-get.
sysdeps:
	@bash scripts/install_system_deps.sh

demo: $(STAMP)
	$(VENV)/bin/gridgis demo --out $(OUT)

# pytest exits 5 when it collected no test: that is a broken suite, reported as such.
test: $(STAMP) sysdeps lint
	@$(PY) -m pytest $(PYTEST_ARGS) || { rc=$$?; \
	  [ $$rc -eq 5 ] && echo "pytest collected no tests: the suite is broken" >&2; exit $$rc; }

# ruff (pinned in pyproject.toml) and the import contracts of the layers (docs/architecture.md).
lint: $(STAMP)
	$(VENV)/bin/ruff check gridgis tests scripts
	$(VENV)/bin/lint-imports --no-cache

samples: $(STAMP)
	$(PY) scripts/make_samples.py

bench: $(STAMP)
	for s in scripts/bench_*.py; do echo "== $$s"; $(PY) $$s || exit 1; done

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis
