# Two commands do everything: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test postgresql bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## set up the demo database and serve on http://127.0.0.1:5000
	$(VENV)/bin/seira demo

test: $(STAMP) postgresql  ## lint, then the whole test suite
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

postgresql:  ## the PostgreSQL tests start their own server from Debian's package
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)

bench: $(STAMP)  ## performance figures (see docs/benchmarks.md)
	$(PY) bench/issue_and_call.py

clean:
	rm -rf $(VENV) instance .pytest_cache
