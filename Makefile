# Arbiter Studio: `make run` sets everything up and starts the app; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
ADDRESS ?= 127.0.0.1
WORKERS ?= 2

.PHONY: run test lint unit setup setup-dev bench worker scale-up scale-down scale-status clean-data help

help:
	@echo "make run    - set up (venv, dependencies, database, demo data) and start the app"
	@echo "make test   - set up and run lint, type checks and every test"
	@echo "make bench  - run every benchmark and print one table of figures"
	@echo "make worker - start a separate compilation worker (python -m core.worker)"
	@echo "make scale-up DATABASE_URL=postgresql+psycopg://... INSTANCES=2 WORKERS=4"
	@echo "             - app instances + workers on PostgreSQL, nginx with sticky sessions"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

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

test: lint
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup

scale-up: setup
	deploy/scale.sh start

scale-down:
	deploy/scale.sh stop

scale-status:
	deploy/scale.sh status

bench: setup-dev
	$(BIN)/python -m bench

clean-data:
	rm -rf data/arbiter.db data/arbiter.db-* data/local-provider data/demo-credentials.txt
