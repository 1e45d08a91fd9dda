"""tools/dist_train.sh and dist_test.sh refuse a missing config and a process
count torchrun cannot take (0, 'two': torchrun's traceback before) in one
line, exit 2, before torchrun starts."""
import os.path as osp
import subprocess

import pytest

from ..conftest import DEMO_DET, ROOT


def _dist(script, *args):
    return subprocess.run(['bash', osp.join(ROOT, 'tools', script), *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


@pytest.mark.parametrize('nprocs', ['0', '00', 'two', '2x'])
@pytest.mark.parametrize('script, before', [('dist_train.sh', ()),
                                            ('dist_test.sh', ('epoch_1.pth', ))])
def test_bad_process_count_is_refused(script, before, nprocs):
    run = _dist(script, DEMO_DET, *before, nprocs)
    assert (run.returncode, run.stderr) == (
        2, f"error: NUM_PROCS must be a number >= 1 (or auto, cpu, gpu), got '{nprocs}'\n")


def test_missing_config_is_refused(tmp_path):
    missing = str(tmp_path / 'missing.py')
    run = _dist('dist_train.sh', missing, '2')
    assert (run.returncode, run.stderr) == (2, f'error: config file not found: {missing}\n')
