# The two commands a newcomer needs: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp-deps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_FLAGS ?= -q

.PHONY: help deps browser run test test-unit test-infra test-integration test-e2e lint format bench package deploy clean

help:
	@echo "make run      - local AWS (moto), API and pages, stream workers, schedules, seeded data"
	@echo "make test     - lint, template lint, unit, infra, integration and browser tests"
	@echo "make bench    - benchmarks (figures go to bench/RESULTS.md by hand)"
	@echo "make package  - Lambda bundles and the merged CloudFormation template in build/"
	@echo "make deploy   - package and deploy to AWS (STAGE=dev|prod, needs AWS credentials)"

$(STAMP): requirements.txt functions/requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "pip>=23,<26.3"  # chalice 1.34 needs pip < 26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

deps: $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

run: deps
	$(PY) -m infra.local run

test: deps browser lint
	$(PY) -m pytest $(PYTEST_FLAGS) tests/unit tests/infra tests/integration tests/e2e

test-unit: deps
	$(PY) -m pytest $(PYTEST_FLAGS) tests/unit

test-infra: deps
	$(PY) -m pytest $(PYTEST_FLAGS) tests/infra

test-integration: deps
	$(PY) -m pytest $(PYTEST_FLAGS) tests/integration

test-e2e: deps browser
	$(PY) -m pytest $(PYTEST_FLAGS) tests/e2e

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint infra/template.yaml

format: deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: deps
	$(PY) -m bench.run

package: deps
	$(PY) -m infra.package

deploy: package
	$(PY) -m infra.package --deploy --stage $${STAGE:-dev}

clean:
	rm -rf build .pytest_cache .ruff_cache .mypy_cache
