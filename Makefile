# mnext-det: `make demo` runs the main job on built-in data, `make test` the
# tests; both install what is missing first (see tools/install.sh).
PYTHON ?= python3
export PYTHON

.PHONY: install test test-slow demo summary benchmark benchmark-detectors benchmark-pretrain check-data clean

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

benchmark: install
	$(PYTHON) tools/analysis/benchmark.py --timer cpu --rounds 6 --iters 5 --no-memory

benchmark-detectors: install
	OMP_NUM_THREADS=1 $(PYTHON) tools/analysis/benchmark_detectors.py --threads 1

benchmark-pretrain: install
	OMP_NUM_THREADS=1 $(PYTHON) tools/analysis/benchmark_pretrain.py --batch-size 32 --iters 3 --rounds 5

check-data: install
	@test -n "$(CONFIG)" || { echo "usage: make check-data CONFIG=path/to/config.py" >&2; exit 2; }
	$(PYTHON) tools/check_dataset.py config $(CONFIG)

clean:
	rm -rf work_dirs build *.egg-info .pytest_cache
