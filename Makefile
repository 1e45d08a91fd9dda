# mnext-det: `make demo` runs the main job on built-in data, `make test` the
# tests; both install what is missing first (see tools/install.sh).
PYTHON ?= python3
export PYTHON

.PHONY: install test test-slow demo study study-ablation study-lr study-pretrain study-tap study-batch study-batch-sqrtlr study-demo study-demo-epochs study-fashion study-fashion-batch fashion-data data summary benchmark benchmark-detectors benchmark-pretrain check-data gpu-wheels clean

install:
	@bash tools/install.sh

# one pytest-xdist worker per usable CPU (affinity and cgroup quota); 0 runs in-process
TEST_WORKERS ?= $(shell $(PYTHON) -c 'from mnext_det.engine.cpus import usable_cpus; print(usable_cpus())')

test: install
	$(PYTHON) -m pytest tests -m "not slow" -q -n $(TEST_WORKERS) --dist worksteal

test-slow: install
	$(PYTHON) -m pytest tests -m slow -q

# `make demo DEMO_ARGS=--resume` continues a killed run (tools/demo.py --help)
DEMO_ARGS ?=
demo: install
	$(PYTHON) tools/demo.py $(DEMO_ARGS)

# `make study`: seeded from-scratch and crop-pretrained comparisons on the demo
# data (README, "Is MobileNeXt better?"); `make study-ablation`: the MobileNeXt
# init/tap/BN ablation of docs/detection.md. All runs live in one work dir, so
# the reports share them; each report has its own folder.
STUDY_DIR ?= work_dirs/study
STUDY_SEEDS ?= 0 1 2
STUDY_EPOCHS = 4
STUDY_BUDGET = train_cfg.max_epochs=$(STUDY_EPOCHS) param_scheduler.1.T_max=$(STUDY_EPOCHS) \
	param_scheduler.1.end=$(STUDY_EPOCHS) default_hooks.checkpoint.interval=$(STUDY_EPOCHS) \
	train_cfg.val_interval=1
DEMO = configs/demo
STUDY = $(PYTHON) tools/study.py --seeds $(STUDY_SEEDS) --cfg-options $(STUDY_BUDGET) \
	--work-dir $(STUDY_DIR)/runs
PRETRAIN_DIR = work_dirs/study/pretrain
V2 = mobilenetv2-050=$(DEMO)/ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py
NEXT = mobilenext-050=$(DEMO)/ssdlite_mobilenext-050_1xb8-10e_shapes-160.py
V2_PRE = mobilenetv2-050-cropspre=$(DEMO)/ssdlite_mobilenetv2-050-cropspre_1xb8-10e_shapes-160.py
NEXT_PRE = mobilenext-050-cropspre=$(DEMO)/ssdlite_mobilenext-050-cropspre_1xb8-10e_shapes-160.py
NEXT_TRUNC = mobilenext-050-truncnormal=$(DEMO)/ssdlite_mobilenext-050-truncnormal_1xb8-10e_shapes-160.py

data: install
	$(PYTHON) tools/misc/generate_demo_data.py

$(PRETRAIN_DIR)/%/epoch_4.pth:
	OMP_NUM_THREADS=1 $(PYTHON) tools/train.py $(DEMO)/$*_1xb64-4e_shapes-crops.py \
		--work-dir $(PRETRAIN_DIR)/$* --resume > $(PRETRAIN_DIR)-$*.log 2>&1 \
		|| { tail -20 $(PRETRAIN_DIR)-$*.log; exit 1; }

# the crop pretraining of both backbones that the -cropspre configs start from
study-pretrain: data
	mkdir -p $(PRETRAIN_DIR)
	$(MAKE) -j2 $(PRETRAIN_DIR)/mobilenetv2-050/epoch_4.pth $(PRETRAIN_DIR)/mobilenext-050/epoch_4.pth

