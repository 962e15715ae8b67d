# Two entry points for a fresh machine with only Python 3: `make test` (every check) and `make demo`.
# Each creates what it needs (.venv, the collection path, lab certificates) by itself.
PYTHON ?= python3
VENV := .venv
STAGE := tests/utils/stage
COLLECTIONS := $(CURDIR)/.build/collections
# Tools run from the virtualenv and see this checkout as azure_automation.hybrid_worker.
RUN := env PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)"
PYTEST := $(RUN) PYTHONPATH="$(COLLECTIONS)" $(VENV)/bin/python -m pytest -p no:cacheprovider -q

.PHONY: test venv sanity powershell lint units integration clean

# The stages run in this order and make stops at the first that fails (the stage script names it).
test: sanity powershell lint units integration

sanity: venv
	@$(STAGE) "ansible-test sanity" tests/utils/sanity.sh
powershell: venv
	@$(STAGE) "PowerShell static checks" $(PYTEST) tests/powershell
lint: venv
	@$(STAGE) "ansible-lint (production profile)" $(RUN) $(VENV)/bin/ansible-lint --offline
units: venv
	@$(STAGE) "unit tests" $(PYTEST) tests/unit
integration: venv
	@$(STAGE) "integration tests against the lab" $(PYTEST) tests/integration

# The virtualenv is (re)built only when a requirements file changed since it was last built.
venv: $(VENV)/.installed
	@tests/utils/collection_tree.sh link >/dev/null

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

clean:
	rm -rf .build .cache tests/output

# A simulated fleet onboarded end to end on the local lab (lab/), left running for a look around.
.PHONY: demo demo-down
demo: venv
	@$(RUN) $(VENV)/bin/python tests/utils/demo.py
demo-down:
	@test ! -x $(VENV)/bin/python || $(VENV)/bin/python tests/lab/labctl down --dir lab

# Fleet benchmark on the lab (not part of `make test`; takes a while): first onboarding, converged re-run and a
# win_ping floor over the same hosts, per worker type and fleet size. Medians of BENCH_REPEAT runs (BENCH_REPEAT=1
# for a quick look).
# Writes bench/output/ and puts the table and chart in docs/ and the README.
.PHONY: bench
BENCH_TYPES ?= extension,agent
BENCH_HOSTS ?= 10,50,200
BENCH_REPEAT ?= 3
BENCH_FORKS ?= 50
bench: venv
	@$(RUN) $(VENV)/bin/python bench/fleet_bench.py --worker-types $(BENCH_TYPES) --hosts $(BENCH_HOSTS) --repeat $(BENCH_REPEAT) --forks $(BENCH_FORKS) --publish
