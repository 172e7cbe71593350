# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-done
# Standard PyPI wheels (CUDA builds; they also run on CPU-only machines).
TORCH  := torch==2.14.1 torchvision==0.29.1

.PHONY: setup torch test demo clean-setup

setup: $(STAMP)

# .venv with the pinned torch alone: GPU machines build detectron2 against it (README, Install).
torch:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install $(TORCH)

$(STAMP): pyproject.toml tools/install_detectron2.py
	$(MAKE) torch
	$(PY) tools/install_detectron2.py
	$(PY) -m pip install -e '.[test]'
	$(PY) -m pip check
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q

demo: setup
	$(PY) -m tools.demo

clean-setup:
	rm -rf $(VENV)
