"""Planning a study: runs, budgets, refusals of unfair comparisons and bad input.
tools/study.py's dry runs and refusals run its ``__main__`` in this process
(tests/tool_main.py); test_quick_study.py starts it as a user does."""
import os.path as osp

import pytest

from mnext_det.study import ConfigSpec, parse_config_spec, parse_lr_grid, plan_study, study_metric

from ..conftest import ROOT
from ..tool_main import run_main

pytest.importorskip('mmdet')
BASE = osp.join(ROOT, 'configs/demo/ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py')
NEXT = osp.join(ROOT, 'configs/demo/ssdlite_mobilenext-050_1xb8-10e_shapes-160.py')
SPECS = [ConfigSpec('v2', BASE), ConfigSpec('next', NEXT)]
VOC = osp.join(ROOT, 'configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-360e_voc0712.py')


def _study(*args):
    return run_main(osp.join(ROOT, 'tools', 'study.py'), *args, cwd=ROOT)


def test_plan_is_seed_major_with_equal_budgets(tmp_path):
    runs = plan_study(SPECS, [0, 1, 2], str(tmp_path), lr_grid={'next': [1e-3, 2e-3]},
                      cfg_options=['train_cfg.max_epochs=4'])
    assert [(r.label, r.seed, r.lr) for r in runs[:3]] == [('v2', 0, None), ('next', 0, 1e-3),
                                                          ('next', 0, 2e-3)]
    assert len(runs) == 9 and [r.index for r in runs] == list(range(9))
    assert {r.max_epochs for r in runs} == {4}
    assert runs[1].options == ('train_cfg.max_epochs=4', 'randomness.seed=0',
                               'optim_wrapper.optimizer.lr=0.001')
    assert runs[1].work_dir == osp.join(str(tmp_path), 'next', 'lr0.001', 'seed0')
    # same config and lr -> same hash for every seed; another lr -> another hash
    assert len({r.config_hash for r in runs if r.label == 'next' and r.lr == 1e-3}) == 1
    assert runs[1].config_hash != runs[2].config_hash


def test_hash_ignores_custom_imports_only(tmp_path):
    # custom_imports only names modules to import: finished runs stay valid when it changes
    def next_hash(*options):
        return plan_study(SPECS, [0], str(tmp_path), cfg_options=list(options))[1].config_hash
    plain = next_hash()
    assert next_hash('custom_imports.imports=[mnext_det.detection,mnext_det.engine]') == plain
    assert next_hash('model.bbox_head.anchor_generator.ratios=[[2],[2],[2],[2],[2],[3]]') != plain


def test_unfair_configs_are_refused_with_the_key(tmp_path):
    other = tmp_path / 'longer_schedule.py'
    other.write_text(f"_base_ = '{NEXT}'\ntrain_cfg = dict(max_epochs=12)\n"
                     "model = dict(neck=dict(use_depthwise=False))\n")
    specs = [SPECS[0], ConfigSpec('longer', str(other))]
    with pytest.raises(ValueError) as err:
        plan_study(specs, [0], str(tmp_path))
    msg = str(err.value)
    assert str(other) in msg and 'train_cfg.max_epochs' in msg and 'model.neck.use_depthwise' in msg
    assert '--allow-config-diff' in msg
    assert len(plan_study(specs, [0], str(tmp_path), allow_config_diff=True)) == 2


@pytest.mark.parametrize('seeds,match', [([0, 1, 0], r'duplicates \[0\]'), ([], 'at least one')])
def test_bad_seed_lists_are_refused(tmp_path, seeds, match):
    with pytest.raises(ValueError, match=match):
        plan_study(SPECS, seeds, str(tmp_path))


