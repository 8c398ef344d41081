# One command each: `make run` (local stack) and `make test`. Both set up the venv first.
# `make synth` / `make deploy`: the CDK app (infra/cdk); deploy uses the CDK CLI pinned in
# package.json (npm's `latest`, 3.0.0, is broken) and your own AWS credentials.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov in a venv of its own: its pins clash with the project's (requirements-checkov.txt).
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
NPM_STAMP := node_modules/.installed
# tests/browser drive Debian's chromium through Playwright (never `playwright install`: no
# browser is downloaded but the distribution's own package).
CHROMIUM := /usr/bin/chromium
# Extra CDK CLI arguments, e.g. CDK_ARGS='-c stage=prod -c alarmEmail=ops@example.com'
CDK_ARGS ?=

.PHONY: setup run test lint format bench synth checkov deploy clean openapi fuzz

setup: $(STAMP) $(CHECKOV_STAMP) $(CHROMIUM)

# One line per step: the install is quiet and takes a minute or two the first time.
$(STAMP): pyproject.toml
	@echo "setup: creating the virtual environment $(VENV) ($(PYTHON))"
	@$(PYTHON) -m venv $(VENV)
	@echo "setup: upgrading pip"
	@$(BIN)/pip install --quiet --upgrade pip
	@echo "setup: installing privacy-functions and its dev + infra dependencies (1-2 minutes the first time)"
	@$(BIN)/pip install --quiet -e '.[dev,infra]'
	@touch $(STAMP)
	@echo "setup: done"

$(CHECKOV_STAMP): requirements-checkov.txt
	@echo "setup: creating $(CHECKOV_VENV) for checkov (its pins clash with the project's; under a minute, ~290 MB)"
	@$(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	@$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	@touch $(CHECKOV_STAMP)
	@echo "setup: checkov done"

# Only when it is missing: apt-get needs root (CI and the project's machines run as root).
$(CHROMIUM):
	@echo "setup: installing Debian's chromium for the browser tests (apt-get; about 400 MB in 25 packages, a minute or two)"
	@DEBIAN_FRONTEND=noninteractive apt-get update -qq
	@DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
	@echo "setup: chromium done ($$($(CHROMIUM) --version))"

run: $(STAMP)
	@$(BIN)/python -m infra.local

# tests/infra runs cdk-nag, cfn-lint and checkov on the one synthesized template.
test: $(STAMP) $(CHECKOV_STAMP) $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q -n 3 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The OpenAPI document generated from the API's routes; a test fails when the copy is stale.
openapi: $(STAMP)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-1} $(BIN)/python -m functions.api.openapi docs/openapi.json

# The fuzzer's longer run (make test runs a bounded one): many examples per route.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(BIN)/pytest -q -s tests/integration/test_fuzz.py

bench: $(STAMP)
	$(BIN)/python -m tests.bench

# Offline, no Docker, no account: the app alone writes cdk.out/ (and fails on cdk-nag findings).
synth: $(STAMP)
	$(BIN)/python -m infra.cdk.app
	@ls cdk.out/*.template.json

# checkov by hand on what `make synth` wrote (make test runs it in tests/infra/test_checkov.py).
checkov: synth $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --framework cloudformation --skip-download --compact --quiet \
		$$(printf -- '-f %s ' cdk.out/*.template.json)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

deploy: $(STAMP) $(NPM_STAMP)
	npx --no-install cdk deploy $(CDK_ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .ruff_cache .mypy_cache cdk.out build