study: study-pretrain
	@echo "make study: 18 detector trainings of $(STUDY_EPOCHS) epochs (2 backbones x 3 seeds from"
	@echo "crop pretraining, 4 scratch variants x 3 seeds), two at a time: about 60 minutes on a"
	@echo "2-core CPU (README). Rerun to resume; progress and ETA follow."
	$(STUDY) --report-dir $(STUDY_DIR)/scratch --title "SSDLite on the demo data, from scratch" \
		$(V2) mobilenetv2-050-truncnormal=$(DEMO)/ssdlite_mobilenetv2-050-truncnormal_1xb8-10e_shapes-160.py \
		$(NEXT) $(NEXT_TRUNC)
	$(STUDY) --report-dir $(STUDY_DIR)/pretrained \
		--title "SSDLite on the demo data, backbones from crop pretraining" $(V2_PRE) $(NEXT_PRE)
	$(STUDY) --report-dir $(STUDY_DIR)/pretraining-mobilenetv2 \
		--title "MobileNetV2-0.5: zero-init from scratch vs crop pretraining" $(V2) $(V2_PRE)
	$(STUDY) --report-dir $(STUDY_DIR)/pretraining-mobilenext \
		--title "MobileNeXt-0.5: zero-init from scratch vs crop pretraining" $(NEXT) $(NEXT_PRE)

study-ablation: data
	@echo "make study-ablation: 9 trainings more than make study (its runs are reused), about 30 min"
	$(STUDY) --report-dir $(STUDY_DIR)/ablation \
		--title "MobileNeXt-0.5 from scratch: init, tap and BN ablation" $(NEXT_TRUNC) \
		mobilenext-050-kaiming=$(DEMO)/ssdlite_mobilenext-050-kaiming_1xb8-10e_shapes-160.py $(NEXT) \
		mobilenext-050-tap12=$(DEMO)/ssdlite_mobilenext-050-tap12_1xb8-10e_shapes-160.py \
		mobilenext-050-bn-torch=$(DEMO)/ssdlite_mobilenext-050-bn-torch_1xb8-10e_shapes-160.py
	$(STUDY) --report-dir $(STUDY_DIR)/ablation-vs-zeroinit \
		--title "MobileNeXt-0.5 ablation, paired to the zero-init default" $(NEXT) $(NEXT_TRUNC) \
		mobilenext-050-kaiming=$(DEMO)/ssdlite_mobilenext-050-kaiming_1xb8-10e_shapes-160.py \
		mobilenext-050-tap12=$(DEMO)/ssdlite_mobilenext-050-tap12_1xb8-10e_shapes-160.py \
		mobilenext-050-bn-torch=$(DEMO)/ssdlite_mobilenext-050-bn-torch_1xb8-10e_shapes-160.py

# the scratch comparison at another lr (both backbones, zero-init): does the ranking hold?
study-lr: data
	@echo "make study-lr: 6 trainings at lr 4e-3, about 20 min"
	$(PYTHON) tools/study.py --seeds $(STUDY_SEEDS) --cfg-options $(STUDY_BUDGET) \
		optim_wrapper.optimizer.lr=4e-3 --work-dir $(STUDY_DIR)/runs-lr4e-3 \
		--report-dir $(STUDY_DIR)/lr4e-3 --title "SSDLite from scratch at AdamW lr 4e-3" \
		$(V2) $(NEXT)

study-tap: data
	@echo "make study-tap: 9 trainings (6 of them shared with make study), about 30 min"
	$(STUDY) --report-dir $(STUDY_DIR)/same-tap \
		--title "SSDLite from scratch, MobileNetV2 tapped where MobileNeXt is (same head input)" \
		mobilenetv2-050-exptap=$(DEMO)/ssdlite_mobilenetv2-050-exptap_1xb8-10e_shapes-160.py \
		$(NEXT) $(V2)

