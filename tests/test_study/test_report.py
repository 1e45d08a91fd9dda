"""mnext_det/study/report.py on made-up results: what mmdet could not
compute is not summarised as a score."""
import pytest

from mnext_det.study import write_report


def _results():
    out = []
    for label, ap in (('mobilenetv2', 0.30), ('mobilenext', 0.35)):
        for seed in (0, 1, 2):
            val = {'coco/bbox_mAP': ap + 0.01 * seed, 'coco/bbox_mAP_m': 0.4,
                   'coco/bbox_mAP_l': -1.0}  # CocoMetric's -1: no large objects in the split
            out.append(dict(config=f'{label}.py', label=label, seed=seed, lr=None,
                            metrics=dict(val=val), wall_s=60., config_hash='h',
                            curve=[dict(epoch=1, **val)]))
    return out


def test_a_metric_mmdet_could_not_compute_is_left_out_and_named(tmp_path):
    """``summarize([-1, -1, -1])`` is ``-1.000 ± 0.000 [-1.000, -1.000]``,
    which reads as a score measured without spread."""
    results = _results()
    study = write_report(str(tmp_path), results, ['mobilenetv2', 'mobilenext'],
                         'coco/bbox_mAP', 'cmd')
    assert 'coco/bbox_mAP_l' not in study['summary']['mobilenext']
    assert 'coco/bbox_mAP_l' not in study['paired_differences']['mobilenext']
    assert study['summary']['mobilenext']['coco/bbox_mAP_m']['n'] == 3
    assert study['not_computed'] == ['coco/bbox_mAP_l']
    text = (tmp_path / 'study.md').read_text()
    assert '-1.000' not in text
    assert 'Not computed by mmdet on this split (-1 in its results' in text
    with pytest.raises(ValueError, match=r"metric 'coco/bbox_mAP_l' is -1 in the val results: "
                       'mmdet could not compute it'):
        write_report(str(tmp_path), results, ['mobilenetv2', 'mobilenext'],
                     'coco/bbox_mAP_l', 'cmd')


def test_voc_columns_name_the_eval_mode(tmp_path):
    """VOC2007's 11-point and VOC2010's area AP differ: the study table says which."""
    import os.path as osp

    from ..conftest import ROOT
    voc = osp.join(ROOT, 'configs', 'ssdlite',
                   'ssdlite_mobilenext-100-scratch_8xb24-360e_voc0712.py')
    results = [dict(config=voc, label=label, seed=seed, lr=None, wall_s=1., config_hash='h',
                    metrics=dict(val={'pascal_voc/mAP': 0.5 + 0.1 * i + 0.01 * seed}), curve=[])
               for i, label in enumerate(('a', 'b')) for seed in (0, 1)]
    study = write_report(str(tmp_path), results, ['a', 'b'], 'pascal_voc/mAP', 'cmd')
    assert study['voc_eval_mode'] == '11points'
    assert '| config | lr | seeds | pascal_voc/mAP (VOC 11points) |' in (
        tmp_path / 'study.md').read_text()
