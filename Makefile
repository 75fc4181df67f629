# make install | test | bench | demo | lock   (see README.md)
# The newest python3.1x (3.10 or later) that runs, unless PYTHON= is given.
PYTHON ?= $(shell for v in 14 13 12 11 10; do python3.$$v -c '' 2>/dev/null && { echo python3.$$v; break; }; done)
# auto: build a pinned upstream release where the system's library is older or slower
UPSTREAM_LIBS ?= auto
BIN := $(CURDIR)/.venv/bin
export PYTHON UPSTREAM_LIBS
# The editable build records the ninja and cython it finds on PATH: use the venv's.
export PATH := $(BIN):$(PATH)

.PHONY: install test bench demo lock clean

install:
	@test -n "$(PYTHON)" || { echo "no python3.1x (3.10 or later) found: make PYTHON=..."; exit 1; }
	scripts/install

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench

demo: install
	$(BIN)/python scripts/demo.py

# Re-resolve every pin in constraints.txt on purpose (for each Python given).
lock:
	$(PYTHON) scripts/lock $(LOCK_PYTHONS)

clean:
	rm -rf build .venv