# `make study-batch`: the demo detectors at batch 16 (lr scaled linearly) against batch 8 over seeds,
# both backbones from make study's crop pretraining, the demo's full 10 epochs
BATCH_STUDY = $(PYTHON) tools/study.py --seeds $(STUDY_SEEDS) --work-dir work_dirs/study-batch/runs
V2_PRE_B16 = mobilenetv2-050-cropspre-b16=$(DEMO)/ssdlite_mobilenetv2-050-cropspre_1xb16-10e_shapes-160.py
NEXT_PRE_B16 = mobilenext-050-cropspre-b16=$(DEMO)/ssdlite_mobilenext-050-cropspre_1xb16-10e_shapes-160.py
study-batch: study-pretrain
	@echo "make study-batch: 12 detector trainings of 10 epochs, two at a time: 112 min on the"
	@echo "slowest 2-core CPU seen (configs/demo/README.md). Rerun to resume."
	$(BATCH_STUDY) --allow-config-diff --report-dir work_dirs/study-batch/mobilenetv2 \
		--title "SSDLite-MobileNetV2-0.5 (demo): batch 16, lr 4e-3 against batch 8, lr 2e-3" \
		$(V2_PRE) $(V2_PRE_B16)
	$(BATCH_STUDY) --allow-config-diff --report-dir work_dirs/study-batch/mobilenext \
		--title "SSDLite-MobileNeXt-0.5 (demo): batch 16, lr 4e-3 against batch 8, lr 2e-3" \
		$(NEXT_PRE) $(NEXT_PRE_B16)
	$(BATCH_STUDY) --report-dir work_dirs/study-batch/batch8 \
		--title "SSDLite on the demo data at batch 8, backbones from crop pretraining, 10 epochs" \
		$(V2_PRE) $(NEXT_PRE)
	$(BATCH_STUDY) --report-dir work_dirs/study-batch/batch16 \
		--title "SSDLite on the demo data at batch 16, backbones from crop pretraining" \
		$(V2_PRE_B16) $(NEXT_PRE_B16)

# `make study-demo`: the demo detectors (batch 8) over seeds, on the 10-epoch schedule that `make demo`
# trained before it moved to 8 (`make study-demo-epochs` compares them),
# from scratch (zero-init) and from the crop pretraining: what the pretraining stage buys
DEMO_STUDY = $(PYTHON) tools/study.py --seeds $(STUDY_SEEDS) --work-dir work_dirs/study-demo/runs
study-demo: study-pretrain
	@echo "make study-demo: 12 detector trainings of 10 epochs, two at a time: about 70 min on a"
	@echo "2-core CPU (configs/demo/README.md). Rerun to resume."
	$(DEMO_STUDY) --report-dir work_dirs/study-demo/scratch \
		--title "SSDLite on the demo data, 10 epochs, from scratch" $(V2) $(NEXT)
	$(DEMO_STUDY) --report-dir work_dirs/study-demo/pretrained \
		--title "SSDLite on the demo data, 10 epochs, backbones from crop pretraining" $(V2_PRE) $(NEXT_PRE)
	$(DEMO_STUDY) --report-dir work_dirs/study-demo/pretraining-mobilenetv2 \
		--title "MobileNetV2-0.5, 10 epochs: zero-init from scratch vs crop pretraining" $(V2) $(V2_PRE)
	$(DEMO_STUDY) --report-dir work_dirs/study-demo/pretraining-mobilenext \
		--title "MobileNeXt-0.5, 10 epochs: zero-init from scratch vs crop pretraining" $(NEXT) $(NEXT_PRE)

