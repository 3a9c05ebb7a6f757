# Two entry points, both working on a fresh clone:
#   make figures   -> .venv with the package, every figure into figures/out/
#   make test      -> .venv with the test extras, the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= figures/out
# torch is installed only from a local CPU wheel (never an unpinned download of gigabytes).
TORCH_VERSION   ?= 2.13.0
TORCH_WHEEL_DIR ?= /opt/wheels

.PHONY: figures test test-slow benchmarks venv clean

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

venv: $(VENV)/.core

figures: $(VENV)/.core
	MPLBACKEND=Agg $(BIN)/python -m figures all --out $(OUT)

test: $(VENV)/.test
	MPLBACKEND=Agg $(BIN)/python -m pytest -q

test-slow: $(VENV)/.test
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -m slow

benchmarks: $(VENV)/.test
	$(BIN)/python -m benchmarks all

clean:
	rm -rf $(VENV) $(OUT) build *.egg-info .pytest_cache
