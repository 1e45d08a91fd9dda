# mnext-det: `make demo` runs the main job on built-in data, `make test` the
# tests; both install what is missing first (see tools/install.sh).
PYTHON ?= python3
export PYTHON

.PHONY: install test test-slow demo study study-ablation data summary benchmark benchmark-detectors benchmark-pretrain check-data clean

install:
	@bash tools/install.sh

test: install
	$(PYTHON) -m pytest tests -m "not slow" -q

test-slow: install
	$(PYTHON) -m pytest tests -m slow -q

demo: install
	$(PYTHON) tools/demo.py

# `make study`: seeded from-scratch and crop-pretrained comparisons on the demo
# data (README, "Is MobileNeXt better? The seeded study"); `make study-ablation`
# adds the init/tap/BN ablation of docs/detection.md, reusing the scratch runs.
STUDY_DIR ?= work_dirs/study
STUDY_SEEDS ?= 0 1 2
STUDY_EPOCHS = 4
STUDY_BUDGET = train_cfg.max_epochs=$(STUDY_EPOCHS) param_scheduler.1.T_max=$(STUDY_EPOCHS) \
	param_scheduler.1.end=$(STUDY_EPOCHS) default_hooks.checkpoint.interval=$(STUDY_EPOCHS) \
	train_cfg.val_interval=1
DEMO = configs/demo
STUDY = $(PYTHON) tools/study.py --seeds $(STUDY_SEEDS) --cfg-options $(STUDY_BUDGET)
PRETRAIN_DIR = work_dirs/study/pretrain

data: install
	$(PYTHON) tools/generate_demo_data.py

$(PRETRAIN_DIR)/%/epoch_4.pth:
	OMP_NUM_THREADS=1 $(PYTHON) tools/train.py $(DEMO)/$*_1xb64-shapes-crops.py \
		--work-dir $(PRETRAIN_DIR)/$* --resume > $(PRETRAIN_DIR)-$*.log 2>&1 \
		|| { tail -20 $(PRETRAIN_DIR)-$*.log; exit 1; }

study: data
	@echo "make study: 18 detector trainings of $(STUDY_EPOCHS) epochs (2 backbones x 3 seeds from"
	@echo "crop pretraining, 4 scratch variants x 3 seeds), two at a time: about 45 minutes on a"
	@echo "2-core CPU (README). Rerun to resume; progress and ETA follow."
	mkdir -p $(PRETRAIN_DIR)
	$(MAKE) -j2 $(PRETRAIN_DIR)/mobilenetv2-050/epoch_4.pth $(PRETRAIN_DIR)/mobilenext-050/epoch_4.pth
	$(STUDY) --work-dir $(STUDY_DIR)/scratch --title "SSDLite on the demo data, from scratch" \
		mobilenetv2-050=$(DEMO)/ssdlite_mobilenetv2-050_1xb8-shapes-160.py \
		mobilenetv2-050-zeroinit=$(DEMO)/ssdlite_mobilenetv2-050-zeroinit_1xb8-shapes-160.py \
		mobilenext-050=$(DEMO)/ssdlite_mobilenext-050_1xb8-shapes-160.py \
		mobilenext-050-zeroinit=$(DEMO)/ssdlite_mobilenext-050-zeroinit_1xb8-shapes-160.py
	$(STUDY) --work-dir $(STUDY_DIR)/pretrained \
		--title "SSDLite on the demo data, backbones from crop pretraining" \
		mobilenetv2-050-cropspre=$(DEMO)/ssdlite_mobilenetv2-050-cropspre_1xb8-shapes-160.py \
		mobilenext-050-cropspre=$(DEMO)/ssdlite_mobilenext-050-cropspre_1xb8-shapes-160.py

study-ablation: data
	@echo "make study-ablation: 9 new trainings (the scratch study's are reused), about 25 min"
	$(STUDY) --work-dir $(STUDY_DIR)/scratch --report-dir $(STUDY_DIR)/ablation \
		--title "MobileNeXt-0.5 from scratch: init, tap and BN ablation" \
		mobilenext-050=$(DEMO)/ssdlite_mobilenext-050_1xb8-shapes-160.py \
		mobilenext-050-kaiming=$(DEMO)/ssdlite_mobilenext-050-kaiming_1xb8-shapes-160.py \
		mobilenext-050-zeroinit=$(DEMO)/ssdlite_mobilenext-050-zeroinit_1xb8-shapes-160.py \
		mobilenext-050-zeroinit-tap12=$(DEMO)/ssdlite_mobilenext-050-zeroinit-tap12_1xb8-shapes-160.py \
		mobilenext-050-zeroinit-bn-torch=$(DEMO)/ssdlite_mobilenext-050-zeroinit-bn-torch_1xb8-shapes-160.py

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
