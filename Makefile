# make install | test | bench | demo | lock   (see README.md)
# PYTHON= picks the interpreter; by default the newest python3.1x that runs (scripts/python).
# auto: build a pinned upstream release where the system's library is older or slower
UPSTREAM_LIBS ?= auto
BIN := $(CURDIR)/.venv/bin
export PYTHON UPSTREAM_LIBS
# The editable build records the ninja and cython it finds on PATH: use the venv's.
export PATH := $(BIN):$(PATH)

.PHONY: install test bench demo lock clean

install:
	scripts/install

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench

demo: install
	$(BIN)/python scripts/demo.py

# Re-resolve every pin in constraints.txt on purpose (for each Python given).
lock:
	"$$(scripts/python)" scripts/lock $(LOCK_PYTHONS)

clean:
	rm -rf build .venv
