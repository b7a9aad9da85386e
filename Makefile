# mlcourse: two commands do all the set-up (see README).
#   make tour     set up, then the lecture run of every tutorial and the report card (FULL=1: --full)
#   make test     set up if needed, then ruff, the whole test suite (every tutorial executed as a
#                 notebook), and the battery and Keras-twin tests again on the JAX backend
#   make lab      JupyterLab on the tutorials as notebooks (notebooks/, written from tutorials/)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mlcourse-installed
FULL   ?=

.PHONY: tour test lint lab setup system data bench board report clean

tour: setup
	$(BIN)/mlcourse run all $(if $(FULL),--full,)
	$(BIN)/mlcourse report $(if $(FULL),--mode full,)
	@echo
	@echo "Open TensorBoard:  $(BIN)/mlcourse board   (then browse the URL it prints, e.g. http://127.0.0.1:6006)"

# The TensorFlow suite on two pytest workers (pytest-xdist, a test file each: most tests are
# small and one process leaves the second core idle); beside it, in one process, the tests marked
# `backends` again on JAX (they fill the idle time); its output is shown when both are done.
PYTEST  := $(BIN)/python -m pytest
JAX_LOG := $(VENV)/jax-tests.log

test: setup lint
	@KERAS_BACKEND=jax $(PYTEST) -p no:cacheprovider > $(JAX_LOG) 2>&1 & jax=$$!; \
	$(PYTEST) -n 2 --dist loadfile; tf=$$?; \
	wait $$jax; jax_status=$$?; \
	echo; echo "The battery and the Keras-twin tests again, on the JAX backend ($(JAX_LOG)):"; \
	if test $$jax_status -eq 0; then tail -n 6 $(JAX_LOG); else cat $(JAX_LOG); fi; \
	test $$tf -eq 0 && test $$jax_status -eq 0

# The kernels' C-level stderr (TensorFlow's C++ start-up lines) stays in this terminal, out of the
# notebooks: IPython's kernel config in a profile kept inside the venv.
KERNEL_CONFIG := $(VENV)/ipython/profile_default/ipython_kernel_config.py

lab: setup
	$(BIN)/python -m pip install --quiet -e '.[notebook]'
	$(BIN)/mlcourse notebook all --out notebooks
	@mkdir -p $(dir $(KERNEL_CONFIG))
	@echo "c.IPKernelApp.capture_fd_output = False" > $(KERNEL_CONFIG)
	IPYTHONDIR=$(VENV)/ipython TF_CPP_MIN_LOG_LEVEL=3 \
	  $(BIN)/jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

setup: $(STAMP) data

# System packages (Debian/Ubuntu): python3-venv if venv cannot bootstrap pip, and the Fashion-MNIST files.
system:
	@bash .ci/system-packages.sh

$(STAMP): setup.cfg pyproject.toml
	@$(MAKE) --no-print-directory system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

data: $(STAMP)
	$(BIN)/mlcourse data prepare --download

bench: setup
	$(BIN)/mlcourse bench

board: setup
	$(BIN)/mlcourse board

report: setup
	$(BIN)/mlcourse report

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache notebooks
