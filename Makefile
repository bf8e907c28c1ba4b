# Arbiter Studio: `make run` sets everything up and starts the app; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
ADDRESS ?= 127.0.0.1
WORKERS ?= 2

.PHONY: run test lint unit test-clock lock setup setup-dev bench worker scale-up scale-down scale-status clean-data help screenshots

help:
	@echo "make run    - set up (venv, dependencies, database, demo data) and start the app"
	@echo "make test   - set up and run lint, type checks and every test (also at other dates)"
	@echo "make unit   - the unit tier only (no database, no network; seconds)"
	@echo "make test-clock - the suite with the clock at a month start, a new year and a DST change"
	@echo "make bench  - run every benchmark and print one table of figures"
	@echo "make lock   - re-resolve requirements*.lock (hashed) from requirements*.in"
	@echo "make screenshots - PNGs of every page for each role at 1440x900 (SIZES=...) in screenshots/"
	@echo "make worker - start a separate compilation worker (python -m core.worker)"
	@echo "make scale-up DATABASE_URL=postgresql+psycopg://... INSTANCES=2 WORKERS=4"
	@echo "             - app instances + workers on PostgreSQL, nginx with sticky sessions"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs come from the lock files only, every file checked against its hash.
$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock $(VENV)/.runtime
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# Re-resolve the locks from requirements*.in (exact pins of what the code imports), with hashes.
LOCK := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock: setup-dev
	$(LOCK) -o requirements.lock requirements.in
	$(LOCK) -o requirements-dev.lock requirements-dev.in

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

run: setup
	$(BIN)/python -m core init-db
	$(BIN)/python -m core seed-demo --if-empty
	@echo "Arbiter Studio: open http://$(ADDRESS):$(PORT) (sign in with an account printed above or in data/demo-credentials.txt)"
	$(BIN)/python -m streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

worker: setup
	$(BIN)/python -m core.worker

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Moments that break date assumptions: a month's first days, a new year, and the night the
# clocks go forward in Europe (01:30 in Berlin, an hour before 02:00 becomes 03:00).
CLOCKS ?= 2027-03-02T12:00:00+00:00 2028-01-02T12:00:00+00:00 2027-03-28T01:30:00+01:00

test: lint
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup
	$(MAKE) --no-print-directory test-clock

unit: setup-dev
	$(BIN)/pytest tests/unit -q

# Every tier but the browser journeys, once per moment in CLOCKS, in the time zone of Berlin.
test-clock: setup-dev
	@for moment in $(CLOCKS); do \
		echo "== the suite at $$moment (Europe/Berlin)"; \
		ARBITER_TEST_CLOCK=$$moment TZ=Europe/Berlin $(BIN)/pytest -n $(WORKERS) --dist loadgroup \
			-q -m "not browser and not slow" tests/unit tests/integration tests/app \
			|| exit 1; \
	done

scale-up: setup
	deploy/scale.sh start

scale-down:
	deploy/scale.sh stop

scale-status:
	deploy/scale.sh status

SIZES ?= 1440x900
screenshots: setup-dev
	$(BIN)/python -m tests.browser.screenshots --out screenshots --sizes $(SIZES)

bench: setup-dev
	$(BIN)/python -m bench

clean-data:
	rm -rf data/arbiter.db data/arbiter.db-* data/local-provider data/demo-credentials.txt
