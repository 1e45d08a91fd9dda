"""tools/dataset_converters/fashion_mnist_to_coco_scenes.py: writes a COCO set
the project's dataset check passes, refuses to overwrite one, names bad input.
The first conversion starts the tool as a user does; the other runs, which end
at once or check the written set, run ``__main__`` in this process
(tests/tool_main.py)."""
import os
import os.path as osp
import subprocess
import sys

from ..fault_injection import ROOT
from ..test_datasets.fashion_idx import write_fashion_src
from ..tool_main import run_main

TOOL = osp.join(ROOT, 'tools', 'dataset_converters', 'fashion_mnist_to_coco_scenes.py')
CHECK = osp.join(ROOT, 'tools', 'misc', 'check_dataset.py')


def _process(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))


def _run(*args):
    return run_main(*args, cwd=ROOT)


def test_writes_a_checked_coco_set_and_refuses_to_overwrite_it(tmp_path):
    src = write_fashion_src(str(tmp_path / 'src'), [0, 5, 9] * 3, [1, 2])
    out = str(tmp_path / 'scenes')
    proc = _process(TOOL, out, '--src', src, '--num-train', '4', '--num-val', '2')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f'wrote {out}: 4 train / 2 val scenes of 480 x 360')
    for split in ('train', 'val'):
        check = _run(CHECK, 'coco', osp.join(out, 'annotations', f'instances_{split}.json'),
                     osp.join(out, 'images'))
        assert check.returncode == 0 and 'result: OK' in check.stdout, check.stdout
    again = _run(TOOL, out, '--src', src, '--num-train', '4')
    assert again.returncode == 2
    assert again.stderr.strip() == (f'error: {out}/annotations/instances_train.json exists: OUT '
                                    'already holds a dataset (--force overwrites it)')
    assert _run(TOOL, out, '--src', src, '--num-train', '4', '--force').returncode == 0


def test_names_a_missing_source_and_a_bad_count(tmp_path):
    missing = _run(TOOL, str(tmp_path / 'o'), '--src', str(tmp_path))
    assert missing.returncode == 2
    assert f'error: no train images idx file in {tmp_path}' in missing.stderr
    bad = _run(TOOL, str(tmp_path / 'o'), '--num-train', '-3')
    assert bad.returncode == 2
    assert 'error: FashionScenesConfig.num_train must be an integer >= 0, got -3' in bad.stderr
