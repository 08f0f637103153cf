# Jessr developer entry points. Only python3 (>= 3.11) and make are assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    := out
SHARED ?= ../shared/benchmarks

.PHONY: install demo demo-file test test-fast test-browser bench bench-routing bench-web lint clean

install: $(STAMP)

# Re-installs only when the project metadata changes; otherwise a no-op.
$(STAMP): pyproject.toml scripts/bootstrap_venv.sh
	PYTHON=$(PYTHON) sh scripts/bootstrap_venv.sh $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# Development install: the harness in bench/ and its tests run from the checkout.
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	# Compile the route minimiser's and the ruin-and-recreate kernels once
	# (numba caches them on disk).
	$(BIN)/python -m routing.backends.ejection
	$(BIN)/python -m routing.backends.ruin
	touch $@

# A fresh SQLite database under var/, a Tunisian day (today) imported, batched,
# published, delivered in part, verified and traced (engine/demo.py; every step a
# jessr command); then one account per role is printed and the web interface served
# on http://127.0.0.1:5000 until Ctrl-C (JESSR_DEMO_NO_SERVE=1: stop before serving).
demo: install
	$(BIN)/python -m engine.demo

# The solver alone, on files: a generated day solved into out/demo-plan.json.
demo-file: install
	@mkdir -p $(OUT)
	$(BIN)/jessr generate --requests 2000 --supplies 300 --volunteers 60 --seed 7 -o $(OUT)/demo-day.json
	$(BIN)/jessr solve $(OUT)/demo-day.json -o $(OUT)/demo-plan.json --time-limit 20

test: install
	$(BIN)/python -m pytest

# The suite without the tests marked slow (`make test` runs them all).
test-fast: install
	$(BIN)/python -m pytest -m "not slow"

# The browser journeys alone (Playwright on Debian's chromium: apt-get install chromium).
test-browser: install
	$(BIN)/python -m pytest tests/web/browser

# Allocation: the generator's days, then dense days (few categories, lots within
# reach of many households) against one plain min-cost flow over every pair.
bench: install
	$(BIN)/python -m bench.matching --out BENCHMARKS.md
	$(BIN)/python -m bench.dense_days --sizes 20k,50k --repeats 3 --out BENCHMARKS.md

# Public instances side by side (quick subset, 10 s), generated days, a national day.
bench-routing: install
	$(BIN)/python -m bench.routing_report $(SHARED) --out BENCHMARKS.md
	$(BIN)/python -m bench.days --out BENCHMARKS.md
	$(BIN)/python -m bench.national --out BENCHMARKS.md

# The web interface under load: 200 volunteers and 20 coordinators against jessr serve
# on PostgreSQL (127.0.0.1:5432), 60 s of steady load after the sign-in rush.
bench-web: install
	$(BIN)/python -m bench.web_load --out BENCHMARKS.md

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
