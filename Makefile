# `make demo` and `make test` each create .venv when missing, install the package with its extras, then run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,notebooks,aic]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m gametheory reproduce --out out

test: $(STAMP)
	$(PY) -m ruff check gametheory tests benchmarks models
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache
