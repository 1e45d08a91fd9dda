# mnext-det: `make demo` runs the main job on built-in data, `make test` the
# tests; both install what is missing first (see tools/install.sh).
PYTHON ?= python3
export PYTHON

.PHONY: install test test-slow demo summary benchmark clean

install:
	@bash tools/install.sh

test: install
	$(PYTHON) -m pytest tests -m "not slow" -q

test-slow: install
	$(PYTHON) -m pytest tests -m slow -q

demo: install
	$(PYTHON) tools/demo.py

summary: install
	$(PYTHON) tools/analysis/model_summary.py

clean:
	rm -rf work_dirs build *.egg-info .pytest_cache
