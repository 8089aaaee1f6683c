# Every target builds .venv on demand, so `make demo` and `make test` work on a
# fresh clone with nothing installed but Python.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= cpu,dev,docs,jupyter,tune,tensorboard
# torch only for the tests, pinned: this version has a CPU build of about 190 MB
# on PyPI, where an unpinned `torch` pulls a CUDA build of several GB.
TORCH_TEST_PIN ?= torch==2.13.0
# The tests that run again on JAX and on torch: Keras 3 users run all three.
BACKEND_TESTS := tests/test_builders.py tests/test_optimization.py tests/test_learning_rates.py tests/test_lr_finder.py \
  tests/callbacks tests/checkpoints tests/compat tests/plots/test_attribution.py
BACKEND_PYTEST := -m "not slow and not browser and not tf_only" -p no:doctest
# The JAX pass compiles with XLA's backend optimisations off: the same programs (kerastools, Keras'
# trainer and jax.jit run as for a user), compiled in about half the time, which is most of what
# a tiny model's fit costs on JAX. `make test-jax JAX_TEST_XLA_FLAGS=` compiles as users do.
JAX_TEST_XLA_FLAGS ?= --xla_backend_optimization_level=0
# Each pytest pass runs on this many processes (pytest-xdist); PYTEST_WORKERS=0 runs in one.
# loadfile: each file goes whole to whichever worker is free, so a module-scoped fixture (a
# trained directory, a shared fit) is built once, and tests/test_bad_input.py's last test sums
# the counts of the whole file. (loadgroup's xdist_group marks do nothing with pytest 9.2.)
# The files whose tests start interpreters run first (conftest.py), so the pass ends on short ones.
PYTEST_WORKERS ?= 2
XDIST := -n $(PYTEST_WORKERS) --dist loadfile
PYTEST_ARGS ?=
FASHION_DIR := /usr/share/datasets/fashion-mnist

.PHONY: gpu-check wheel-check release-check wheel-demo install demo fashion-mnist-full test test-fast test-jax test-torch test-slow test-browser lint typecheck docs docs-serve examples data benchmarks wheel clean

# One resolve for the package and torch. Not --no-compile: where PYTHONDONTWRITEBYTECODE is set
# (CI here), every test process would compile each module it imports from source again.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]" "$(TORCH_TEST_PIN)"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m kerastools demo

# Fashion-MNIST comes from Debian; tests that need it skip with a reason when
# it cannot be installed (not root, no apt).
data:
	@if [ -d $(FASHION_DIR) ]; then echo "fashion-mnist: $(FASHION_DIR)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1)) \
	  && echo "fashion-mnist: installed" || echo "fashion-mnist: not installable here; its tests will skip"; \
	else echo "fashion-mnist: not root or no apt; its tests will skip"; fi

lint: install
	$(PY) -m ruff check kerastools tests examples benchmarks

typecheck: install
	$(PY) -m mypy kerastools

docs: install
	$(PY) -m mkdocs build --strict --site-dir site

docs-serve: install
	$(PY) -m mkdocs serve --dev-addr 127.0.0.1:8000

test-fast: install
	$(PY) -m pytest $(XDIST) --doctest-modules $(PYTEST_ARGS)

# The builder, compile, learning-rate, callback, checkpoint and compatibility
# tests again on JAX and on torch (test-fast runs them on TensorFlow).
test-jax: install
	KERAS_BACKEND=jax XLA_FLAGS="$(JAX_TEST_XLA_FLAGS) $(XLA_FLAGS)" $(PY) -m pytest $(XDIST) $(BACKEND_PYTEST) $(BACKEND_TESTS) $(PYTEST_ARGS)

test-torch: install
	KERAS_BACKEND=torch $(PY) -m pytest $(XDIST) $(BACKEND_PYTEST) $(BACKEND_TESTS) $(PYTEST_ARGS)

test: install data lint typecheck docs test-fast test-jax test-torch wheel-check

# The convnet recipe's full run, three seeds (about 16 minutes each on 2 CPU cores), then the
# mean and spread of their test accuracy; figures in docs/recipes/fashion-mnist-cnn.md.
FASHION_OUT ?= examples_output/fashion_mnist_cnn
fashion-mnist-full: install data
	for seed in 0 1 2; do \
		$(PY) examples/fashion_mnist_cnn.py --full --seed $$seed --output-dir $(FASHION_OUT)/seed-$$seed || exit 1; \
	done
	$(PY) examples/fashion_mnist_cnn.py --summarize $(FASHION_OUT)

test-slow: install data
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

test-browser: install
	$(PY) -m pip install --quiet -e ".[browser]"
	$(PY) tests/browser/check_live_plot.py
	$(PY) tests/browser/check_run_report.py
	$(PY) tests/browser/check_tensorboard.py

benchmarks: install
	for script in benchmarks/*.py; do $(PY) $$script || exit 1; done

gpu-check: install
	$(PY) tests/gpu/check_gpu_paths.py

wheel: install
	$(PY) -m build --wheel --outdir dist .

# The release check: the wheel installs into a venv of its own, where it imports and the demo
# runs. That venv sees the project venv's packages (a path in a .pth file, whose own .pth files,
# the editable install among them, are not read): `pip check` proves they meet the wheel's
# requirements. `make release-check` installs them afresh from the registries (40 s more).
WHEEL_CHECK := build/wheel-check
wheel-check: install
	rm -rf $(WHEEL_CHECK) && mkdir -p $(WHEEL_CHECK)
	$(PY) -m build --wheel --outdir $(WHEEL_CHECK)/dist . >$(WHEEL_CHECK)/build.log 2>&1 || (tail -20 $(WHEEL_CHECK)/build.log; exit 1)
	$(PYTHON) -m venv --without-pip $(WHEEL_CHECK)/venv
	$(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > "$$($(WHEEL_CHECK)/venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/project-venv.pth"
	$(PY) -m pip --python $(WHEEL_CHECK)/venv/bin/python install --quiet --no-deps --no-compile --disable-pip-version-check "$$(ls $(WHEEL_CHECK)/dist/*.whl)"
	$(PY) -m pip --python $(WHEEL_CHECK)/venv/bin/python check --disable-pip-version-check
	$(MAKE) --no-print-directory wheel-demo

# The wheel's venv from nothing: every dependency installed from the registries.
release-check: install
	rm -rf $(WHEEL_CHECK) && mkdir -p $(WHEEL_CHECK)
	$(PY) -m build --wheel --outdir $(WHEEL_CHECK)/dist . >$(WHEEL_CHECK)/build.log 2>&1 || (tail -20 $(WHEEL_CHECK)/build.log; exit 1)
	$(PYTHON) -m venv $(WHEEL_CHECK)/venv
	$(WHEEL_CHECK)/venv/bin/pip install --quiet --no-compile --disable-pip-version-check "$$(ls $(WHEEL_CHECK)/dist/*.whl)[cpu]"
	$(MAKE) --no-print-directory wheel-demo

# Run from outside the source tree: `import kerastools` must find the wheel's copy.
wheel-demo:
	cd $(WHEEL_CHECK) && venv/bin/python -c "import kerastools, sys; where = kerastools.__file__; print('kerastools', kerastools.__version__, 'from', where); sys.exit(0 if where.startswith(sys.prefix) else 'kerastools is not the wheel copy: ' + where)" \
	  && venv/bin/python -m kerastools demo --epochs 2 --output-dir demo_output

clean:
	rm -rf $(VENV) site build dist *.egg-info
