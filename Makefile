# make install | test | bench | demo   (see README.md)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
# The editable build records the ninja and cython it finds on PATH: use the venv's.
export PATH := $(BIN):$(PATH)

BUILD_INPUTS := pyproject.toml meson.build meson.options scripts/install-system-deps

.PHONY: install test bench demo clean

install: $(STAMP)

$(STAMP): $(BUILD_INPUTS)
	scripts/install-system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q meson-python meson ninja 'cython>=3' 'blosc2>=3' 'numpy>=1.25'
	$(BIN)/pip install -q --no-build-isolation -Csetup-args=-Dall-codecs=true -e '.[test,bench]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench

demo: install
	$(BIN)/python scripts/demo.py

clean:
	rm -rf build $(VENV)
