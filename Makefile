# Everything installs itself into .venv on first use; only python3 (3.11 or 3.12) and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAGE ?= dev
EMULATOR_PORT ?= 5000
export PORT EMULATOR_PORT

.PHONY: run test test-fast test-clock bench bench-quick package lint-infra clean chromium faketime workspace openapi

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m devstack.run

# Compiled modules (and pytest's rewritten test modules) are kept in .venv/pycache, outside the
# tree: without them every worker compiled the project and rewrote every test file again, 5 of
# the 8.5 s of CPU a worker spent collecting unit, services and contract tests.
BYTECODE := PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache

# worksteal: each worker starts on its share of the tests and a worker that runs dry takes half of
# what another still has queued, so none waits at the end while another works through a queue it
# was dealt (load deals fixed chunks; the browser walkthroughs hold one worker for a minute).
# It schedules by index, as load does: tests/reliability/test_openapi.py's 100 generated tests share
# one node id, which loadscope and loadgroup key by (99 of them silently did not run).
# Three workers on two cores for the whole suite: the browser walkthroughs and the local-stack tests
# spend much of their time waiting on Chromium, chalice local and subprocesses, and the third worker
# fills those waits (idle: 2:37 and 284 s CPU against 3:00 and 306 s with two). The in-memory loop
# is CPU only: two workers there (three gained nothing and cost 4 s more CPU).
XDIST := -n 3 --dist worksteal
XDIST_FAST := -n 2 --dist worksteal

test: $(BIN)/.installed chromium
	$(BYTECODE) $(BIN)/python -m pytest -q $(XDIST) tests

# Domain and service tests on the in-memory store (tests/support/fakes), no emulator: the loop
# while changing rules or use cases. The long property runs (marked slow) are left to make test;
# the other property tests draw a fifth of their examples (Hypothesis's "fast" profile,
# tests/support/examples.py), make test and CI the full count.
test-fast: $(BIN)/.installed
	$(BYTECODE) $(BIN)/python -m pytest -q $(XDIST_FAST) --hypothesis-profile=fast -m "not slow" -k "not emulator" tests/unit tests/services tests/contract

# The same suite with the system clock moved CLOCK_SHIFT ahead (Debian's libfaketime), the browser
# test aside: no test may depend on today's date. Monotonic clocks stay real, so timeouts keep
# working (tests/clock_shift/sitecustomize.py says why time.sleep needs a hand then). The threaded
# library (-m) because moto and chalice local run threads (the plain one crashed them); no shared
# memory and the offset parsed once (re-reading it raced the tests' environment writes). With
# monotonic clocks real, libfaketime's "monotonic fix" of pthread_cond_timedwait has nothing to
# fix, yet it made every GIL hand-off ~12 times dearer: FAKETIME_FORCE_MONOTONIC_FIX=0.
CLOCK_SHIFT ?= +400d
test-clock: $(BIN)/.installed faketime
	FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0 FAKETIME_DISABLE_SHM=1 FAKETIME_CACHE_DURATION=86400 \
		PYTHONPATH=$(CURDIR)/tests/clock_shift $(BYTECODE) faketime -m -f '$(CLOCK_SHIFT)' \
		$(BIN)/python -m pytest -q $(XDIST) tests --ignore=tests/browser

faketime:
	@command -v faketime >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq faketime >/dev/null)

# The workspace's browser test drives Debian's Chromium (never a downloaded browser). Installing
# needs root (CI runs as root); without it the browser test is skipped and says why.
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed: the browser test will be skipped"

# Rebuilds the workspace bundle (chalicelib/static/) from workspace/src with the pinned npm packages.
workspace:
	cd workspace && npm ci --no-audit --no-fund && node build.mjs

# docs/openapi.yaml from app.py's routes, the request models and docs/openapi-source.yaml (devstack/openapi.py).
openapi: $(BIN)/.installed
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-central-1} $(BIN)/python -m devstack.openapi

bench: $(BIN)/.installed
	$(BIN)/python -m bench.run_all

# The stage's CloudFormation template and slim Lambda zip in build/$(STAGE) (offline; README: Deploy to AWS).
package: $(BIN)/.installed
	$(BIN)/python -m infra.package $(STAGE) build/$(STAGE)

lint-infra: package
	$(BIN)/cfn-lint --include-checks I -- build/$(STAGE)/sam.json

bench-quick: $(BIN)/.installed
	$(BIN)/python -m bench.run_all --quick

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

