# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-done
# Standard PyPI wheels (CUDA builds; they also run on CPU-only machines).
TORCH  := torch==2.14.1 torchvision==0.29.1
# Free disk that set-up and the tests need: torch with its CUDA libraries takes 5.6 GiB in .venv,
# detectron2 and the other packages about 0.6 GiB, the tests' temporary files up to 0.7 GiB.
NEED_GIB := 7
# pip's cache would hold a second copy of every downloaded package
export PIP_NO_CACHE_DIR := 1

.PHONY: setup torch test demo clean-setup

setup: $(STAMP)

# .venv with the pinned torch alone: GPU machines build detectron2 against it (README, Install).
torch:
	test -x $(PY) || $(PYTHON) tools/check_disk.py . $(NEED_GIB)
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
