# Jingzhun: `make demo` builds and serves a demo county; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VAR := var
DEMO_ENV := $(VAR)/demo.env
DEMO_DATA := $(VAR)/demo-county
SEED ?= 2018

.PHONY: demo test venv lint typecheck messages serve clean-demo

# The working copy's venv takes the development lock (the runtime lock plus test tools);
# a production install takes requirements.lock alone (README, "Production").
$(BIN)/jingzhun: requirements.lock requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(BIN)/jingzhun

venv: $(BIN)/jingzhun

$(DEMO_ENV): | $(BIN)/jingzhun
	mkdir -p $(VAR)
	$(BIN)/python -c "import base64,os,secrets; \
	k=lambda: base64.b64encode(os.urandom(32)).decode(); \
	print('export JINGZHUN_SECRET_KEY=' + secrets.token_urlsafe(48)); \
	print('export JINGZHUN_FIELD_KEYS=1:' + k()); \
	print('export JINGZHUN_BLIND_INDEX_KEY=' + k()); \
	print('export JINGZHUN_DEBUG=0')" > $(DEMO_ENV)
	chmod 600 $(DEMO_ENV)

# The demo relaxes two-factor login (a badge on every page says so), so that the printed
# passwords are enough; a deployment never sets JINGZHUN_DEMO (`check --deploy` refuses it).
demo: export JINGZHUN_DEMO := 1
demo: $(BIN)/jingzhun $(DEMO_ENV)
	@grep -q JINGZHUN_AUDIT_KEY $(DEMO_ENV) || $(BIN)/python -c "import base64,os; \
	print('export JINGZHUN_AUDIT_KEY=' + base64.b64encode(os.urandom(32)).decode())" >> $(DEMO_ENV)
	. ./$(DEMO_ENV) && $(BIN)/jingzhun migrate --noinput
	@if command -v msgfmt >/dev/null; then . ./$(DEMO_ENV) && $(BIN)/jingzhun compilemessages --ignore=.venv >/dev/null; fi
	. ./$(DEMO_ENV) && $(BIN)/jingzhun demo_setup --seed $(SEED) --out $(DEMO_DATA)
	. ./$(DEMO_ENV) && $(BIN)/jingzhun collectstatic --noinput >/dev/null
	@echo "Serving on http://127.0.0.1:8000/ (Ctrl-C stops the server and the worker)"
	. ./$(DEMO_ENV) && ( $(BIN)/jingzhun db_worker & echo $$! > $(VAR)/worker.pid; \
	  trap 'kill $$(cat $(VAR)/worker.pid) 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/jingzhun runserver 127.0.0.1:8000 --insecure )

# The suite on SQLite, and again on PostgreSQL when JINGZHUN_TEST_POSTGRES (or DATABASE_URL)
# names a server. The two runs go side by side, one per core, each with its own var
# directory; the PostgreSQL run's output follows the SQLite run's, and either failing fails.
test: $(BIN)/jingzhun
	@if command -v msgfmt >/dev/null; then JINGZHUN_TESTING=1 $(BIN)/jingzhun compilemessages --ignore=.venv >/dev/null; fi
	@pg="$${JINGZHUN_TEST_POSTGRES:-$${DATABASE_URL:-}}"; pgvar="$(CURDIR)/$(VAR)/test-pg"; pid=""; \
	if [ -n "$$pg" ]; then \
	  rm -rf "$$pgvar" && mkdir -p "$$pgvar"; \
	  ( DATABASE_URL="$$pg" JINGZHUN_TESTING=1 JINGZHUN_VAR_DIR="$$pgvar" \
	    $(BIN)/python -m pytest tests -p no:cacheprovider > "$$pgvar/pytest.log" 2>&1; \
	    echo $$? > "$$pgvar/pytest.rc" ) & pid=$$!; \
	  trap 'kill $$pid 2>/dev/null' INT TERM; \
	  echo "== the suite on SQLite (PostgreSQL runs beside it; its output follows) =="; \
	else echo "(PostgreSQL run skipped: set JINGZHUN_TEST_POSTGRES=postgres://user@host:port/db)"; fi; \
	env -u DATABASE_URL JINGZHUN_TESTING=1 $(BIN)/python -m pytest tests; lite=$$?; \
	if [ -z "$$pid" ]; then exit $$lite; fi; \
	wait $$pid; \
	echo "== the suite on PostgreSQL =="; cat "$$pgvar/pytest.log"; \
	pgrc=$$(cat "$$pgvar/pytest.rc" 2>/dev/null || echo 1); \
	echo "SQLite run: exit $$lite; PostgreSQL run: exit $$pgrc"; \
	[ "$$lite" -eq 0 ] && [ "$$pgrc" -eq 0 ]

lint: $(BIN)/jingzhun
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(BIN)/jingzhun
	JINGZHUN_TESTING=1 $(BIN)/mypy

messages: $(BIN)/jingzhun
	cd src/jingzhun && JINGZHUN_TESTING=1 ../../$(BIN)/jingzhun makemessages -l zh_Hans -l en --no-obsolete

clean-demo:
	rm -rf $(VAR)/jingzhun.sqlite3* $(DEMO_DATA) $(VAR)/media $(VAR)/progress