def test_bad_specs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.py'):
        parse_config_spec('x=nope.py')
    assert parse_config_spec(f'base={BASE}') == ConfigSpec('base', BASE)
    assert parse_config_spec(BASE).label == 'ssdlite_mobilenetv2-050_1xb8-10e_shapes-160'
    with pytest.raises(ValueError, match='two or more'):
        plan_study(SPECS[:1], [0], str(tmp_path))
    with pytest.raises(ValueError, match='duplicate config labels'):
        plan_study([SPECS[0], SPECS[0]], [0], str(tmp_path))
    with pytest.raises(ValueError, match="no config labelled 'v3'"):
        parse_lr_grid(['v3=1e-3'], ['v2', 'next'])
    with pytest.raises(ValueError, match='distinct learning rates > 0'):
        parse_lr_grid(['1e-3,-1'], ['v2', 'next'])
    assert parse_lr_grid(['1e-3,2e-3', 'next=4e-3'], ['v2', 'next']) == {
        'v2': [1e-3, 2e-3], 'next': [4e-3]}


def test_slurm_dry_run_prints_one_array_of_the_planned_runs(tmp_path):
    out = _study(f'v2={BASE}', f'next={NEXT}', '--seeds', '0', '1', '2', '--work-dir',
                 str(tmp_path), '--launcher', 'slurm', '--dry-run', '--cfg-options',
                 'train_cfg.max_epochs=2')
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [ln for ln in lines if ln.startswith('#SBATCH --array')] == ['#SBATCH --array=0-5']
    tasks = [ln.strip() for ln in lines if 'tools/train.py' in ln]
    assert len(tasks) == 6
    expected = [(label, seed) for seed in (0, 1, 2) for label in ('v2', 'next')]
    for task, (label, seed) in zip(tasks, expected):
        assert f'--work-dir {osp.join(str(tmp_path), label, f"seed{seed}")} --resume' in task
        assert task.endswith(f'train_cfg.max_epochs=2 randomness.seed={seed} ;;')
        assert (NEXT if label == 'next' else BASE) in task
    assert not (tmp_path / 'study.sbatch').exists()  # dry run: nothing written or submitted


def test_tool_reports_bad_input_as_one_line(tmp_path):
    out = _study(BASE, NEXT, '--seeds', '1', '1', '--work-dir', str(tmp_path), '--dry-run')
    assert out.returncode == 2 and out.stderr.strip().startswith('error: --seeds has duplicates')
    out = _study(BASE, 'missing.py', '--work-dir', str(tmp_path), '--dry-run')
    assert 'error: config file not found: missing.py' in out.stderr
    for flag in ('--parallel', '--threads', '--gpus-per-task'):
        out = _study(BASE, NEXT, '--work-dir', str(tmp_path), flag, '0', '--dry-run')
        assert (out.returncode, out.stderr) == (2, f'error: {flag} must be at least 1, got 0\n')


def test_metric_defaults_to_the_evaluators_map_and_must_be_one_it_reports(tmp_path):
    coco, voc = ConfigSpec('v2', BASE), ConfigSpec('voc', VOC)
    assert study_metric(coco) == 'coco/bbox_mAP' and study_metric(voc) == 'pascal_voc/mAP'
    assert study_metric(coco, metric='coco/bbox_mAP_50') == 'coco/bbox_mAP_50'
    assert study_metric(voc, metric='pascal_voc/AP50') == 'pascal_voc/AP50'
    with pytest.raises(ValueError, match=f"{VOC} evaluates with VOCMetric, which reports "
                       r"pascal_voc/\.\.\. metrics"):
        study_metric(voc, metric='coco/bbox_mAP')  # the old default: failed after training
    with pytest.raises(ValueError, match="--metric 'bbox_mAP' is not one the study reports"):
        study_metric(coco, metric='bbox_mAP')
    no_default = ['val_evaluator.type=DumpDetResults']
    with pytest.raises(ValueError, match="no default study metric for val_evaluator "
                       "'DumpDetResults'; give --metric"):
        study_metric(coco, no_default)
    out = _study(VOC, VOC.replace('mobilenetv2-scratch', 'mobilenext-100-scratch'),
                 '--work-dir', str(tmp_path), '--metric', 'coco/bbox_mAP', '--dry-run')
    assert out.returncode == 2 and 'evaluates with VOCMetric' in out.stderr
