# PartyGrid: two commands. `make run` starts the suite on the embedded default (PostgreSQL and
# a Kafka-protocol broker started for you); `make test` installs what it needs and runs the tests.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO   ?= 1
MONITORING ?= 0

.PHONY: run test lint bench asyncapi install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEMO=$(DEMO) MONITORING=$(MONITORING) $(PY) -m dev.run

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy shared services dev

bench: $(STAMP)
	$(PY) -m bench

# rewrite the AsyncAPI documents (docs/asyncapi/) and the README's event-contracts section
asyncapi: $(STAMP)
	$(PY) -m tools.asyncapi

clean:
	rm -rf .data