# `make study-demo-epochs`: the demo detectors with their cosine schedule cut to 7 and 8 epochs
# (configs/demo/ssdlite_*_1xb8-{7,8}e_shapes-160.py) over seeds, each against make study-demo's
# 10 epochs (whose runs it shares), and the same schedules on the held-out scenes
DEMO_EPOCHS = 7 8
study-demo-epochs: install data fashion-data
	@echo "make study-demo-epochs: 24 trainings of 7 and 8 epochs (6 more of 10 without make"
	@echo "study-demo's), two at a time: about 85 min on a 2-core CPU (configs/demo/README.md). Rerun to resume."
	for E in $(DEMO_EPOCHS); do \
		$(DEMO_STUDY) --report-dir work_dirs/study-demo/$${E}e --title "SSDLite on the demo data, $$E epochs, from scratch" \
			mobilenetv2-050-$${E}e=$(DEMO)/ssdlite_mobilenetv2-050_1xb8-$${E}e_shapes-160.py \
			mobilenext-050-$${E}e=$(DEMO)/ssdlite_mobilenext-050_1xb8-$${E}e_shapes-160.py || exit 1; \
		for B in mobilenetv2 mobilenext; do \
			$(DEMO_STUDY) --allow-config-diff --report-dir work_dirs/study-demo/schedule-$$B-$${E}e \
				--title "SSDLite on the demo data, $$B-050: $$E epochs against 10" $$B-050=$(DEMO)/ssdlite_$$B-050_1xb8-10e_shapes-160.py \
				$$B-050-$${E}e=$(DEMO)/ssdlite_$$B-050_1xb8-$${E}e_shapes-160.py || exit 1; \
		done; \
		$(FASHION_STUDY) --report-dir work_dirs/study-fashion/$${E}e \
			--title "SSDLite from scratch on the Fashion-MNIST scenes, $$E epochs" \
			mobilenetv2-050-$${E}e=$(DEMO)/ssdlite_mobilenetv2-050_1xb8-10e_fashion-scenes-160.py \
			mobilenext-050-$${E}e=$(DEMO)/ssdlite_mobilenext-050_1xb8-10e_fashion-scenes-160.py \
			--cfg-options train_cfg.max_epochs=$$E param_scheduler.1.T_max=$$E param_scheduler.1.end=$$E || exit 1; \
	done

# `make study-batch-sqrtlr`: batch 16 with the lr scaled by sqrt(2) (2.8e-3) against batch 8,
# same seeds and runs dir as make study-batch (its batch-8 runs are reused); the batch-16 pair
# first, so that its six trainings run two at a time
V2_PRE_B16_SQRT = mobilenetv2-050-cropspre-b16-sqrtlr=$(DEMO)/ssdlite_mobilenetv2-050-cropspre_1xb16-10e-sqrtlr_shapes-160.py
NEXT_PRE_B16_SQRT = mobilenext-050-cropspre-b16-sqrtlr=$(DEMO)/ssdlite_mobilenext-050-cropspre_1xb16-10e-sqrtlr_shapes-160.py
study-batch-sqrtlr: study-pretrain
	@echo "make study-batch-sqrtlr: 6 detector trainings of 10 epochs more than make study-batch"
	@echo "(12 without its runs), two at a time: 42 min on a 2-core Intel VM (configs/demo/README.md). Rerun to resume."
	$(BATCH_STUDY) --report-dir work_dirs/study-batch/batch16-sqrtlr \
		--title "SSDLite on the demo data at batch 16, lr 2.8e-3, backbones from crop pretraining" \
		$(V2_PRE_B16_SQRT) $(NEXT_PRE_B16_SQRT)
	$(BATCH_STUDY) --allow-config-diff --report-dir work_dirs/study-batch/mobilenetv2-sqrtlr \
		--title "SSDLite-MobileNetV2-0.5 (demo): batch 16, lr 2.8e-3 against batch 8, lr 2e-3" \
		$(V2_PRE) $(V2_PRE_B16_SQRT)
	$(BATCH_STUDY) --allow-config-diff --report-dir work_dirs/study-batch/mobilenext-sqrtlr \
		--title "SSDLite-MobileNeXt-0.5 (demo): batch 16, lr 2.8e-3 against batch 8, lr 2e-3" \
		$(NEXT_PRE) $(NEXT_PRE_B16_SQRT)

# the Fashion-MNIST scenes (real photographs, 10 classes), written from Debian's
# dataset-fashion-mnist on first use; their studies share one runs dir
FASHION_DATA = data/fashion-scenes
FASHION_STUDY = $(PYTHON) tools/study.py --seeds $(STUDY_SEEDS) --work-dir work_dirs/study-fashion/runs
FASHION_V2 = mobilenetv2-050=$(DEMO)/ssdlite_mobilenetv2-050_1xb8-10e_fashion-scenes-160.py
FASHION_NEXT = mobilenext-050=$(DEMO)/ssdlite_mobilenext-050_1xb8-10e_fashion-scenes-160.py
FASHION_V2_B16 = mobilenetv2-050-b16-sqrtlr=$(DEMO)/ssdlite_mobilenetv2-050_1xb16-10e-sqrtlr_fashion-scenes-160.py
FASHION_NEXT_B16 = mobilenext-050-b16-sqrtlr=$(DEMO)/ssdlite_mobilenext-050_1xb16-10e-sqrtlr_fashion-scenes-160.py

