"""The detector comparison report, and resolving a work dir to its config and
checkpoint."""
import dataclasses
import json

import pytest
import torch

pytest.importorskip('mmdet')
from mnext_det.datasets.synthetic import SHAPE_CLASSES  # noqa: E402


def test_comparison_report(trained, tmp_path):
    from mnext_det.evaluation.comparison import (evaluate_detector, format_markdown,
                                                 plot_chart, resolve_work_dir, write_json)
    cfg, work_dir = trained['coco']
    cfg_file = tmp_path / 'det.py'
    cfg.dump(str(cfg_file))
    ckpt = str(work_dir / 'epoch_5.pth')
    base = evaluate_detector(str(cfg_file), ckpt, name='base', work_dir=str(tmp_path),
                             dataset_from=cfg, latency_runs=2)
    better = dict(base.metrics, bbox_mAP=base.metrics['bbox_mAP'] + 0.25)
    other = dataclasses.replace(base, name='other', latency_ms=2 * base.latency_ms,
                                metrics=better)
    results = [base, other]
    assert set(results[0].per_class) == set(SHAPE_CLASSES)
    assert results[0].params_M > 0.5 and results[0].madds_G > 0.01
    table = format_markdown(results)
    assert '| base | 160x160 |' in table and '(+0.250)' in table and '(x2.00)' in table
    assert '| star |' in table
    write_json(results, str(tmp_path / 'r.json'))
    plot_chart(results, str(tmp_path / 'r.png'))
    assert json.load(open(tmp_path / 'r.json'))['summary'][1]['d_AP'] == pytest.approx(0.25)
    assert (tmp_path / 'r.png').stat().st_size > 1000
    with pytest.raises(FileNotFoundError, match='work dir not found'):
        resolve_work_dir(str(tmp_path / 'missing'))


def test_work_dir_with_a_leftover_config_resolves_to_the_checkpoints_run(tmp_path):
    from mnext_det.evaluation.comparison import resolve_work_dir
    ckpt = tmp_path / 'epoch_2.pth'
    torch.save(dict(meta=dict(experiment_name='ssdlite_mobilenext_20261201_101500'),
                    state_dict={}), ckpt)
    (tmp_path / 'last_checkpoint').write_text(str(ckpt))
    for name in ('ssdlite_mobilenext.py', 'an_earlier_failed_run.py'):
        (tmp_path / name).write_text('model = dict()\n')
    assert resolve_work_dir(str(tmp_path)) == (str(tmp_path / 'ssdlite_mobilenext.py'),
                                               str(ckpt))
    (tmp_path / 'ssdlite_mobilenext.py').unlink()
    (tmp_path / 'another_leftover.py').write_text('model = dict()\n')
    with pytest.raises(ValueError, match="names none of them.*'ssdlite_mobilenext'"):
        resolve_work_dir(str(tmp_path))
