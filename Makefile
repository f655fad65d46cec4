# popsync: two commands for a new machine. `make run` and `make test` create .venv when missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve test test-slow lint bench samples clean airflow

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --quiet --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/popsync run all --samples data_samples/

serve: $(STAMP)
	$(BIN)/popsync serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q -m "not slow"

# End-to-end runs on real Airflow schedulers (LocalExecutor, CeleryExecutor), SFTP, browsers.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

samples: $(STAMP)
	$(BIN)/popsync generate --people 3000 --seed 6 --noise-config popsync/generate/samples.yaml --out data_samples/

bench: $(STAMP)
	$(BIN)/pip install --quiet -r bench/requirements.txt
	$(BIN)/pip install --quiet --no-deps -r bench/requirements-nodeps.txt
	$(BIN)/python bench/standardize.py
	$(BIN)/python bench/match.py
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/run.py
	$(BIN)/python bench/febrl4.py

clean:
	rm -rf $(VENV) build *.egg-info .popsync

airflow: $(STAMP)
	$(BIN)/python ops/airflow_local.py standalone