fashion-data: install
	test -f $(FASHION_DATA)/annotations/instances_val.json || \
		$(PYTHON) tools/dataset_converters/fashion_mnist_to_coco_scenes.py $(FASHION_DATA)

# `make study-fashion`: the same-tap comparison on the scenes, 10 epochs from scratch
study-fashion: fashion-data
	@echo "make study-fashion: 9 trainings of 10 epochs, two at a time: about 30 min on a 2-core CPU"
	$(FASHION_STUDY) --report-dir work_dirs/study-fashion/report \
		--title "SSDLite from scratch on the Fashion-MNIST scenes (real photographs, 10 classes)" \
		mobilenetv2-050-exptap=$(DEMO)/ssdlite_mobilenetv2-050-exptap_1xb8-10e_fashion-scenes-160.py \
		$(FASHION_NEXT) $(FASHION_V2)

# `make study-fashion-batch`: batch 16 at lr 2.8e-3 against batch 8 on the scenes over seeds,
# both backbones from scratch (the batch-8 runs are make study-fashion's)
study-fashion-batch: fashion-data
	@echo "make study-fashion-batch: 12 trainings of 10 epochs (6 shared with make study-fashion),"
	@echo "two at a time: 45 min on a 2-core Intel VM (configs/demo/README.md). Rerun to resume."
	$(FASHION_STUDY) --report-dir work_dirs/study-fashion/batch8 \
		--title "SSDLite from scratch on the Fashion-MNIST scenes at batch 8, lr 2e-3" \
		$(FASHION_V2) $(FASHION_NEXT)
	$(FASHION_STUDY) --report-dir work_dirs/study-fashion/batch16-sqrtlr \
		--title "SSDLite from scratch on the Fashion-MNIST scenes at batch 16, lr 2.8e-3" \
		$(FASHION_V2_B16) $(FASHION_NEXT_B16)
	$(FASHION_STUDY) --allow-config-diff --report-dir work_dirs/study-fashion/mobilenetv2-batch \
		--title "SSDLite-MobileNetV2-0.5 on the Fashion-MNIST scenes: batch 16, lr 2.8e-3 against batch 8" \
		$(FASHION_V2) $(FASHION_V2_B16)
	$(FASHION_STUDY) --allow-config-diff --report-dir work_dirs/study-fashion/mobilenext-batch \
		--title "SSDLite-MobileNeXt-0.5 on the Fashion-MNIST scenes: batch 16, lr 2.8e-3 against batch 8" \
		$(FASHION_NEXT) $(FASHION_NEXT_B16)

summary: install
	$(PYTHON) tools/analysis_tools/model_summary.py

benchmark: install
	$(PYTHON) tools/analysis_tools/benchmark.py --timer cpu --rounds 6 --iters 5 --no-memory

benchmark-detectors: install
	OMP_NUM_THREADS=1 $(PYTHON) tools/analysis_tools/benchmark_detectors.py --threads 1

benchmark-pretrain: install
	OMP_NUM_THREADS=1 $(PYTHON) tools/analysis_tools/benchmark_pretrain.py --batch-size 32 --iters 3 --rounds 5

check-data: install
	@test -n "$(CONFIG)" || { echo "usage: make check-data CONFIG=path/to/config.py" >&2; exit 2; }
	$(PYTHON) tools/misc/check_dataset.py config $(CONFIG)

# the offline install set for a GPU machine without internet (tools/gpu/run_checks.sh there)
gpu-wheels:
	bash tools/gpu/download_wheels.sh .whl 3.12

clean:
	rm -rf work_dirs build *.egg-info .pytest_cache
