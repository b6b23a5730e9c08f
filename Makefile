# `make demo` and `make test` each create .venv when missing, install the package with its extras, then run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DYNAMO_STAMP := $(VENV)/.dynamo-1.6.1

.PHONY: demo test install lint bench clean dynamo

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,notebooks,aic]'
	touch $(STAMP)

install: $(STAMP)

# NVIDIA Dynamo 1.6.1 (real KV router + mocker workers, CPU only; see docs/dynamo.md). The plain install
# needs `aisimulate`, which downloads from an unreachable host, so: --no-deps plus the deps it uses, pinned.
$(DYNAMO_STAMP): $(STAMP)
	$(PY) -m pip install -q --no-deps ai-dynamo==1.6.1 ai-dynamo-runtime==1.6.1
	$(PY) -m pip install -q pydantic==2.13.5 uvloop==0.23.0 msgspec==0.22.0 packaging==26.3 pyyaml==6.0.3 pyzmq==27.3.0
	touch $(DYNAMO_STAMP)

dynamo: $(DYNAMO_STAMP)

demo: $(STAMP) $(DYNAMO_STAMP)
	$(PY) -m gametheory reproduce --out out

test: $(STAMP) $(DYNAMO_STAMP)
	$(PY) -m ruff check gametheory tests benchmarks models
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache
