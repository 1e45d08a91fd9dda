"""Data checks: ``scan`` reads every file of a COCO, VOC or ImageFolder dataset
(``tools/misc/check_dataset.py``, and per sample in ``ValidatedDataset``);
``preflight`` reads only the paths and json headers a detection config names,
before training or testing starts. Plain python, numpy and PIL."""
