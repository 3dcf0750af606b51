# Every target bootstraps .venv on a fresh machine (python3 >= 3.11 is all it needs).
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export JAX_PLATFORMS ?= cpu
# pytest-xdist workers: the suite is mostly XLA compiles, which two processes overlap
WORKERS ?= 2

.PHONY: demo test test-all lint format docs clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,dev,docs]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/sciml demo --out runs/demo

test: $(STAMP)
	$(PY) -m pytest -q -n $(WORKERS) --dist worksteal

test-all: $(STAMP)
	$(PY) -m pytest -q -n $(WORKERS) --dist worksteal -m ''

lint: $(STAMP)
	$(VENV)/bin/ruff check sciml tests benchmarks examples docs/plots.py
	$(VENV)/bin/ruff format --check sciml tests benchmarks examples docs/plots.py

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

format: $(STAMP)
	$(VENV)/bin/ruff check --fix sciml tests benchmarks examples docs/plots.py
	$(VENV)/bin/ruff format sciml tests benchmarks examples docs/plots.py

clean:
	rm -rf $(VENV) runs site .pytest_cache
