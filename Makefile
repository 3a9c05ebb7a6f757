# Entry points, all working on a fresh clone:
#   make figures        -> .venv with the package, every figure into figures/out/ (JOBS=N worker processes,
#                          default: the usable cores; the long figures start first)
#   make test           -> .venv with the test extras, the test suite and every docstring example
#   make test-slow      -> the long checks (marked slow), the README's long examples among them
#   make docs           -> the API reference (Sphinx) in docs/_build/html, warnings are errors
#   make install-check  -> a wheel installed into a fresh venv and used from a temporary folder
#   make docs-images    -> re-render the committed gallery images (docs/images) and docs/gallery.rst
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= figures/out
JOBS   ?=
# torch is installed only from a local CPU wheel (never an unpinned download of gigabytes).
TORCH_VERSION   ?= 2.13.0
TORCH_WHEEL_DIR ?= /opt/wheels

.PHONY: figures test test-slow docs docs-images install-check benchmarks venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.core: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.core setup.cfg
	$(BIN)/python -m pip install -q -e '.[test,progress]'
	@if ls $(TORCH_WHEEL_DIR)/torch-$(TORCH_VERSION)*.whl >/dev/null 2>&1; then \
	    $(BIN)/python -m pip install -q --find-links $(TORCH_WHEEL_DIR) 'torch==$(TORCH_VERSION)'; \
	else \
	    echo "note: no local torch $(TORCH_VERSION) wheel in $(TORCH_WHEEL_DIR); torch-backend tests will be skipped"; \
	fi
	touch $@

$(VENV)/.docs: $(VENV)/.core setup.cfg
	$(BIN)/python -m pip install -q -e '.[docs]'
	touch $@

venv: $(VENV)/.core

figures: $(VENV)/.core
	MPLBACKEND=Agg $(BIN)/python -m figures all --out $(OUT) $(if $(JOBS),--jobs $(JOBS))

test: $(VENV)/.test
	MPLBACKEND=Agg $(BIN)/python -m pytest -q

test-slow: $(VENV)/.test
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -m slow

docs: $(VENV)/.docs
	MPLBACKEND=Agg $(BIN)/python -m sphinx -E -W --keep-going -q -b html docs docs/_build/html
	@echo "API reference: docs/_build/html/index.html"

docs-images: $(VENV)/.core
	MPLBACKEND=Agg $(BIN)/python docs/render_images.py

install-check: $(VENV)/.core
	$(BIN)/python .ci/install_check.py

benchmarks: $(VENV)/.test
	$(BIN)/python -m benchmarks all

clean:
	rm -rf $(VENV) $(OUT) build *.egg-info .pytest_cache docs/_build docs/api/generated
