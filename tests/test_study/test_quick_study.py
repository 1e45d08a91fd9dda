"""A quick study end to end with the real trainer: two demo detectors, two
seeds, one epoch on tiny generated data, evaluated on a separate test split."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from mnext_det.datasets.synthetic import SyntheticConfig, generate_shapes_dataset

from ..conftest import ROOT

pytest.importorskip('mmdet')


@pytest.mark.slow  # 53 s: eight trainer and tester processes; `make test-slow`
def test_quick_study_runs_end_to_end(tmp_path):
    data = str(tmp_path / 'shapes') + '/'
    generate_shapes_dataset(data, SyntheticConfig(num_train=12, num_val=4, num_test=4,
                                                  image_size=160), progress=False)
    ann = data + 'annotations/instances_{}.json'
    options = [f'{k}.dataset.data_root={data}' for k in ('train_dataloader', 'val_dataloader',
                                                          'test_dataloader')]
    options += [f'val_evaluator.ann_file={ann.format("val")}',
                f'test_evaluator.ann_file={ann.format("val")}', 'train_cfg.max_epochs=1',
                'train_dataloader.batch_size=4', 'param_scheduler.0.end=2',
                'param_scheduler.1.T_max=1', 'param_scheduler.1.end=1',
                'default_hooks.checkpoint.interval=1']
    test_options = ['test_dataloader.dataset.ann_file=annotations/instances_test.json',
                    f'test_evaluator.ann_file={ann.format("test")}']
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'study.py'),
           'v2=configs/demo/ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py',
           'next=configs/demo/ssdlite_mobilenext-050_1xb8-10e_shapes-160.py',
           '--seeds', '0', '1', '--work-dir', str(tmp_path / 'study'), '--parallel', '2',
           '--cfg-options', *options, '--test-cfg-options', *test_options]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert '4/4 runs done' in out.stdout
    study = json.load(open(tmp_path / 'study' / 'study.json'))
    assert study['split'] == 'test' and study['baseline'] == 'v2'
    assert sorted((r['label'], r['seed']) for r in study['runs']) == [
        ('next', 0), ('next', 1), ('v2', 0), ('v2', 1)]
    for run in study['runs']:
        assert set(run['metrics']) == {'val', 'test'}
        assert 0 <= run['metrics']['test']['coco/bbox_mAP'] <= 1 and run['wall_s'] > 0
        assert [p['epoch'] for p in run['curve']] == [1]
    assert study['summary']['next']['coco/bbox_mAP']['n'] == 2
    assert study['paired_differences']['next']['coco/bbox_mAP']['seeds'] == [0, 1]
    # a rerun trains nothing
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 0 and '4 already finished, 0 to run' in again.stdout
