# Two commands do everything: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test i18n postgresql redis speech chromium nginx systemd-analyze bench bench-reports bench-country clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP) speech  ## set up the demo database and serve on http://127.0.0.1:5000
	$(VENV)/bin/seira demo

test: $(STAMP) postgresql redis speech chromium nginx systemd-analyze tests/escpos/node_modules  ## lint, then the whole test suite
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

i18n: $(STAMP)  ## extract every domain's messages, merge them into the catalogs, check them
	$(VENV)/bin/seira i18n update
	$(VENV)/bin/seira i18n check

# npos, an ESC/POS parser we did not write, checks the printer bytes (tests/escpos/decode.js).
tests/escpos/node_modules: tests/escpos/package.json tests/escpos/package-lock.json
	npm ci --prefix tests/escpos --no-audit --no-fund --ignore-scripts
	touch $@

postgresql:  ## the PostgreSQL tests start their own server from Debian's package
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)

redis:  ## the tests of several processes start their own Redis from Debian's package
	@command -v redis-server >/dev/null 2>&1 || $(call apt_install,redis-server)

# Debian packages: espeak-ng speaks the calls (offline); chromium runs the page tests.
# Installed when missing and we may (root, as on CI); otherwise say what is missing.
speech:
	@command -v espeak-ng >/dev/null 2>&1 || $(call apt_install,espeak-ng)

chromium:  ## the browser tests drive Debian's Chromium through Playwright
	@command -v chromium >/dev/null 2>&1 || $(call apt_install,chromium)

nginx:  ## tests/test_deploy_files.py checks deploy/nginx/seira.conf with nginx -t
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || $(call apt_install,nginx)

systemd-analyze:  ## tests/test_deploy_files.py checks deploy/systemd/ with systemd-analyze verify
	@command -v systemd-analyze >/dev/null 2>&1 || $(call apt_install,systemd)

define apt_install
	( [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) ) || \
	  echo "please install the Debian package $(1) (apt-get install $(1))"
endef

bench: $(STAMP) speech  ## performance figures (see docs/benchmarks.md)
	$(PY) bench/issue_and_call.py
	$(PY) bench/call_latency.py
	$(PY) bench/ticket_render.py
	$(PY) bench/kiosk_visitor.py

bench-reports: $(STAMP)  ## reports on a million generated tickets (several minutes)
	$(PY) bench/reports.py

bench-country: $(STAMP) postgresql redis  ## 250 centres on two processes, PostgreSQL and Redis (under 10 minutes)
	$(PY) bench/country.py

clean:
	rm -rf $(VENV) instance .pytest_cache
