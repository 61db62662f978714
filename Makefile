# Two commands on a fresh machine (Python >= 3.11 and make):
#   make demo   set up, then serve the bundled demo over streamable HTTP on 127.0.0.1:8000
#   make test   set up (also Debian's prometheus, prometheus-alertmanager and graphviz, which the
#               suite runs for real), then run the whole test suite and the examples that assert
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

SERVERS := prometheus prometheus-alertmanager graphviz
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: demo test bench bench-rca check clean servers

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/opscontext-mcp serve --transport http --host 127.0.0.1 --port 8000

servers:
	@command -v prometheus >/dev/null && command -v prometheus-alertmanager >/dev/null && command -v dot >/dev/null || \
		{ $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(SERVERS); }

test: $(STAMP) servers
	$(BIN)/python -m pytest
	$(BIN)/python examples/quickstart.py

check: $(STAMP)
	$(BIN)/opscontext-mcp check

bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-rca: $(STAMP)
	$(BIN)/python -m bench.rca --write

clean:
	rm -rf $(VENV) bench/out .pytest_cache
