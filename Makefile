# Two commands on a fresh machine: `make demo` (main job on embedded data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  ?= torch==2.13.0

.PHONY: setup demo test bench clean

$(VENV)/.done: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The pinned CPU build first: an open torch requirement would pull a CUDA build.
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[test,tensorboard]"
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then \
		(apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null) \
		|| echo "note: could not install dataset-fashion-mnist; Fashion-MNIST runs will ask for a directory"; fi
	touch $@

setup: $(VENV)/.done

demo: setup
	$(VENV)/bin/actlab reproduce zplane --profile quick
	$(VENV)/bin/actlab reproduce zorro --profile quick

test: setup
	$(PY) -m pytest -q -n 2 --dist loadgroup

bench: setup
	$(PY) benchmarks/bench_activations.py --json benchmarks/results.json

clean:
	rm -rf $(VENV) gallery runs .pytest_cache
