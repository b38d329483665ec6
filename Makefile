# Two commands do all the set-up on a fresh machine with Python 3.11+ and pip:
#   make run    creates .venv, installs the service, serves on 127.0.0.1:8000
#               (another port: make run PORT=8001)
#   make test   creates .venv, installs the test extras, runs the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[all]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/inputtokens serve $(if $(PORT),--port $(PORT))

# The gates first (seconds each): lint, layout, strict types, the layer contracts, the docs
# site (broken links and anchors fail it).
test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/mkdocs build --strict --quiet
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_count.py

# Replays the recorded OpenAI counts against a freshly started server.
check: $(VENV)/.installed-run
	@$(BIN)/inputtokens serve --port 8765 & pid=$$!; \
	for i in $$(seq 50); do curl -sf http://127.0.0.1:8765/healthz >/dev/null && break; sleep 0.2; done; \
	$(PYTHON) ../shared/accuracy/check.py --base-url http://127.0.0.1:8765; rc=$$?; kill $$pid; exit $$rc

clean:
	rm -rf $(VENV)
